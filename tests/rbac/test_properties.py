"""Properties of the RBAC engine over small random clusters, checked against a naive oracle."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.rbac import MASTERS_GROUP, PolicyRule, RbacIndex, Request, Subject, implicit_groups, rule_allows
from tests.rbac import oracle
from tests.rbac.builders import (
    cluster_role,
    cluster_role_binding,
    group,
    index,
    role,
    role_binding,
    sa,
    user,
)

RBAC_GROUP = "rbac.authorization.k8s.io"
NAMESPACES = ["dev", "prod"]
USERS = ["alice", "bob", "system:serviceaccount:dev:ci", "system:serviceaccount:prod:ci"]
GROUPS = [
    "devs",
    "system:serviceaccounts",
    "system:serviceaccounts:dev",
    "system:authenticated",
    MASTERS_GROUP,
]
RULE_VERBS = ["get", "list", "create", "bind", "*"]
RULE_GROUPS = ["", "apps", RBAC_GROUP, "*"]
RULE_RESOURCES = ["pods", "pods/exec", "pods/*", "*/exec", "*/scale", "deployments/scale", "secrets", "*"]
RULE_URLS = ["/healthz", "/healthz/*", "/api*", "*"]
ROLE_NAMES = ["r0", "r1", "r2"]

Raw = dict[str, Any]

resource_rules = st.builds(
    lambda verbs, groups, resources, names: {
        "verbs": verbs,
        "apiGroups": groups,
        "resources": resources,
        **({"resourceNames": names} if names else {}),
    },
    st.lists(st.sampled_from(RULE_VERBS), min_size=1, max_size=3),
    st.lists(st.sampled_from(RULE_GROUPS), min_size=1, max_size=2),
    st.lists(st.sampled_from(RULE_RESOURCES), min_size=1, max_size=3),
    st.lists(st.sampled_from(["a", "b"]), max_size=2),
)
url_rules = st.builds(
    lambda verbs, paths: {"verbs": verbs, "nonResourceURLs": paths},
    st.lists(st.sampled_from(RULE_VERBS), min_size=1, max_size=2),
    st.lists(st.sampled_from(RULE_URLS), min_size=1, max_size=2),
)
rules = st.lists(st.one_of(resource_rules, resource_rules, url_rules), max_size=3)
subjects = st.lists(
    st.one_of(
        st.sampled_from(["alice", "bob", "system:serviceaccount:dev:ci"]).map(user),
        st.sampled_from(GROUPS).map(group),
        st.sampled_from([None, "dev", "prod"]).map(lambda ns: sa("ci", ns)),
    ),
    min_size=1,
    max_size=3,
)


@st.composite
def bindings(draw: st.DrawFn, name: str) -> Raw:
    if draw(st.booleans()):
        return cluster_role_binding(name, draw(st.sampled_from(ROLE_NAMES)), *draw(subjects))
    kind = draw(st.sampled_from(["Role", "ClusterRole"]))
    namespace = draw(st.sampled_from(NAMESPACES))
    return role_binding(name, namespace, kind, draw(st.sampled_from(ROLE_NAMES)), *draw(subjects))


@st.composite
def worlds(draw: st.DrawFn) -> list[Raw]:
    objects: list[Raw] = []
    for name in draw(st.lists(st.sampled_from(ROLE_NAMES), unique=True)):
        objects.append(cluster_role(name, *draw(rules)))
    for namespace in NAMESPACES:
        for name in draw(st.lists(st.sampled_from(ROLE_NAMES), unique=True, max_size=2)):
            objects.append(role(name, namespace, *draw(rules)))
    for position in range(draw(st.integers(1, 5))):
        objects.append(draw(bindings(f"b{position}")))
    return objects


resource_requests = st.builds(
    Request,
    verb=st.sampled_from(["get", "list", "create", "bind", "delete", "*"]),
    resource=st.sampled_from(["pods", "deployments", "secrets", "clusterroles", "*"]),
    subresource=st.sampled_from(["", "", "exec", "scale", "*"]),
    api_group=st.sampled_from(["", "apps", RBAC_GROUP]),
    name=st.sampled_from(["", "a", "b"]),
    namespace=st.sampled_from([None, "dev", "prod"]),
)
url_requests = st.builds(
    lambda verb, path: Request(verb, non_resource_url=path),
    st.sampled_from(["get", "post"]),
    st.sampled_from(["/healthz", "/healthz/etcd", "/apis", "/metrics"]),
)
requests = st.one_of(resource_requests, resource_requests, url_requests)
identities = st.tuples(st.sampled_from(USERS), st.lists(st.sampled_from(GROUPS), unique=True, max_size=2))
sa_subjects = st.builds(Subject.service_account, st.sampled_from(NAMESPACES), st.sampled_from(["ci", "other"]))


def _applies(subject: Subject, user_name: str, groups: list[str]) -> bool:
    if subject.kind == "Group":
        return subject.name in groups
    return subject.username == user_name


@settings(max_examples=300, deadline=None)
@given(worlds(), identities, st.lists(requests, min_size=1, max_size=4))
def test_index_agrees_with_naive_authorizer(
    world: list[Raw], identity: tuple[str, list[str]], asks: list[Request]
) -> None:
    rbac = index(world)
    user_name, groups = identity
    for request in asks:
        expected = oracle.allowed(world, user_name, groups, request)
        assert rbac.can(user_name, groups, request).allowed is expected, request


@settings(max_examples=200, deadline=None)
@given(worlds(), identities, requests)
def test_who_can_agrees_with_can(world: list[Raw], identity: tuple[str, list[str]], request: Request) -> None:
    rbac = index(world)
    user_name, groups = identity
    decision = rbac.can(user_name, groups, request)
    via_grants = any(_applies(g.subject, user_name, groups) for g in rbac.who_can(request))
    assert via_grants is bool(decision.grants)
    assert decision.allowed is (via_grants or MASTERS_GROUP in groups)


@settings(max_examples=200, deadline=None)
@given(worlds(), sa_subjects, st.lists(requests, min_size=1, max_size=4))
def test_permissions_of_explains_can(world: list[Raw], subject: Subject, asks: list[Request]) -> None:
    rbac = index(world)
    held = rbac.permissions_of(subject)
    for request in asks:
        by_rules = any(
            rule_allows(p.rule, request) and (p.namespace is None or p.namespace == request.scope) for p in held
        )
        decision = rbac.can_subject(subject, request)
        assert bool(decision.grants) is by_rules, request


@settings(max_examples=200, deadline=None)
@given(worlds(), st.data(), identities, st.lists(requests, min_size=1, max_size=4))
def test_adding_a_binding_never_removes_a_permission(
    world: list[Raw], data: st.DataObject, identity: tuple[str, list[str]], asks: list[Request]
) -> None:
    extra = data.draw(bindings("added"))
    before, after = index(world), index([*world, extra])
    user_name, groups = identity
    for request in asks:
        if before.can(user_name, groups, request).allowed:
            assert after.can(user_name, groups, request).allowed, request
        assert len(before.who_can(request).grants) <= len(after.who_can(request).grants)


@settings(max_examples=500, deadline=None)
@given(st.one_of(resource_rules, url_rules), requests)
def test_rule_matching_agrees_with_naive_matcher(raw: Raw, request: Request) -> None:
    rule = PolicyRule(
        verbs=tuple(raw["verbs"]),
        api_groups=tuple(raw.get("apiGroups", ())),
        resources=tuple(raw.get("resources", ())),
        resource_names=tuple(raw.get("resourceNames", ())),
        non_resource_urls=tuple(raw.get("nonResourceURLs", ())),
    )
    assert rule_allows(rule, request) is oracle.rule_ok(raw, request)


@settings(max_examples=300, deadline=None)
@given(resource_rules, requests)
def test_star_is_a_superset_of_any_literal(raw: Raw, request: Request) -> None:
    rule = PolicyRule(
        verbs=tuple(raw["verbs"]),
        api_groups=tuple(raw["apiGroups"]),
        resources=tuple(raw["resources"]),
        resource_names=tuple(raw.get("resourceNames", ())),
    )
    if not rule_allows(rule, request):
        return
    assert rule_allows(replace(rule, verbs=("*",)), request)
    assert rule_allows(replace(rule, api_groups=("*",)), request)
    assert rule_allows(replace(rule, resources=("*",)), request)
    assert rule_allows(replace(rule, resource_names=()), request)


@settings(max_examples=150, deadline=None)
@given(worlds(), identities, st.lists(requests, min_size=1, max_size=4))
def test_star_verbs_and_resources_in_a_cluster_grant_a_superset(
    world: list[Raw], identity: tuple[str, list[str]], asks: list[Request]
) -> None:
    widened = [
        {**obj, "rules": [_widen(r) for r in obj["rules"]]} if obj["kind"] in ("Role", "ClusterRole") else obj
        for obj in world
    ]
    before, after = index(world), index(widened)
    user_name, groups = identity
    for request in asks:
        if before.can(user_name, groups, request).allowed:
            assert after.can(user_name, groups, request).allowed, request


def _widen(rule: Raw) -> Raw:
    if "resources" in rule:
        return {**rule, "verbs": ["*"], "resources": ["*"]}
    return {**rule, "verbs": ["*"]}


def test_service_account_groups_are_implicit() -> None:
    subject = Subject.service_account("dev", "ci")
    assert implicit_groups(subject) == (
        "system:serviceaccounts",
        "system:serviceaccounts:dev",
        "system:authenticated",
    )
    rbac = index([])
    assert isinstance(rbac, RbacIndex)
    assert not rbac.can_subject(subject, Request("get", "pods", namespace="dev"))
