"""The request a user policy judges, built from an object of the scan (or of the admission request)
and what the rule context knows: the object's Namespace, the request's operation and user."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import cache, lru_cache
from types import MappingProxyType
from typing import Any

from stockade.model.kinds import BUILTIN_TYPES
from stockade.model.resource import Resource
from stockade.policies.model import GroupVersionKind, GroupVersionResource, PolicyRequest
from stockade.rules.base import RuleContext

NAME_LABEL = "kubernetes.io/metadata.name"


@cache
def _plurals() -> Mapping[tuple[str, str], str]:
    return {(builtin.group, builtin.kind): builtin.plural for builtin in BUILTIN_TYPES}


def plural_of(group: str, kind: str, ctx: RuleContext | None = None) -> str:
    """The resource name of ``kind``: the built-in table, a CustomResourceDefinition of the scan,
    or the API server's default for a CRD (lower case, plural by the usual English endings)."""
    found = _plurals().get((group, kind))
    if found is not None:
        return found
    if ctx is not None:
        for crd in ctx.inventory.of_kind("CustomResourceDefinition"):
            spec = crd.raw.get("spec")
            names = spec.get("names") if isinstance(spec, Mapping) else None
            if (
                isinstance(spec, Mapping)
                and isinstance(names, Mapping)
                and spec.get("group") == group
                and names.get("kind") == kind
                and isinstance(names.get("plural"), str)
            ):
                return str(names["plural"])
    lower = kind.lower()
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    if lower.endswith("y") and lower[-2:-1] not in ("a", "e", "i", "o", "u"):
        return lower[:-1] + "ies"
    return lower + "s"


def namespace_object(resource: Resource, ctx: RuleContext) -> Mapping[str, Any] | None:
    """The Namespace ``resource`` is in: the scan's own, else one carrying the labels the webhook's
    namespace cache knows, else one with only the name label the API server sets on every namespace.
    The same namespace gives the same object each time (policies convert it once)."""
    namespace = ctx.inventory.effective_namespace(resource)
    if not namespace:
        return None
    found = ctx.inventory.get("Namespace", None, namespace)
    if found is not None:
        return found.raw
    labels: dict[str, str] = {NAME_LABEL: namespace}
    if ctx.request is not None and ctx.request.namespace_labels is not None:
        labels.update(ctx.request.namespace_labels)
    return _synthesized(namespace, tuple(sorted(labels.items())))


@lru_cache(maxsize=4096)
def _synthesized(name: str, labels: tuple[tuple[str, str], ...]) -> Mapping[str, Any]:
    return MappingProxyType(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(labels)}}
    )


class _Last(threading.local):
    """The request last built on this thread for an admission request: the policies judging its
    one object in turn share it. (A scan or the watcher judges rule by rule, and its inventory
    can change between two runs of one context: nothing is kept for them.)"""

    resource: Resource | None = None
    ctx: RuleContext | None = None
    request: PolicyRequest | None = None


_LAST = _Last()


def policy_request(resource: Resource, ctx: RuleContext) -> PolicyRequest:
    """``resource`` as an admission request: the webhook's real one, or a CREATE in a scan."""
    if ctx.request is None:
        return _built(resource, ctx)
    last = _LAST
    if last.resource is resource and last.ctx is ctx and last.request is not None:
        return last.request
    built = _built(resource, ctx)
    last.resource, last.ctx, last.request = resource, ctx, built
    return built


def _built(resource: Resource, ctx: RuleContext) -> PolicyRequest:
    group = resource.group
    version = resource.api_version.rpartition("/")[2]
    facts = ctx.request
    namespace = ctx.inventory.effective_namespace(resource) or ""
    return PolicyRequest(
        object=resource.raw,
        kind=GroupVersionKind(group, version, resource.kind),
        resource=GroupVersionResource(group, version, plural_of(group, resource.kind, ctx)),
        operation=facts.operation if facts is not None else "CREATE",
        old_object=facts.old_object if facts is not None else None,
        name=resource.name,
        namespace=namespace,
        sub_resource=facts.sub_resource if facts is not None else "",
        user_info=facts.user_info if facts is not None else {},
        dry_run=facts.dry_run if facts is not None else False,
        namespace_object=namespace_object(resource, ctx),
    )
