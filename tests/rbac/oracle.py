"""A deliberately naive RBAC authorizer over raw objects, used as an oracle for the index.

It walks every ClusterRoleBinding, then every RoleBinding of the request's namespace, resolves the
role by a linear search and tries each rule, written independently of stockade.rbac. It knows
nothing of aggregation: the property tests feed it plain roles only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stockade.rbac import Request

Raw = Mapping[str, Any]


def _in(values: Sequence[str] | None, wanted: str) -> bool:
    return any(v == "*" or v == wanted for v in values or ())


def _resource_ok(entries: Sequence[str] | None, request: Request) -> bool:
    combined = request.resource + ("/" + request.subresource if request.subresource else "")
    for entry in entries or ():
        if entry in ("*", combined):
            return True
        if request.subresource and entry.startswith("*/") and entry[2:] == request.subresource:
            return True
    return False


def _url_ok(entries: Sequence[str] | None, path: str) -> bool:
    for entry in entries or ():
        if entry in ("*", path):
            return True
        if entry.endswith("*"):
            prefix = entry
            while prefix.endswith("*"):
                prefix = prefix[:-1]
            if path.startswith(prefix):
                return True
    return False


def rule_ok(rule: Raw, request: Request) -> bool:
    if not _in(rule.get("verbs"), request.verb):
        return False
    if request.non_resource_url is not None:
        return _url_ok(rule.get("nonResourceURLs"), request.non_resource_url)
    names = rule.get("resourceNames") or []
    return (
        _in(rule.get("apiGroups"), request.api_group)
        and _resource_ok(rule.get("resources"), request)
        and (not names or request.name in names)
    )


def _subject_ok(subject: Raw, user: str, groups: Sequence[str], namespace: str) -> bool:
    kind = subject.get("kind")
    if kind == "User":
        return bool(subject.get("name") == user)
    if kind == "Group":
        return subject.get("name") in groups
    if kind == "ServiceAccount":
        sa_namespace = subject.get("namespace") or namespace
        return bool(sa_namespace) and user == f"system:serviceaccount:{sa_namespace}:{subject.get('name')}"
    return False


def _rules(objects: Sequence[Raw], ref: Raw, namespace: str) -> list[Raw]:
    for obj in objects:
        meta = obj.get("metadata") or {}
        if obj.get("kind") != ref.get("kind") or meta.get("name") != ref.get("name"):
            continue
        if obj["kind"] == "Role" and (not namespace or (meta.get("namespace") or "default") != namespace):
            continue
        if obj["kind"] not in ("Role", "ClusterRole"):
            continue
        return list(obj.get("rules") or [])
    return []


def allowed(objects: Sequence[Raw], user: str, groups: Sequence[str], request: Request) -> bool:
    if "system:masters" in groups:
        return True
    namespace = "" if request.non_resource_url is not None else (request.namespace or "")
    bindings = [(o, "") for o in objects if o.get("kind") == "ClusterRoleBinding"]
    if namespace:
        bindings += [
            (o, namespace)
            for o in objects
            if o.get("kind") == "RoleBinding" and ((o.get("metadata") or {}).get("namespace") or "default") == namespace
        ]
    for binding, binding_ns in bindings:
        if not any(_subject_ok(s, user, groups, binding_ns) for s in binding.get("subjects") or []):
            continue
        if any(rule_ok(r, request) for r in _rules(objects, binding["roleRef"], binding_ns)):
            return True
    return False
