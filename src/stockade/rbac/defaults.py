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
from dataclasses import dataclass
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

    Every cluster has them all, a file's own ``edit`` included: the API server puts back the
    aggregation rule, so Kubernetes' ``system:aggregate-to-edit`` rules flow into it anyway.
    """
    names = []
    for name in ("cluster-admin", "admin", "edit", "view"):
        if name not in present:
            names.append(name)
    for role in ("admin", "edit", "view"):
        if f"system:aggregate-to-{role}" not in present:
            names.append(f"system:aggregate-to-{role}")
    return names


# -- Kubernetes' own bindings --------------------------------------------------------------------
# A binding is Kubernetes' (or kubeadm's) own only when its kind, namespace, name, role and every
# subject are exactly as the bootstrap policy creates them. Names and the bootstrap label can be
# set by anyone, so neither alone excuses a grant: a `system:`-named binding of cluster-admin to
# `system:authenticated` is judged like any other.

# (kind, name, namespace): namespace only for ServiceAccounts.
SubjectKey = tuple[str, str, str | None]
# (binding kind, binding namespace, binding name)
BindingKey = tuple[str, str | None, str]


@dataclass(frozen=True, slots=True)
class BootstrapBinding:
    """A binding the control plane (or kubeadm) creates: its role and the subjects it may name."""

    role_kind: str
    role_name: str
    subjects: frozenset[SubjectKey]


KUBE_SYSTEM = "kube-system"
KUBEADM_NODE_JOIN_GROUP = "system:bootstrappers:kubeadm:default-node-token"

# kube-controller-manager's controllers, each bound to its own role as a kube-system ServiceAccount.
CONTROLLERS = (
    "attachdetach-controller",
    "certificate-controller",
    "clusterrole-aggregation-controller",
    "cronjob-controller",
    "daemon-set-controller",
    "deployment-controller",
    "disruption-controller",
    "endpoint-controller",
    "endpointslice-controller",
    "endpointslicemirroring-controller",
    "ephemeral-volume-controller",
    "expand-controller",
    "generic-garbage-collector",
    "horizontal-pod-autoscaler",
    "job-controller",
    "legacy-service-account-token-cleaner",
    "namespace-controller",
    "node-controller",
    "persistent-volume-binder",
    "pod-garbage-collector",
    "pv-protection-controller",
    "pvc-protection-controller",
    "replicaset-controller",
    "replication-controller",
    "resourcequota-controller",
    "root-ca-cert-publisher",
    "route-controller",
    "selinux-warning-controller",
    "service-account-controller",
    "service-cidrs-controller",
    "service-controller",
    "statefulset-controller",
    "ttl-after-finished-controller",
    "ttl-controller",
    "validatingadmissionpolicy-status-controller",
    "volumeattributesclass-protection-controller",
)


def _user(name: str) -> SubjectKey:
    return ("User", name, None)


def _group(name: str) -> SubjectKey:
    return ("Group", name, None)


def _account(name: str, namespace: str = KUBE_SYSTEM) -> SubjectKey:
    return ("ServiceAccount", name, namespace)


def _bootstrap_bindings() -> dict[BindingKey, BootstrapBinding]:
    crb = "ClusterRoleBinding"
    same: dict[str, tuple[SubjectKey, ...]] = {  # ClusterRoleBindings named after the ClusterRole they bind
        "system:monitoring": (_group("system:monitoring"),),
        "system:discovery": (_group("system:authenticated"),),
        "system:basic-user": (_group("system:authenticated"),),
        "system:public-info-viewer": (_group("system:authenticated"), _group("system:unauthenticated")),
        "system:node-proxier": (_user("system:kube-proxy"),),
        "system:kube-controller-manager": (_user("system:kube-controller-manager"),),
        "system:kube-dns": (_account("kube-dns"),),
        "system:kube-scheduler": (_user("system:kube-scheduler"),),
        "system:volume-scheduler": (_user("system:kube-scheduler"),),
        "system:node": (),
        "system:service-account-issuer-discovery": (_group("system:serviceaccounts"),),
        "system:coredns": (_account("coredns"),),
        "kubeadm:get-nodes": (_group(KUBEADM_NODE_JOIN_GROUP),),
        **{f"system:controller:{name}": (_account(name),) for name in CONTROLLERS},
    }
    table: dict[BindingKey, BootstrapBinding] = {
        (crb, None, name): BootstrapBinding("ClusterRole", name, frozenset(subjects)) for name, subjects in same.items()
    }
    csr = "system:certificates.k8s.io:certificatesigningrequests:"
    cluster_wide: tuple[tuple[str, str, tuple[SubjectKey, ...]], ...] = (
        ("cluster-admin", "cluster-admin", (_group("system:masters"),)),
        ("kubeadm:cluster-admins", "cluster-admin", (_group("kubeadm:cluster-admins"),)),
        ("kubeadm:kubelet-bootstrap", "system:node-bootstrapper", (_group(KUBEADM_NODE_JOIN_GROUP),)),
        ("kubeadm:node-autoapprove-bootstrap", f"{csr}nodeclient", (_group(KUBEADM_NODE_JOIN_GROUP),)),
        ("kubeadm:node-autoapprove-certificate-rotation", f"{csr}selfnodeclient", (_group("system:nodes"),)),
        ("kubeadm:node-proxier", "system:node-proxier", (_account("kube-proxy"),)),
        # Amazon EKS, only where name, role and subjects are published: the node serving-certificate
        # binding (AWS re:Post "Why can't I collect metrics from containers, pods, or nodes using Metrics
        # Server in Amazon EKS?", its `kubectl get clusterrolebinding eks:node-bootstrapper -o yaml`) and
        # the privileged PodSecurityPolicy binding of clusters before 1.25 (EKS User Guide, "Amazon EKS
        # default pod security policy"). EKS's other eks:* bindings have no published subjects.
        ("eks:node-bootstrapper", "eks:node-bootstrapper", (_group("system:bootstrappers"), _group("system:nodes"))),
        ("eks:podsecuritypolicy:authenticated", "eks:podsecuritypolicy:privileged", (_group("system:authenticated"),)),
    )
    for name, role, subjects in cluster_wide:
        table[(crb, None, name)] = BootstrapBinding("ClusterRole", role, frozenset(subjects))
    rb = "RoleBinding"
    nodes = (_group("system:nodes"), _group(KUBEADM_NODE_JOIN_GROUP))
    namespaced: tuple[tuple[str, str, str, tuple[SubjectKey, ...]], ...] = (
        (
            KUBE_SYSTEM,
            "system::extension-apiserver-authentication-reader",
            "extension-apiserver-authentication-reader",
            (_user("system:kube-controller-manager"), _user("system:kube-scheduler")),
        ),
        (
            KUBE_SYSTEM,
            "system::leader-locking-kube-controller-manager",
            "system::leader-locking-kube-controller-manager",
            (_user("system:kube-controller-manager"), _account("kube-controller-manager")),
        ),
        (
            KUBE_SYSTEM,
            "system::leader-locking-kube-scheduler",
            "system::leader-locking-kube-scheduler",
            (_user("system:kube-scheduler"), _account("kube-scheduler")),
        ),
        (
            KUBE_SYSTEM,
            "system:controller:bootstrap-signer",
            "system:controller:bootstrap-signer",
            (_account("bootstrap-signer"),),
        ),
        (
            KUBE_SYSTEM,
            "system:controller:cloud-provider",
            "system:controller:cloud-provider",
            (_account("cloud-provider"),),
        ),
        (
            KUBE_SYSTEM,
            "system:controller:token-cleaner",
            "system:controller:token-cleaner",
            (_account("token-cleaner"),),
        ),
        (
            "kube-public",
            "system:controller:bootstrap-signer",
            "system:controller:bootstrap-signer",
            (_account("bootstrap-signer"),),
        ),
        (KUBE_SYSTEM, "kubeadm:kubelet-config", "kubeadm:kubelet-config", nodes),
        (KUBE_SYSTEM, "kubeadm:nodes-kubeadm-config", "kubeadm:nodes-kubeadm-config", nodes),
        (KUBE_SYSTEM, "kube-proxy", "kube-proxy", (_group(KUBEADM_NODE_JOIN_GROUP),)),
        (
            "kube-public",
            "kubeadm:bootstrap-signer-clusterinfo",
            "kubeadm:bootstrap-signer-clusterinfo",
            (_user("system:anonymous"),),
        ),
    )
    for namespace, name, role, subjects in namespaced:
        table[(rb, namespace, name)] = BootstrapBinding("Role", role, frozenset(subjects))
    return table


BOOTSTRAP_BINDINGS: Mapping[BindingKey, BootstrapBinding] = _bootstrap_bindings()


def bootstrap_binding(key: BindingKey, role_kind: str | None, role_name: str | None) -> BootstrapBinding | None:
    """The bootstrap entry for a binding with this key and roleRef, None unless both match exactly."""
    entry = BOOTSTRAP_BINDINGS.get(key)
    if entry is None or (entry.role_kind, entry.role_name) != (role_kind, role_name):
        return None
    return entry
