"""The user-facing ClusterRoles every cluster has, for scans of manifests that bind them.

Every API server creates ``cluster-admin``, ``admin``, ``edit`` and ``view`` at start-up (and puts
them back if deleted). Manifests bind them by name without declaring them, so a scan of a chart or
a Git repository would otherwise see "a binding to a missing role" that grants nothing, and miss
that ``edit`` reads Secrets and runs pods as any ServiceAccount of its namespace.

`RbacIndex.build(..., assume_defaults=True)` adds the definitions below for the names the scanned
objects do not declare. ``admin``, ``edit`` and ``view`` are aggregated, exactly as on a cluster:
their rules come from ``system:aggregate-to-*`` sources plus every scanned ClusterRole labelled
``rbac.authorization.k8s.io/aggregate-to-<role>: "true"``. The rules follow the Kubernetes 1.30
bootstrap policy; a live cluster's own objects, when scanned, always take precedence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stockade.rbac.parse import RBAC_GROUP

AGGREGATE_TO = "rbac.authorization.k8s.io/aggregate-to-"
BOOTSTRAP_LABEL = "kubernetes.io/bootstrapping"
BOOTSTRAP_VALUE = "rbac-defaults"

READ = ("get", "list", "watch")
WRITE = ("create", "delete", "deletecollection", "patch", "update")

# The four roles whose names are reserved by convention; anything bound by these names is Kubernetes'.
USER_FACING = ("cluster-admin", "admin", "edit", "view")

Raw = dict[str, Any]


def _rule(verbs: tuple[str, ...], group: str, *resources: str) -> Raw:
    return {"apiGroups": [group], "resources": list(resources), "verbs": list(verbs)}


_VIEW = (
    _rule(
        READ,
        "",
        "pods",
        "replicationcontrollers",
        "replicationcontrollers/scale",
        "serviceaccounts",
        "services",
        "services/status",
        "endpoints",
        "persistentvolumeclaims",
        "persistentvolumeclaims/status",
        "configmaps",
    ),
    _rule(
        READ,
        "",
        "limitranges",
        "resourcequotas",
        "bindings",
        "events",
        "pods/status",
        "resourcequotas/status",
        "namespaces/status",
        "replicationcontrollers/status",
        "pods/log",
    ),
    _rule(READ, "", "namespaces"),
    _rule(READ, "discovery.k8s.io", "endpointslices"),
    _rule(
        READ,
        "apps",
        "controllerrevisions",
        "statefulsets",
        "statefulsets/status",
        "statefulsets/scale",
        "daemonsets",
        "daemonsets/status",
        "deployments",
        "deployments/status",
        "deployments/scale",
        "replicasets",
        "replicasets/status",
        "replicasets/scale",
    ),
    _rule(READ, "autoscaling", "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
    _rule(READ, "batch", "jobs", "cronjobs", "cronjobs/status", "jobs/status"),
    _rule(READ, "policy", "poddisruptionbudgets", "poddisruptionbudgets/status"),
    _rule(READ, "networking.k8s.io", "networkpolicies", "ingresses", "ingresses/status"),
)

_EDIT = (
    # Reading these is already escalating: Secrets hold credentials, exec runs code.
    _rule(READ, "", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"),
    _rule(("impersonate",), "", "serviceaccounts"),
    _rule(WRITE, "", "pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"),
    _rule(("create",), "", "pods/eviction"),
    _rule(
        WRITE,
        "",
        "replicationcontrollers",
        "replicationcontrollers/scale",
        "serviceaccounts",
        "services",
        "services/proxy",
        "persistentvolumeclaims",
        "configmaps",
        "secrets",
        "events",
    ),
    _rule(("create",), "", "serviceaccounts/token"),
    _rule(
        WRITE,
        "apps",
        "statefulsets",
        "statefulsets/scale",
        "daemonsets",
        "deployments",
        "deployments/scale",
        "deployments/rollback",
        "replicasets",
        "replicasets/scale",
    ),
    _rule(WRITE, "autoscaling", "horizontalpodautoscalers"),
    _rule(WRITE, "batch", "jobs", "cronjobs"),
    _rule(WRITE, "policy", "poddisruptionbudgets"),
    _rule(WRITE, "networking.k8s.io", "networkpolicies", "ingresses"),
    _rule((*READ, *WRITE), "coordination.k8s.io", "leases"),
)

_ADMIN = (
    _rule(("create",), "authorization.k8s.io", "localsubjectaccessreviews"),
    _rule((*READ, *WRITE), RBAC_GROUP, "roles", "rolebindings"),
)


def _cluster_role(name: str, rules: tuple[Raw, ...], labels: Mapping[str, str], selects: str | None = None) -> Raw:
    raw: Raw = {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": {BOOTSTRAP_LABEL: BOOTSTRAP_VALUE, **labels}},
        "rules": [dict(r) for r in rules],
    }
    if selects is not None:
        raw["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {AGGREGATE_TO + selects: "true"}}]}
    return raw


def default_cluster_roles() -> dict[str, Raw]:
    """Raw ClusterRole objects by name: the user-facing roles and the sources they aggregate."""
    full = ({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]})
    return {
        "cluster-admin": _cluster_role("cluster-admin", full, {}),
        "admin": _cluster_role("admin", (), {}, selects="admin"),
        "edit": _cluster_role("edit", (), {AGGREGATE_TO + "admin": "true"}, selects="edit"),
        "view": _cluster_role("view", (), {AGGREGATE_TO + "edit": "true"}, selects="view"),
        **{
            f"system:aggregate-to-{name}": _cluster_role(
                f"system:aggregate-to-{name}", rules, {AGGREGATE_TO + name: "true"}
            )
            for name, rules in (("admin", _ADMIN), ("edit", _EDIT), ("view", _VIEW))
        },
    }


def defaults_to_add(present: set[str]) -> list[str]:
    """Names of default ClusterRoles to add when ``present`` names are what the scan declares.

    An aggregation source is added only with the aggregated role it feeds, so a scan that declares
    its own ``edit`` does not get Kubernetes' edit rules merged into it.
    """
    names = []
    if "cluster-admin" not in present:
        names.append("cluster-admin")
    for role in ("admin", "edit", "view"):
        if role not in present:
            names.append(role)
            if f"system:aggregate-to-{role}" not in present:
                names.append(f"system:aggregate-to-{role}")
    return names
