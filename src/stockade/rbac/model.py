"""Value types of the RBAC engine: rules, subjects, requests and the answers with their reasons."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, NamedTuple

from stockade.model.resource import Origin

SubjectKind = Literal["User", "Group", "ServiceAccount"]

# Reserved identities the API server gives meaning to.
MASTERS_GROUP = "system:masters"
AUTHENTICATED_GROUP = "system:authenticated"
UNAUTHENTICATED_GROUP = "system:unauthenticated"
ANONYMOUS_USER = "system:anonymous"
SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts"
SERVICE_ACCOUNT_USER_PREFIX = "system:serviceaccount:"


def service_account_username(namespace: str, name: str) -> str:
    """The username a ServiceAccount token authenticates as (singular ``serviceaccount``)."""
    return f"{SERVICE_ACCOUNT_USER_PREFIX}{namespace}:{name}"


def service_account_groups(namespace: str) -> tuple[str, str]:
    """The groups every ServiceAccount of ``namespace`` is in (plural ``serviceaccounts``)."""
    return (SERVICE_ACCOUNTS_GROUP, f"{SERVICE_ACCOUNTS_GROUP}:{namespace}")


class ObjectRef(NamedTuple):
    """An RBAC object by identity; ``namespace`` is None for cluster-scoped kinds.

    A named tuple rather than a frozen dataclass: it is a dictionary key in every RBAC lookup
    (hundreds of thousands in a large cluster's RB scan), and a tuple hashes in C where a
    dataclass runs a Python ``__hash__`` each time.

    ``definition`` tells apart objects of one identity declared more than once in manifests (0 for
    the first, 1 for the next...): each is judged on its own. A reference (a binding's roleRef)
    is the identity alone, definition 0; it resolves to every definition. Printed, they look alike.
    """

    kind: str
    namespace: str | None
    name: str
    definition: int = 0

    @property
    def identity(self) -> ObjectRef:
        """The object as a reference names it, whichever definition this is."""
        return ObjectRef(self.kind, self.namespace, self.name) if self.definition else self

    def __str__(self) -> str:
        if self.namespace is None:
            return f"{self.kind}/{self.name}"
        return f"{self.kind}/{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """One entry of a role's ``rules``; empty tuples where the manifest left a field out."""

    verbs: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    def __str__(self) -> str:
        parts = []
        if self.api_groups:
            parts.append("apiGroups=" + ",".join(g or '""' for g in self.api_groups))
        if self.resources:
            parts.append("resources=" + ",".join(self.resources))
        if self.non_resource_urls:
            parts.append("nonResourceURLs=" + ",".join(self.non_resource_urls))
        if self.resource_names:
            parts.append("resourceNames=" + ",".join(self.resource_names))
        parts.append("verbs=" + ",".join(self.verbs))
        return "{" + " ".join(parts) + "}"


@dataclass(frozen=True, slots=True, order=True)
class Subject:
    """Who a binding names. ``namespace`` is set for ServiceAccounts only."""

    kind: SubjectKind
    name: str
    namespace: str | None = None

    @classmethod
    def user(cls, name: str) -> Subject:
        return cls("User", name)

    @classmethod
    def group(cls, name: str) -> Subject:
        return cls("Group", name)

    @classmethod
    def service_account(cls, namespace: str, name: str) -> Subject:
        return cls("ServiceAccount", name, namespace)

    @property
    def username(self) -> str | None:
        """The username the API server sees for this subject; None for a group."""
        if self.kind == "User":
            return self.name
        if self.kind == "ServiceAccount" and self.namespace:
            return service_account_username(self.namespace, self.name)
        return None

    def __str__(self) -> str:
        if self.kind == "ServiceAccount":
            return f"ServiceAccount/{self.namespace}/{self.name}"
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class Request:
    """What is asked, with the attributes the authorizer sees.

    A resource request names ``resource`` (plural, lower case), an optional ``subresource``
    (``exec`` for ``pods/exec``; ``resource="pods/exec"`` is split into the two), ``api_group``
    (``""`` is the core group), ``name`` (empty for create, list, watch and deletecollection) and
    ``namespace`` (None for cluster-scoped resources). A non-resource request sets
    ``non_resource_url`` (``/healthz``) and is never namespaced. Verbs are the API verbs (``get``,
    ``create``...) or custom ones (``bind``, ``escalate``, ``impersonate``); a verb ``*`` asks for
    a rule that grants every verb.
    """

    verb: str
    resource: str = ""
    subresource: str = ""
    api_group: str = ""
    name: str = ""
    namespace: str | None = None
    non_resource_url: str | None = None

    def __post_init__(self) -> None:
        # "pods/exec" as the resource is how people write it; the authorizer sees two attributes.
        if self.non_resource_url is None and not self.subresource and "/" in self.resource:
            resource, _, subresource = self.resource.partition("/")
            object.__setattr__(self, "resource", resource)
            object.__setattr__(self, "subresource", subresource)

    @property
    def is_resource_request(self) -> bool:
        return self.non_resource_url is None

    @property
    def scope(self) -> str | None:
        """The namespace the authorizer evaluates in: None for cluster-wide and non-resource requests."""
        if self.non_resource_url is not None or not self.namespace:
            return None
        return self.namespace

    @property
    def combined_resource(self) -> str:
        """``resource/subresource`` as matched against rules, or ``resource`` alone."""
        if self.subresource:
            return f"{self.resource}/{self.subresource}"
        return self.resource

    def __str__(self) -> str:
        if self.non_resource_url is not None:
            return f"{self.verb} {self.non_resource_url}"
        what = self.combined_resource
        if self.api_group:
            what = f"{what}.{self.api_group}"
        if self.name:
            what = f"{what} {self.name!r}"
        where = f" in namespace {self.namespace}" if self.scope else " cluster-wide"
        return f"{self.verb} {what}{where}"


@dataclass(frozen=True, slots=True)
class Grant:
    """Why a subject holds a permission: the binding, the bound role and the rule in it.

    ``rule_index`` is the rule's position in the role's effective rules. For an aggregated
    ClusterRole those rules are computed, so ``source`` names the ClusterRole that declares the
    rule and ``source_index`` its position there; otherwise ``source`` is ``role``.
    ``subject`` is the binding subject that matched (a ServiceAccount's namespace filled in).
    """

    binding: ObjectRef
    role: ObjectRef
    rule_index: int
    rule: PolicyRule
    subject: Subject
    source: ObjectRef
    source_index: int

    @property
    def namespace(self) -> str | None:
        """Where the grant applies: the RoleBinding's namespace, or None for cluster-wide."""
        return self.binding.namespace

    def __str__(self) -> str:
        via = "" if self.source == self.role else f" (aggregated from {self.source} rule {self.source_index})"
        return f"{self.binding} → {self.role} rule {self.rule_index} {self.rule}{via} for {self.subject}"


@dataclass(frozen=True, slots=True)
class RbacProblem:
    """Something in the RBAC objects that could not be used as written (never raised, always listed)."""

    code: str
    message: str
    object: ObjectRef
    origin: Origin | None = None

    def __str__(self) -> str:
        where = f"{self.origin.place}: " if self.origin is not None else ""
        return f"{where}{self.object}: {self.message} [{self.code}]"


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to "can this identity do this?" with every grant that allows it.

    ``superuser`` is True when a group of the identity is ``system:masters``, which the API
    server authorizes before RBAC is consulted; ``grants`` then still lists any RBAC grants.
    ``problems`` are the resolution problems met while answering (a binding to a missing role),
    the same ones the API server would report with a denial.
    """

    request: Request
    allowed: bool
    grants: tuple[Grant, ...] = ()
    superuser: bool = False
    problems: tuple[RbacProblem, ...] = ()

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True, slots=True)
class WhoCan:
    """Every binding subject that can make ``request``, each with the grant that allows it.

    Members of ``superuser_groups`` can do it too, whatever the bindings say.
    """

    request: Request
    grants: tuple[Grant, ...]
    superuser_groups: tuple[str, ...] = (MASTERS_GROUP,)

    @property
    def subjects(self) -> tuple[Subject, ...]:
        """Distinct subjects with a grant, in order of first appearance."""
        return tuple(dict.fromkeys(g.subject for g in self.grants))

    def __iter__(self) -> Iterator[Grant]:
        return iter(self.grants)

    def __len__(self) -> int:
        return len(self.grants)


@dataclass(frozen=True, slots=True)
class Permission:
    """One rule a subject holds and where: ``namespace`` None means cluster-wide."""

    namespace: str | None
    rule: PolicyRule
    grant: Grant
