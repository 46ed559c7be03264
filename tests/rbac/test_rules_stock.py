"""A stock kubeadm cluster scans clean; the demo set shows its planted RBAC mistakes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stockade.engine.evaluate import evaluate
from stockade.model.finding import Status
from stockade.model.inventory import Inventory
from stockade.rbac import RbacIndex, Subject
from stockade.rbac.review import review_privileged
from stockade.rules import load_rules
from tests.helpers import resources_from_yaml
from tests.rbac.builders import cluster_role, cluster_role_binding, group, inventory, role, role_binding, rule, sa, user

RB_RULES = [r for r in load_rules().values() if r.family == "RB"]
DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"
RBAC_GROUP = "rbac.authorization.k8s.io"
BOOTSTRAP = {"kubernetes.io/bootstrapping": "rbac-defaults"}
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


def test_a_stock_cluster_has_no_rbac_findings() -> None:
    result = evaluate(inventory(stock_kubeadm_cluster()), RB_RULES)
    assert not result.errors
    assert [f.message for f in result.findings if f.status is not Status.PASS] == []


def test_a_stock_cluster_reaches_run_with_only_system_holders() -> None:
    cluster = inventory(stock_kubeadm_cluster())
    review = review_privileged(cluster, RbacIndex.build(cluster, assume_defaults=True))
    holders = {h.subject: h for h in review.holders}
    assert Subject.group("kubeadm:cluster-admins") in holders
    # The aggregation controller can escalate and update ClusterRoles: one step from everything.
    aggregator = holders[Subject.service_account("kube-system", "clusterrole-aggregation-controller")]
    assert [r.kind for r in aggregator.routes] == ["escalate"]
    assert all(h.system for h in review.holders)
    assert review.stage is not None and review.stage.value == "run"


def test_one_team_mistake_on_a_stock_cluster_is_found() -> None:
    raws = [
        *stock_kubeadm_cluster(),
        cluster_role_binding("everyone-reads", "system:node", group("system:authenticated")),
    ]
    result = evaluate(inventory(raws), RB_RULES)
    failed = sorted({(f.rule_id, f.resource.name) for f in result.findings if f.status is Status.FAIL})
    # Everyone now reads Secrets and creates pods through a Kubernetes role: reported on the binding.
    assert failed == [("RB-003", "everyone-reads"), ("RB-005", "everyone-reads"), ("RB-014", "everyone-reads")]


def _demo() -> Inventory:
    resources = []
    for path in sorted(DEMO.rglob("*.yaml")):
        if path.name != "exceptions.yaml":
            resources += resources_from_yaml(path.read_text(), str(path))
    return Inventory(resources)


def test_demo_deployer_is_cluster_admin_equivalent_and_flagged() -> None:
    demo = _demo()
    result = evaluate(demo, RB_RULES)
    failed = {(f.rule_id, f.resource.kind, f.resource.name) for f in result.findings if f.status is Status.FAIL}
    assert ("RB-001", "ClusterRoleBinding", "payments-deployer-admin") in failed
    assert ("RB-017", "ServiceAccount", "deployer") in failed
    assert ("RB-003", "Role", "secret-reader") in failed
    review = review_privileged(demo, RbacIndex.build(demo, assume_defaults=True))
    deployer = next(h for h in review.holders if h.subject == Subject.service_account("payments", "deployer"))
    assert deployer.direct and not deployer.system
    assert review.stage is not None and review.stage.value == "crawl"
