"""Small constructors for raw RBAC objects, so test tables read like the manifests they stand for."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from stockade.model.inventory import Inventory
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.rbac import RbacIndex

RBAC = "rbac.authorization.k8s.io/v1"
Raw = dict[str, Any]


def rule(
    verbs: Sequence[str],
    resources: Sequence[str] = (),
    groups: Sequence[str] = ("",),
    names: Sequence[str] = (),
) -> Raw:
    out: Raw = {"verbs": list(verbs), "apiGroups": list(groups), "resources": list(resources)}
    if names:
        out["resourceNames"] = list(names)
    return out


def urls(verbs: Sequence[str], paths: Sequence[str]) -> Raw:
    return {"verbs": list(verbs), "nonResourceURLs": list(paths)}


def user(name: str) -> Raw:
    return {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": name}


def group(name: str) -> Raw:
    return {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": name}


def sa(name: str, namespace: str | None = None) -> Raw:
    out: Raw = {"kind": "ServiceAccount", "name": name}
    if namespace is not None:
        out["namespace"] = namespace
    return out


def role(name: str, namespace: str, *rules: Raw) -> Raw:
    return {
        "apiVersion": RBAC,
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace},
        "rules": list(rules),
    }


def cluster_role(
    name: str,
    *rules: Raw,
    labels: Mapping[str, str] | None = None,
    selectors: Sequence[Mapping[str, Any]] | None = None,
) -> Raw:
    metadata: Raw = {"name": name}
    if labels:
        metadata["labels"] = dict(labels)
    out: Raw = {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": metadata, "rules": list(rules)}
    if selectors is not None:
        out["aggregationRule"] = {"clusterRoleSelectors": [dict(s) for s in selectors]}
    return out


def role_binding(name: str, namespace: str, ref_kind: str, ref_name: str, *subjects: Raw) -> Raw:
    return {
        "apiVersion": RBAC,
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": ref_kind, "name": ref_name},
        "subjects": list(subjects),
    }


def cluster_role_binding(name: str, ref_name: str, *subjects: Raw, ref_kind: str = "ClusterRole") -> Raw:
    return {
        "apiVersion": RBAC,
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": ref_kind, "name": ref_name},
        "subjects": list(subjects),
    }


def cluster_grant(*rules: Raw, subjects: Sequence[Raw] = (user("alice"),)) -> list[Raw]:
    """ClusterRole ``r`` with these rules bound cluster-wide by ClusterRoleBinding ``b``."""
    return [cluster_role("r", *rules), cluster_role_binding("b", "r", *subjects)]


def local_grant(*rules: Raw, namespace: str = "dev", subjects: Sequence[Raw] = (user("alice"),)) -> list[Raw]:
    """Role ``r`` in ``namespace`` bound there by RoleBinding ``b``."""
    return [role("r", namespace, *rules), role_binding("b", namespace, "Role", "r", *subjects)]


def scoped_grant(*rules: Raw, namespace: str = "dev", subjects: Sequence[Raw] = (user("alice"),)) -> list[Raw]:
    """ClusterRole ``r`` granted in ``namespace`` only, by RoleBinding ``b``."""
    return [cluster_role("r", *rules), role_binding("b", namespace, "ClusterRole", "r", *subjects)]


def inventory(raws: Iterable[Mapping[str, Any]], file: str = "rbac.yaml") -> Inventory:
    resources = []
    for position, raw in enumerate(raws):
        resource = resource_from_raw(raw, Origin(file, position, 1 + 10 * position))
        assert isinstance(resource, Resource), resource
        resources.append(resource)
    return Inventory(resources)


def index(raws: Iterable[Mapping[str, Any]], **options: bool) -> RbacIndex:
    return RbacIndex.build(inventory(raws), **options)
