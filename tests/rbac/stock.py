"""Kubernetes' and kubeadm's own RBAC objects, as a stock cluster has them (a representative subset)."""

from __future__ import annotations

from typing import Any

from tests.rbac.builders import cluster_role, cluster_role_binding, group, role, role_binding, rule, sa, user

BOOTSTRAP = {"kubernetes.io/bootstrapping": "rbac-defaults"}
RBAC_GROUP = "rbac.authorization.k8s.io"
Raw = dict[str, Any]


def _labelled(raw: Raw) -> Raw:
    raw["metadata"].setdefault("labels", {}).update(BOOTSTRAP)
    return raw


def stock_kubeadm_cluster() -> list[Raw]:
    """Kubernetes' and kubeadm's own RBAC objects, the dangerous ones included (a representative subset)."""
    controller = "system:controller:"
    roles = [
        cluster_role("cluster-admin", rule(["*"], ["*"], ["*"]), {"verbs": ["*"], "nonResourceURLs": ["*"]}),
        cluster_role("system:discovery", {"verbs": ["get"], "nonResourceURLs": ["/api", "/apis", "/version"]}),
        cluster_role("system:basic-user", rule(["create"], ["selfsubjectaccessreviews"], ["authorization.k8s.io"])),
        cluster_role("system:public-info-viewer", {"verbs": ["get"], "nonResourceURLs": ["/healthz", "/version"]}),
        cluster_role(f"{controller}replicaset-controller", rule(["create", "delete"], ["pods"])),
        cluster_role(
            f"{controller}clusterrole-aggregation-controller",
            rule(["escalate", "get", "list", "patch", "update", "watch"], ["clusterroles"], [RBAC_GROUP]),
        ),
        cluster_role(f"{controller}generic-garbage-collector", rule(["delete", "get", "list", "patch"], ["*"], ["*"])),
        cluster_role(
            f"{controller}certificate-controller",
            rule(["update"], ["certificatesigningrequests/approval"], ["certificates.k8s.io"]),
            rule(["approve"], ["signers"], ["certificates.k8s.io"], names=["kubernetes.io/kube-apiserver-client"]),
        ),
        cluster_role(
            "system:kube-controller-manager",
            rule(["create", "delete", "get", "update"], ["secrets", "serviceaccounts"]),
            rule(["create"], ["serviceaccounts/token"]),
        ),
        cluster_role(
            "system:node", rule(["get", "list", "watch"], ["secrets", "configmaps"]), rule(["create"], ["pods"])
        ),
        cluster_role("system:node-proxier", rule(["list", "watch"], ["services", "endpoints"])),
        cluster_role(
            "system:node-bootstrapper", rule(["create", "get"], ["certificatesigningrequests"], ["certificates.k8s.io"])
        ),
        cluster_role("system:coredns", rule(["list", "watch"], ["services", "pods", "namespaces"])),
        cluster_role("kubeadm:get-nodes", rule(["get"], ["nodes"])),
    ]
    bindings = [
        cluster_role_binding("cluster-admin", "cluster-admin", group("system:masters")),
        cluster_role_binding("system:discovery", "system:discovery", group("system:authenticated")),
        cluster_role_binding("system:basic-user", "system:basic-user", group("system:authenticated")),
        cluster_role_binding(
            "system:public-info-viewer",
            "system:public-info-viewer",
            group("system:authenticated"),
            group("system:unauthenticated"),
        ),
        *(
            cluster_role_binding(f"{controller}{name}", f"{controller}{name}", sa(name, "kube-system"))
            for name in (
                "replicaset-controller",
                "clusterrole-aggregation-controller",
                "generic-garbage-collector",
                "certificate-controller",
            )
        ),
        cluster_role_binding(
            "system:kube-controller-manager", "system:kube-controller-manager", user("system:kube-controller-manager")
        ),
        cluster_role_binding("system:node-proxier", "system:node-proxier", user("system:kube-proxy")),
        cluster_role_binding("system:coredns", "system:coredns", sa("coredns", "kube-system")),
        cluster_role_binding("kubeadm:cluster-admins", "cluster-admin", group("kubeadm:cluster-admins")),
        cluster_role_binding("kubeadm:node-proxier", "system:node-proxier", sa("kube-proxy", "kube-system")),
        cluster_role_binding(
            "kubeadm:kubelet-bootstrap",
            "system:node-bootstrapper",
            group("system:bootstrappers:kubeadm:default-node-token"),
        ),
        cluster_role_binding(
            "kubeadm:get-nodes", "kubeadm:get-nodes", group("system:bootstrappers:kubeadm:default-node-token")
        ),
    ]
    namespaced = [
        _labelled(role("extension-apiserver-authentication-reader", "kube-system", rule(["get"], ["configmaps"]))),
        role_binding(
            "system::extension-apiserver-authentication-reader",
            "kube-system",
            "Role",
            "extension-apiserver-authentication-reader",
            user("system:kube-controller-manager"),
            user("system:kube-scheduler"),
        ),
        role("kube-proxy", "kube-system", rule(["get"], ["configmaps"], names=["kube-proxy"])),
        role_binding(
            "kube-proxy", "kube-system", "Role", "kube-proxy", group("system:bootstrappers:kubeadm:default-node-token")
        ),
        role(
            "kubeadm:bootstrap-signer-clusterinfo", "kube-public", rule(["get"], ["configmaps"], names=["cluster-info"])
        ),
        role_binding(
            "kubeadm:bootstrap-signer-clusterinfo",
            "kube-public",
            "Role",
            "kubeadm:bootstrap-signer-clusterinfo",
            user("system:anonymous"),
        ),
    ]
    accounts = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": "kube-system"}}
        for name in ("default", "coredns", "kube-proxy", "replicaset-controller", "certificate-controller")
    ]
    return [*(_labelled(r) for r in roles), *bindings, *namespaced, *accounts]
