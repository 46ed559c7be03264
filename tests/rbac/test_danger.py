"""The shared danger classification, the assumed default roles and resource parsing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.rbac import ObjectRef, PolicyRule, Request, Subject, rule_allows
from stockade.rbac.danger import DANGERS, Classifier, Danger, classify
from stockade.rbac.resources import RbacQueryError, parse_resource
from tests.rbac.builders import cluster_role, cluster_role_binding, group, index, role_binding, rule

RBAC_GROUP = "rbac.authorization.k8s.io"


def rule_of(
    verbs: list[str], resources: list[str], groups: tuple[str, ...] = ("",), names: tuple[str, ...] = ()
) -> PolicyRule:
    return PolicyRule(tuple(verbs), groups, tuple(resources), names)


def dangers(policy: PolicyRule, namespaced: bool = False) -> set[Danger]:
    return {m.danger for m in classify(policy, namespaced)}


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (rule_of(["*"], ["*"], ("*",)), set(Danger)),
        (rule_of(["get"], ["secrets"]), {Danger.READ_SECRETS}),
        (rule_of(["get"], ["secrets"], names=("tls",)), set()),
        (rule_of(["create"], ["*/exec"], ("*",)), {Danger.EXEC_PODS, Danger.WILDCARD}),
        (rule_of(["create"], ["pods/*"]), set()),
        (rule_of(["create"], ["pods"]), {Danger.CREATE_WORKLOADS}),
        (rule_of(["create"], ["pods"], names=("x",)), set()),
        (rule_of(["impersonate"], ["groups"], names=("system:masters",)), {Danger.IMPERSONATE}),
        (rule_of(["create"], ["serviceaccounts/token"], names=("bot",)), {Danger.CREATE_TOKENS}),
        (rule_of(["approve"], ["signers"], ("certificates.k8s.io",), ("kubernetes.io/*",)), {Danger.APPROVE_SIGNERS}),
        (rule_of(["bind", "escalate"], ["clusterroles"], (RBAC_GROUP,)), {Danger.BIND, Danger.ESCALATE}),
        (rule_of(["create", "update"], ["roles", "rolebindings"], (RBAC_GROUP,)), set()),
        (rule_of(["get", "list", "watch"], ["nodes", "nodes/metrics"]), set()),
        (PolicyRule(("get",), non_resource_urls=("/healthz",)), set()),
    ],
)
def test_classification(policy: PolicyRule, expected: set[Danger]) -> None:
    assert dangers(policy) == expected


def test_named_matches_carry_their_names() -> None:
    [match] = classify(rule_of(["impersonate"], ["users"], names=("root-jane",)), False)
    assert match.names == ("root-jane",) and "named root-jane" in str(match)


def test_namespaced_scope_drops_cluster_scoped_dangers() -> None:
    everything = rule_of(["*"], ["*"], ("*",))
    assert dangers(everything, namespaced=True) == {
        Danger.ALL_ACCESS,
        Danger.WILDCARD,
        Danger.READ_SECRETS,
        Danger.EXEC_PODS,
        Danger.CREATE_WORKLOADS,
        Danger.ESCALATE,
        Danger.BIND,
        Danger.IMPERSONATE,
        Danger.CREATE_TOKENS,
    }


def test_every_danger_has_probes_or_is_structural() -> None:
    for danger, info in DANGERS.items():
        assert info.probes or danger in (Danger.ALL_ACCESS, Danger.WILDCARD)
        assert info.summary and info.leads_to


VERBS = st.lists(
    st.sampled_from(
        ["get", "list", "watch", "create", "update", "patch", "delete", "*", "bind", "escalate", "impersonate"]
    ),
    min_size=1,
    max_size=4,
)
RESOURCES = st.lists(
    st.sampled_from(
        [
            "pods",
            "pods/exec",
            "*/exec",
            "pods/*",
            "secrets",
            "*",
            "deployments",
            "nodes/proxy",
            "users",
            "serviceaccounts/token",
            "clusterroles",
        ]
    ),
    min_size=1,
    max_size=3,
)
GROUPS = st.lists(st.sampled_from(["", "apps", "*", RBAC_GROUP]), min_size=1, max_size=2)


@settings(max_examples=300, deadline=None)
@given(VERBS, RESOURCES, GROUPS)
def test_a_match_means_the_authorizer_allows_its_probe(
    verbs: list[str], resources: list[str], groups: list[str]
) -> None:
    """Classification never claims more than the authorizer's own matching allows (and misses nothing)."""
    policy = PolicyRule(tuple(verbs), tuple(groups), tuple(resources))
    found = {m.danger for m in classify(policy, False)}
    for danger, info in DANGERS.items():
        allowed = any(rule_allows(policy, Request(p.verb, p.resource, api_group=p.group)) for p in info.probes)
        if info.probes:
            assert (danger in found) is allowed, (danger, policy)


