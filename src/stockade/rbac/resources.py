"""Resources and subjects as people type them (``deploy``, ``pods/exec``, ``sa:ci:deployer``) → authorizer attributes.

Without an API server to ask (kubectl uses discovery), the API group and scope of the built-in
resources come from the built-in table (:mod:`stockade.model.kinds`) and the authorization-only
resources below; anything else must carry its group (``widgets.example.com`` or ``--api-group``)
and is taken as namespaced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from stockade.errors import RbacQueryError
from stockade.model.kinds import BY_PLURAL, SHORT_NAMES
from stockade.rbac.model import SERVICE_ACCOUNT_USER_PREFIX, Request, Subject

# Resources RBAC rules name that are no kind of object: the authorizer checks them for
# impersonation (users, groups, uids, userextras) and certificate signing (signers).
AUTHORIZATION_ONLY: Mapping[str, str] = {
    "users": "",
    "groups": "",
    "uids": "authentication.k8s.io",
    "userextras": "authentication.k8s.io",
    "signers": "certificates.k8s.io",
}

# plural → API group, and the cluster-scoped plurals: the built-in table plus the above.
GROUPS: Mapping[str, str] = {**{plural: t.group for plural, t in BY_PLURAL.items()}, **AUTHORIZATION_ONLY}
CLUSTER_SCOPED: frozenset[str] = frozenset(
    {plural for plural, t in BY_PLURAL.items() if not t.namespaced} | AUTHORIZATION_ONLY.keys()
)


def is_cluster_scoped(group: str, resource: str) -> bool:
    """Whether ``resource`` (``plural`` or ``plural/subresource``) of ``group`` is a built-in cluster-scoped one."""
    plural = resource.partition("/")[0]
    return plural in CLUSTER_SCOPED and GROUPS.get(plural) == group


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """What the authorizer sees for a typed resource; ``non_resource_url`` for ``/healthz`` and the like."""

    resource: str = ""
    subresource: str = ""
    api_group: str = ""
    cluster_scoped: bool = False
    non_resource_url: str | None = None


# Resource and subresource names and API groups: lower-case DNS labels (a group: dot-separated).
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", re.IGNORECASE)


def parse_resource(text: str, api_group: str | None = None) -> ResourceSpec:
    """``deploy`` / ``deployments.apps`` / ``pods/exec`` / ``widgets.example.com/status`` / ``/healthz``.

    ``api_group`` (``--api-group``) wins over a group written in ``text`` and over the table.
    """
    text = text.strip()
    if text.startswith("/"):
        return ResourceSpec(non_resource_url=text)
    base, _, subresource = text.partition("/")
    if not base:
        raise RbacQueryError(f"{text!r} names no resource")
    if "/" in subresource:
        raise RbacQueryError(f"{text!r}: a resource has one subresource at most (RESOURCE[.GROUP][/SUBRESOURCE])")
    resource, _, group = base.partition(".")
    for part, what in ((resource, "resource"), (subresource, "subresource"), (group, "API group")):
        if part and part != "*" and not _NAME.fullmatch(part):
            raise RbacQueryError(f"{text!r}: {part!r} is not a valid {what} name")
    if subresource == "" and text.endswith("/"):
        raise RbacQueryError(f"{text!r}: empty subresource")
    resource = SHORT_NAMES.get(resource.lower(), resource.lower())
    if api_group is not None:
        group = api_group
    elif not group:
        group = GROUPS.get(resource, "")
    # The same plural can be namespaced in one group and cluster-scoped in another (rare); trust the table
    # only for the group it knows.
    return ResourceSpec(resource, subresource, group, is_cluster_scoped(group, resource))


def request_for(spec: ResourceSpec, verb: str, name: str = "", namespace: str | None = None) -> Request:
    """The request ``verb`` on ``spec`` makes; a cluster-scoped resource ignores ``namespace``."""
    if spec.non_resource_url is not None:
        return Request(verb, non_resource_url=spec.non_resource_url)
    return Request(
        verb,
        spec.resource,
        subresource=spec.subresource,
        api_group=spec.api_group,
        name=name,
        namespace=None if spec.cluster_scoped else namespace,
    )


SUBJECT_FORMS = "user:NAME, group:NAME or sa:NAMESPACE:NAME"


def parse_subject(text: str) -> Subject:
    """``user:jane``, ``group:devs``, ``sa:ci:deployer`` (also ``u:``, ``g:``, ``serviceaccount:``).

    A ServiceAccount's username (``user:system:serviceaccount:NS:NAME``) is that ServiceAccount.
    """
    kind, _, rest = text.partition(":")
    kind = kind.lower()
    if kind in ("user", "u") and rest:
        if rest.startswith(SERVICE_ACCOUNT_USER_PREFIX):
            namespace, _, name = rest.removeprefix(SERVICE_ACCOUNT_USER_PREFIX).partition(":")
            if namespace and name:
                return Subject.service_account(namespace, name)
        return Subject.user(rest)
    if kind in ("group", "g") and rest:
        return Subject.group(rest)
    if kind in ("sa", "serviceaccount"):
        namespace, _, name = rest.partition(":")
        if namespace and name and ":" not in name:
            return Subject.service_account(namespace, name)
    raise RbacQueryError(f"cannot read subject {text!r}: use {SUBJECT_FORMS}")
