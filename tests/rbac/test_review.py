"""The privileged-access review: who is cluster-admin-equivalent, by which route, and the stage reached."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

import stockade
from stockade.model.finding import Stage
from stockade.model.inventory import Inventory
from stockade.rbac import RbacIndex, Subject
from stockade.rbac.review import Holder, PrivilegedReview, review_privileged
from tests.rbac.builders import (
    cluster_grant,
    cluster_role_binding,
    group,
    inventory,
    local_grant,
    rule,
    sa,
    scoped_grant,
    user,
)
from tests.rbac.stock import stock_kubeadm_cluster

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"
RBAC_GROUP = "rbac.authorization.k8s.io"
Raw = dict[str, Any]


def review(raws: Iterable[Mapping[str, Any]]) -> PrivilegedReview:
    cluster = inventory(raws)
    return review_privileged(cluster, RbacIndex.build(cluster, assume_defaults=True))


def holder(result: PrivilegedReview, subject: Subject) -> Holder:
    found = [h for h in result.holders if h.subject == subject]
    assert found, [str(h.subject) for h in result.holders]
    return found[0]


def admins(*subjects: Raw, name: str = "admins", annotations: Mapping[str, str] | None = None) -> Raw:
    binding = cluster_role_binding(name, "cluster-admin", *subjects)
    if annotations:
        binding["metadata"]["annotations"] = dict(annotations)
    return binding


def deployment(name: str, namespace: str, account: str) -> Raw:
    template = {"metadata": {"labels": {"app": name}}, "spec": {"serviceAccountName": account, "containers": []}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": template},
    }


def token_secret(name: str, namespace: str, account: str) -> Raw:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/service-account-token",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": {"kubernetes.io/service-account.name": account},
        },
    }


# -- stages ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raws", "stage", "gap"),
    [
        ([admins(user("alice"))], None, "User/alice is bound directly"),
        ([admins(group("system:authenticated"))], None, "that is everyone"),
        ([admins(group("developers"))], Stage.CRAWL, "Group/developers is an everyday group"),
        ([admins(sa("ci", "tools"))], Stage.CRAWL, "everyday automation account"),
        (
            [admins(sa("platform-admin", "ops")), deployment("agent", "ops", "platform-admin")],
            Stage.CRAWL,
            "used by workloads (Deployment/ops/agent)",
        ),
        ([admins(group("platform-admins"))], Stage.WALK, "Group/platform-admins is not a break-glass identity"),
        ([admins(group("breakglass-admins"))], Stage.RUN, None),
        (
            [admins(group("oncall-admins"), annotations={"stockade.io/break-glass": "true"})],
            Stage.RUN,
            None,
        ),
    ],
)
def test_stage_reached(raws: list[Raw], stage: Stage | None, gap: str | None) -> None:
    result = review(raws)
    assert result.stage is stage
    following = result.next_check
    if gap is None:
        assert following is None
    else:
        assert following is not None and any(gap in g for g in following.gaps), following


def test_a_user_one_step_away_passes_crawl_but_not_walk() -> None:
    raws = [admins(group("platform-admins")), *cluster_grant(rule(["impersonate"], ["groups"]), subjects=[user("bob")])]
    result = review(raws)
    bob = holder(result, Subject.user("bob"))
    assert not bob.direct
    assert [(r.kind, r.target) for r in bob.routes] == [
        ("impersonate", Subject.group("system:masters")),
        ("impersonate", Subject.group("platform-admins")),
    ]
    assert result.stage is Stage.CRAWL


def test_a_separate_admin_identity_reaches_walk() -> None:
    raws = [
        admins(group("platform-admins")),
        *cluster_grant(rule(["impersonate"], ["groups"], names=["platform-admins"]), subjects=[user("bob-admin")]),
    ]
    result = review(raws)
    assert holder(result, Subject.user("bob-admin")).separate_identity
    assert result.stage is Stage.WALK


def test_nothing_to_judge_without_bindings() -> None:
    result = review([])
    assert result.stage is None
    assert all("nothing to judge" in c.gaps[0] for c in result.checks)
    assert [h.subject for h in result.holders] == [Subject.group("system:masters")]


def test_counts_by_kind() -> None:
    result = review([admins(user("alice"), group("ops-admins"), sa("ci", "tools"))])
    assert [h.subject.name for h in result.of_kind("User")] == ["alice"]
    assert {h.subject.name for h in result.of_kind("Group")} == {"ops-admins", "system:masters"}
    assert [h.subject.name for h in result.of_kind("ServiceAccount")] == ["ci"]


# -- routes --------------------------------------------------------------------------------------
ADMIN_SA = admins(sa("deployer", "payments"), name="payments-admin")
BOB = [user("bob")]


def _rbac(verbs: list[str], resources: list[str], names: list[str] | None = None) -> Raw:
    return rule(verbs, resources, [RBAC_GROUP], names=names or [])


@pytest.mark.parametrize(
    ("raws", "route"),
    [
        (cluster_grant(_rbac(["bind"], ["clusterroles"]), _rbac(["create"], ["clusterrolebindings"])), "bind"),
        (cluster_grant(_rbac(["escalate", "update"], ["clusterroles"])), "escalate"),
        (cluster_grant(rule(["impersonate"], ["groups"], names=["system:masters"])), "impersonate"),
        (scoped_grant(rule(["create"], ["pods"]), namespace="payments"), "create-workloads"),
        (scoped_grant(rule(["patch"], ["deployments"], ["apps"]), namespace="payments"), "create-workloads"),
        (
            scoped_grant(rule(["create"], ["serviceaccounts/token"], names=["deployer"]), namespace="payments"),
            "create-token",
        ),
        (local_grant(rule(["impersonate"], ["serviceaccounts"]), namespace="payments"), "impersonate"),
    ],
)
def test_one_step_routes(raws: list[Raw], route: str) -> None:
    result = review([ADMIN_SA, *raws])
    alice = holder(result, Subject.user("alice"))
    assert route in [r.kind for r in alice.routes]
    assert all(r.grants for r in alice.routes)


@pytest.mark.parametrize(
    "raws",
    [
        cluster_grant(_rbac(["bind"], ["clusterroles"])),  # bind without creating bindings
        cluster_grant(_rbac(["bind"], ["clusterroles"], ["view"]), _rbac(["create"], ["clusterrolebindings"])),
        cluster_grant(_rbac(["escalate"], ["clusterroles"])),  # escalate without updating roles
        scoped_grant(rule(["create"], ["pods"]), namespace="shop"),  # no admin account lives in shop
        scoped_grant(rule(["create"], ["serviceaccounts/token"], names=["other"]), namespace="payments"),
        scoped_grant(rule(["list"], ["secrets"]), namespace="payments"),  # no legacy token Secret to read
        cluster_grant(rule(["impersonate"], ["groups"], names=["viewers"])),
    ],
)
def test_not_one_step_away(raws: list[Raw]) -> None:
    result = review([ADMIN_SA, *raws])
    assert Subject.user("alice") not in [h.subject for h in result.holders]


def test_reading_an_admin_token_secret_and_exec_into_its_pods() -> None:
    raws = [
        ADMIN_SA,
        token_secret("deployer-token-x1", "payments", "deployer"),
        deployment("release-bot", "payments", "deployer"),
        *scoped_grant(rule(["get"], ["secrets"], names=["deployer-token-x1"]), namespace="payments", subjects=BOB),
        *[
            {**r, "metadata": {**r["metadata"], "name": f"exec-{r['metadata']['name']}"}}
            for r in local_grant(rule(["create"], ["pods/exec"]), namespace="payments")
        ],
    ]
    raws[-1]["roleRef"]["name"] = "exec-r"
    result = review(raws)
    assert [r.kind for r in holder(result, Subject.user("bob")).routes] == ["read-token"]
    assert [r.kind for r in holder(result, Subject.user("alice")).routes] == ["exec-pods"]
    deployer = holder(result, Subject.service_account("payments", "deployer"))
    assert deployer.workloads == ("Deployment/payments/release-bot",)


def test_group_of_all_service_accounts_of_a_namespace_makes_it_privileged() -> None:
    raws = [
        admins(group("system:serviceaccounts:ci")),
        *scoped_grant(rule(["create"], ["pods"]), namespace="ci"),
    ]
    result = review(raws)
    assert "ci" in result.privileged_namespaces
    assert [r.kind for r in holder(result, Subject.user("alice")).routes] == ["create-workloads"]


def test_a_stock_cluster_reaches_run_with_only_system_holders() -> None:
    result = review(stock_kubeadm_cluster())
    holders = {h.subject: h for h in result.holders}
    assert Subject.group("kubeadm:cluster-admins") in holders
    # The aggregation controller can escalate and update ClusterRoles: one step from everything.
    aggregator = holders[Subject.service_account("kube-system", "clusterrole-aggregation-controller")]
    assert [r.kind for r in aggregator.routes] == ["escalate"]
    assert all(h.system for h in result.holders)
    assert result.stage is Stage.RUN


def test_the_demo_deployer_is_a_direct_holder_of_its_own() -> None:
    demo = Inventory(stockade.FileSource([str(DEMO)]).collect().resources)
    result = review_privileged(demo, RbacIndex.build(demo, assume_defaults=True))
    deployer = holder(result, Subject.service_account("payments", "deployer"))
    assert deployer.direct and not deployer.system
    assert result.stage is Stage.CRAWL
