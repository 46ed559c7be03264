"""Small clusters for attack-graph tests, built as plain objects and read through stockade.scan()."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from stockade.paths import Analysis, Attack, AttackGraph, Edge, analyse
from tests.helpers import scan_objects

Raw = dict[str, Any]
RBAC = "rbac.authorization.k8s.io/v1"


def namespace(name: str, **labels: str) -> Raw:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def container(name: str = "app", *, ports: Iterable[int | tuple[int, str]] = (8080,), **fields: Any) -> Raw:
    declared = []
    for port in ports:
        number, port_name = port if isinstance(port, tuple) else (port, "")
        declared.append({"containerPort": number, **({"name": port_name} if port_name else {})})
    return {"name": name, "image": f"registry.example.com/{name}:1.0", "ports": declared, **fields}


def deployment(
    name: str,
    ns: str = "shop",
    *,
    containers: Iterable[Raw] | None = None,
    labels: Mapping[str, str] | None = None,
    account: str = "",
    kind: str = "Deployment",
    **spec: Any,
) -> Raw:
    pod_spec: Raw = {"containers": list(containers) if containers is not None else [container()], **spec}
    if account:
        pod_spec["serviceAccountName"] = account
    template = {"metadata": {"labels": dict(labels or {"app": name})}, "spec": pod_spec}
    group = "apps/v1"
    body: Raw = {"template": template}
    if kind != "DaemonSet":
        body["selector"] = {"matchLabels": dict(labels or {"app": name})}
    else:
        body["selector"] = {"matchLabels": dict(labels or {"app": name})}
    return {"apiVersion": group, "kind": kind, "metadata": {"name": name, "namespace": ns}, "spec": body}


def service(
    name: str,
    ns: str = "shop",
    *,
    selector: Mapping[str, str] | None = None,
    kind: str = "LoadBalancer",
    port: int = 80,
    target: int | str = 8080,
    annotations: Mapping[str, str] | None = None,
) -> Raw:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "annotations": dict(annotations or {})},
        "spec": {
            "type": kind,
            "selector": dict(selector or {"app": name}),
            "ports": [{"port": port, "targetPort": target}],
        },
    }


def service_account(name: str, ns: str = "shop", **fields: Any) -> Raw:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}, **fields}


def rule(
    verbs: list[str], resources: list[str], groups: list[str] | None = None, names: list[str] | None = None
) -> Raw:
    entry: Raw = {"apiGroups": groups if groups is not None else [""], "resources": resources, "verbs": verbs}
    if names:
        entry["resourceNames"] = names
    return entry


def role(name: str, rules: list[Raw], ns: str | None = "shop") -> Raw:
    kind = "Role" if ns else "ClusterRole"
    metadata: Raw = {"name": name, **({"namespace": ns} if ns else {})}
    return {"apiVersion": RBAC, "kind": kind, "metadata": metadata, "rules": rules}


def binding(name: str, role_name: str, subjects: list[Raw], ns: str | None = "shop", role_kind: str = "") -> Raw:
    kind = "RoleBinding" if ns else "ClusterRoleBinding"
    metadata: Raw = {"name": name, **({"namespace": ns} if ns else {})}
    ref = {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": role_kind or ("Role" if ns else "ClusterRole"),
        "name": role_name,
    }
    return {"apiVersion": RBAC, "kind": kind, "metadata": metadata, "roleRef": ref, "subjects": subjects}


def sa_subject(name: str, ns: str = "shop") -> Raw:
    return {"kind": "ServiceAccount", "name": name, "namespace": ns}


def user_subject(name: str) -> Raw:
    return {"kind": "User", "name": name, "apiGroup": "rbac.authorization.k8s.io"}


def group_subject(name: str) -> Raw:
    return {"kind": "Group", "name": name, "apiGroup": "rbac.authorization.k8s.io"}


def grant(name: str, rules: list[Raw], subject: Raw, ns: str | None = "shop") -> list[Raw]:
    """A role and a binding of it to ``subject``."""
    return [role(name, rules, ns), binding(name, name, [subject], ns)]


def network_policy(name: str, ns: str = "shop", *, selector: Mapping[str, Any] | None = None, **spec: Any) -> Raw:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"podSelector": dict(selector or {}), **spec},
    }


def analysis_of(objects: Iterable[Raw], jewels: Iterable[str] = ()) -> Analysis:
    result = scan_objects(list(objects))
    assert result.errors == [], result.errors
    return analyse(result, tuple(jewels))


def graph_of(objects: Iterable[Raw]) -> AttackGraph:
    return analysis_of(objects).graph


def edges(
    graph: AttackGraph, source: str | None = None, target: str | None = None, attack: Attack | None = None
) -> list[Edge]:
    return [
        e
        for e in graph.edges
        if (source is None or e.source == source)
        and (target is None or e.target == target)
        and (attack is None or e.attack is attack)
    ]


def attacks_from(graph: AttackGraph, source: str) -> set[Attack]:
    return {e.attack for e in graph.edges if e.source == source}