def test_classifier_memo_returns_the_same_answer() -> None:
    memo = Classifier()
    policy = rule_of(["get"], ["secrets"])
    assert memo(policy, False) is memo(policy, False)
    assert memo(policy, False) == classify(policy, False)


# -- assumed defaults ----------------------------------------------------------------------------
def test_edit_is_assumed_with_what_kubernetes_puts_in_it() -> None:
    built = index([role_binding("devs", "shop", "ClusterRole", "edit", group("developers"))], assume_defaults=True)
    assert built.problems == ()
    assert ObjectRef("ClusterRole", None, "edit") in built.assumed_roles
    developers = Subject.group("developers")
    assert built.can_subject(developers, Request("list", "secrets", namespace="shop"))
    assert built.can_subject(developers, Request("impersonate", "serviceaccounts", name="x", namespace="shop"))
    assert not built.can_subject(developers, Request("create", "rolebindings", api_group=RBAC_GROUP, namespace="shop"))
    assert not built.can_subject(developers, Request("list", "secrets", namespace="other"))


def test_assumed_roles_aggregate_the_scanned_ones() -> None:
    crd_role = cluster_role(
        "widgets-edit",
        rule(["create"], ["widgets"], ["example.com"]),
        labels={"rbac.authorization.k8s.io/aggregate-to-edit": "true"},
    )
    built = index([crd_role, role_binding("b", "shop", "ClusterRole", "admin", group("leads"))], assume_defaults=True)
    leads = Subject.group("leads")
    decision = built.can_subject(leads, Request("create", "widgets", api_group="example.com", namespace="shop"))
    assert decision and decision.grants[0].source == ObjectRef("ClusterRole", None, "widgets-edit")
    assert built.can_subject(leads, Request("create", "rolebindings", api_group=RBAC_GROUP, namespace="shop"))


def test_a_declared_copy_of_a_kubernetes_role_means_what_kubernetes_says() -> None:
    # The API server reconciles its bootstrap roles: view aggregates Kubernetes' view rules, and
    # cluster-admin keeps every rule, whatever a file's copy declares.
    own_view = cluster_role("view", rule(["get"], ["pods"]))
    own_admin = cluster_role("cluster-admin", rule(["get"], ["pods"]))
    raws = [own_view, own_admin, cluster_role_binding("b", "view", group("g"))]
    raws.append(cluster_role_binding("c", "cluster-admin", group("h")))
    built = index(raws, assume_defaults=True)
    assert ObjectRef("ClusterRole", None, "view") not in built.assumed_roles
    assert built.can_subject(Subject.group("g"), Request("list", "configmaps", namespace="x"))
    assert built.can_subject(Subject.group("h"), Request("delete", "nodes"))
    assert set(built.redefined_roles) == {
        ObjectRef("ClusterRole", None, "view"),
        ObjectRef("ClusterRole", None, "cluster-admin"),
    }


def test_unknown_builtin_roles_are_not_missing_roles() -> None:
    raws = [
        cluster_role_binding("b", "system:auth-delegator", group("g")),
        cluster_role_binding("c", "gone", group("g")),
    ]
    built = index(raws, assume_defaults=True)
    assert built.unknown_builtin_roles == (ObjectRef("ClusterRole", None, "system:auth-delegator"),)
    assert [p.code for p in built.problems] == ["missing-role"]
    assert [p.code for p in index(raws).problems] == ["missing-role", "missing-role"]


# -- resources as typed ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "group", "expected"),
    [
        ("pods", None, ("pods", "", "", False)),
        ("po/exec", None, ("pods", "exec", "", False)),
        ("deploy", None, ("deployments", "", "apps", False)),
        ("deployments.apps/scale", None, ("deployments", "scale", "apps", False)),
        (
            "certificatesigningrequests.certificates.k8s.io/approval",
            None,
            ("certificatesigningrequests", "approval", "certificates.k8s.io", True),
        ),
        ("nodes/proxy", None, ("nodes", "proxy", "", True)),
        ("widgets.example.com", None, ("widgets", "", "example.com", False)),
        ("clusterroles", None, ("clusterroles", "", RBAC_GROUP, True)),
        ("deployments", "", ("deployments", "", "", False)),
    ],
)
def test_parse_resource(text: str, group: str | None, expected: tuple[str, str, str, bool]) -> None:
    spec = parse_resource(text, group)
    assert (spec.resource, spec.subresource, spec.api_group, spec.cluster_scoped) == expected


def test_parse_non_resource_and_bad_input() -> None:
    assert parse_resource("/healthz").non_resource_url == "/healthz"
    for text in ("", "  "):
        with pytest.raises(RbacQueryError):
            parse_resource(text)
