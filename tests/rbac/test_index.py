"""The index's answers beyond allow/deny: reasons, aggregation sources, problems, listings."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.rbac import ObjectRef, Permission, PolicyRule, Request, Subject
from tests.rbac.builders import (
    RBAC,
    cluster_grant,
    cluster_role,
    cluster_role_binding,
    group,
    index,
    role,
    role_binding,
    rule,
    sa,
    urls,
    user,
)

ADMIN = "rbac.authorization.k8s.io/aggregate-to-admin"
EDIT = "rbac.authorization.k8s.io/aggregate-to-edit"
EXEC = Request("create", "pods", subresource="exec", name="web", namespace="dev")


def _default_chain() -> list[dict[str, Any]]:
    return [
        cluster_role("admin", selectors=[{"matchLabels": {ADMIN: "true"}}]),
        cluster_role(
            "edit",
            rule(["update"], ["deployments"], ["apps"]),
            labels={ADMIN: "true"},
            selectors=[{"matchLabels": {EDIT: "true"}}],
        ),
        cluster_role(
            "system:aggregate-to-edit", rule(["get"], ["pods"]), rule(["create"], ["pods/exec"]), labels={EDIT: "true"}
        ),
        cluster_role(
            "system:aggregate-to-admin",
            rule(["create"], ["rolebindings"], ["rbac.authorization.k8s.io"]),
            labels={ADMIN: "true"},
        ),
        role_binding("owners", "dev", "ClusterRole", "admin", group("team-a")),
    ]


def test_grant_names_binding_role_rule_and_subject() -> None:
    rbac = index(
        [
            role("exec", "dev", rule(["get"], ["pods"]), rule(["create"], ["pods/exec"])),
            role_binding("ops-exec", "dev", "Role", "exec", user("bob"), group("ops")),
        ]
    )
    decision = rbac.can("carol", ["ops"], EXEC)
    assert decision.allowed
    (grant,) = decision.grants
    assert grant.binding == ObjectRef("RoleBinding", "dev", "ops-exec")
    assert grant.role == ObjectRef("Role", "dev", "exec")
    assert grant.rule_index == 1
    assert grant.rule == PolicyRule(verbs=("create",), api_groups=("",), resources=("pods/exec",))
    assert grant.subject == Subject.group("ops")
    assert grant.source == grant.role and grant.source_index == 1
    assert grant.namespace == "dev"
    assert str(grant) == (
        'RoleBinding/dev/ops-exec → Role/dev/exec rule 1 {apiGroups="" resources=pods/exec verbs=create} for Group/ops'
    )


def test_first_matching_subject_is_the_one_named() -> None:
    rbac = index(cluster_grant(rule(["get"], ["pods"]), subjects=[group("ops"), user("bob")]))
    (grant,) = rbac.can("bob", ["ops"], Request("get", "pods")).grants
    assert grant.subject == Subject.group("ops")


def test_every_allowing_rule_is_listed() -> None:
    rbac = index(
        [
            cluster_role("a", rule(["get"], ["pods"]), rule(["*"], ["*"], ["*"])),
            cluster_role_binding("one", "a", user("bob")),
            role("b", "dev", rule(["get"], ["pods"])),
            role_binding("two", "dev", "Role", "b", user("bob")),
        ]
    )
    decision = rbac.can("bob", [], Request("get", "pods", name="p", namespace="dev"))
    assert [(g.binding.name, g.rule_index) for g in decision.grants] == [("one", 0), ("one", 1), ("two", 0)]


def test_aggregated_grant_points_at_the_declaring_role() -> None:
    rbac = index(_default_chain())
    decision = rbac.can("dana", ["team-a"], EXEC)
    (grant,) = decision.grants
    assert grant.role == ObjectRef("ClusterRole", None, "admin")
    assert grant.source == ObjectRef("ClusterRole", None, "system:aggregate-to-edit")
    assert grant.source_index == 1
    assert "aggregated from ClusterRole/system:aggregate-to-edit rule 1" in str(grant)
    admin_rules = rbac.rules_of(ObjectRef("ClusterRole", None, "admin"))
    edit_rules = rbac.rules_of(ObjectRef("ClusterRole", None, "edit"))
    assert admin_rules is not None and edit_rules is not None
    # edit's own declared rule is replaced by what it aggregates; admin gets edit's and its own sources.
    assert PolicyRule(("update",), ("apps",), ("deployments",)) not in edit_rules
    assert set(edit_rules) <= set(admin_rules)
    assert len(admin_rules) == 3
    assert rbac.rules_of(ObjectRef("ClusterRole", None, "missing")) is None


def test_declared_rules_of_aggregated_role_are_reported() -> None:
    rbac = index(_default_chain())
    (problem,) = [p for p in rbac.problems if p.code == "aggregation-overrides-rules"]
    assert problem.object == ObjectRef("ClusterRole", None, "edit")


def test_live_rules_can_be_used_as_read() -> None:
    # A cluster export: the controller already filled admin's rules, one of them from a role we lack.
    objects = _default_chain()
    objects[0] = cluster_role(
        "admin",
        rule(["create"], ["pods/exec"]),
        rule(["get"], ["crontabs"], ["stable.example.com"]),
        selectors=[{"matchLabels": {ADMIN: "true"}}],
    )
    rbac = index(objects, recompute_aggregation=False)
    admin = ObjectRef("ClusterRole", None, "admin")
    assert rbac.rules_of(admin) == (
        PolicyRule(("create",), ("",), ("pods/exec",)),
        PolicyRule(("get",), ("stable.example.com",), ("crontabs",)),
    )
    (exec_grant,) = rbac.can("dana", ["team-a"], EXEC).grants
    assert exec_grant.source == ObjectRef("ClusterRole", None, "system:aggregate-to-edit")
    crontabs = Request("get", "crontabs", api_group="stable.example.com", namespace="dev")
    (crontab_grant,) = rbac.can("dana", ["team-a"], crontabs).grants
    assert crontab_grant.source == admin and crontab_grant.source_index == 1


def test_aggregation_cycle_settles() -> None:
    rbac = index(
        [
            cluster_role("a", labels={"x": "a"}, selectors=[{"matchLabels": {"x": "b"}}]),
            cluster_role("b", labels={"x": "b"}, selectors=[{"matchLabels": {"x": "a"}}]),
            cluster_role("leaf", rule(["get"], ["pods"]), labels={"x": "a"}),
            cluster_role(
                "self", rule(["list"], ["pods"]), labels={"x": "self"}, selectors=[{"matchLabels": {"x": "self"}}]
            ),
        ]
    )
    pods = (PolicyRule(("get",), ("",), ("pods",)),)
    assert rbac.rules_of(ObjectRef("ClusterRole", None, "b")) == pods
    assert rbac.rules_of(ObjectRef("ClusterRole", None, "a")) == pods
    # A role never aggregates itself, so "self" ends up with nothing.
    assert rbac.rules_of(ObjectRef("ClusterRole", None, "self")) == ()


def test_invalid_selector_keeps_declared_rules() -> None:
    rbac = index(
        [
            cluster_role(
                "agg",
                rule(["get"], ["pods"]),
                selectors=[{"matchExpressions": [{"key": "x", "operator": "Near", "values": ["y"]}]}],
            ),
            cluster_role_binding("b", "agg", user("alice")),
        ]
    )
    assert rbac.can("alice", [], Request("get", "pods"))
    (problem,) = rbac.problems
    assert problem.code == "invalid-aggregation"
    assert "Near" in problem.message


def test_missing_role_is_reported_with_binding_and_origin() -> None:
    rbac = index([role_binding("dangling", "dev", "ClusterRole", "gone", user("alice"))])
    (problem,) = rbac.problems
    assert problem.code == "missing-role"
    assert problem.object == ObjectRef("RoleBinding", "dev", "dangling")
    assert "ClusterRole/gone" in problem.message
    assert str(problem).startswith("rbac.yaml:1: RoleBinding/dev/dangling: ")
    decision = rbac.can("alice", [], Request("get", "pods", namespace="dev"))
    assert not decision.allowed
    assert decision.problems == (problem,)


def test_malformed_rules_are_reported_and_the_rest_used() -> None:
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": RBAC,
            "kind": "ClusterRole",
            "metadata": {"name": "r"},
            "rules": [
                "get pods",
                {"verbs": "get", "apiGroups": [""], "resources": ["pods"]},
                {"verbs": ["get"], "apiGroups": [""], "resources": ["secrets", 7]},
                {"verbs": ["list"], "apiGroups": [""], "resources": ["pods"]},
            ],
        },
        {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": "s"}, "rules": {"verbs": ["*"]}},
        cluster_role_binding("b", "r", user("alice")),
    ]
    rbac = index(objects)
    messages = [(p.code, p.object.name, p.message) for p in rbac.problems]
    assert messages == [
        ("malformed-rule", "r", "rules[0] is not a mapping; rule ignored"),
        ("malformed-rule", "r", "rules[1].verbs is not a list of strings; rule ignored"),
        ("malformed-rule", "r", "rules[2].resources is not a list of strings; rule ignored"),
        ("malformed-rule", "s", "rules is not a list; the role grants nothing"),
    ]
    assert rbac.can("alice", [], Request("list", "pods"))
    assert not rbac.can("alice", [], Request("get", "pods"))
    (grant,) = rbac.can("alice", [], Request("list", "pods")).grants
    assert grant.rule_index == 0  # position among the rules that could be read


def test_rule_shapes_the_api_server_rejects_are_reported() -> None:
    rbac = index(
        [
            role("r", "dev", urls(["get"], ["/healthz"]), {"verbs": ["get"], "resources": ["pods"]}),
            cluster_role("c", {"verbs": [], "apiGroups": [""], "resources": ["pods"]}),
        ]
    )
    assert [(p.object.name, p.message) for p in rbac.problems] == [
        ("r", "rules[0]: nonResourceURLs in a Role never apply"),
        ("r", "rules[1] has no apiGroups and matches no resource"),
        ("c", "rules[0] has no verbs and matches nothing"),
    ]


def test_malformed_bindings_and_subjects_are_reported() -> None:
    objects: list[dict[str, Any]] = [
        cluster_role("r", rule(["get"], ["pods"])),
        {"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": "no-ref"}, "subjects": [user("a")]},
        {**cluster_role_binding("bad-subjects", "r"), "subjects": {"kind": "User", "name": "a"}},
        {
            **cluster_role_binding("mixed", "r"),
            "subjects": [sa("ci"), {"kind": "Robot", "name": "x"}, {"kind": "User"}, "alice", user("bob")],
        },
        cluster_role_binding("to-role", "r", user("a"), ref_kind="Role"),
        {**cluster_role_binding("other-group", "r", user("carol"))},
    ]
    objects[-1]["roleRef"] = {"apiGroup": "example.com", "kind": "ClusterRole", "name": "r"}
    rbac = index(objects)
    codes = [(p.code, p.object.name) for p in rbac.problems]
    assert codes == [
        ("malformed-binding", "no-ref"),
        ("malformed-binding", "bad-subjects"),
        ("malformed-subject", "mixed"),
        ("malformed-subject", "mixed"),
        ("malformed-subject", "mixed"),
        ("malformed-subject", "mixed"),
        ("invalid-role-ref", "to-role"),
        ("invalid-role-ref", "other-group"),
    ]
    # The good subject of a binding with bad ones still gets its grant; apiGroup is not checked.
    assert rbac.can("bob", [], Request("get", "pods"))
    assert rbac.can("carol", [], Request("get", "pods"))


def test_every_definition_of_a_duplicated_object_grants() -> None:
    # Manifests can declare one object twice (two overlays); either may be the one applied.
    rbac = index(
        [
            cluster_role("r", rule(["get"], ["pods"])),
            cluster_role("r", rule(["list"], ["pods"])),
            cluster_role_binding("b", "r", user("alice")),
            cluster_role_binding("b", "r", user("bob")),
            role("own", "dev", rule(["get"], ["secrets"])),
            role("own", "dev", rule(["delete"], ["secrets"])),
            role("own", "prod", rule(["watch"], ["secrets"])),  # same name, another namespace: not a duplicate
            role_binding("own", "dev", "Role", "own", user("carol")),
        ]
    )
    assert [(p.code, str(p.object)) for p in rbac.problems] == [
        ("duplicate-object", "Role/dev/own"),
        ("duplicate-object", "ClusterRole/r"),
        ("duplicate-object", "ClusterRoleBinding/b"),
    ]
    assert "defined 2 times" in rbac.problems[0].message
    for who in ("alice", "bob"):
        assert rbac.can(who, [], Request("get", "pods"))
        assert rbac.can(who, [], Request("list", "pods"))
        assert not rbac.can(who, [], Request("watch", "pods"))
    decision = rbac.can("carol", [], Request("delete", "secrets", namespace="dev"))
    assert [(g.role.definition, g.rule_index) for g in decision.grants] == [(1, 0)]
    assert not rbac.can("carol", [], Request("watch", "secrets", namespace="dev"))
    who = rbac.who_can(Request("list", "pods"))
    assert [(str(g.subject), g.binding.definition, g.role.definition) for g in who] == [
        ("User/alice", 0, 1),
        ("User/bob", 1, 1),
    ]
    permissions = rbac.permissions_of(Subject.user("bob"))
    assert sorted(p.rule.verbs for p in permissions) == [("get",), ("list",)]
    assert [r.rules for r in rbac.candidates(ObjectRef("ClusterRole", None, "r"))] == [
        (PolicyRule(("get",), ("",), ("pods",)),),
        (PolicyRule(("list",), ("",), ("pods",)),),
    ]


def test_who_can_lists_every_subject_with_its_grant() -> None:
    rbac = index(
        [
            cluster_role("admin-all", rule(["*"], ["*"], ["*"])),
            cluster_role_binding("admins", "admin-all", user("root"), group("sre")),
            cluster_role("reader", rule(["get", "list"], ["secrets"])),
            role_binding("read-dev", "dev", "ClusterRole", "reader", sa("ci")),
            role_binding("read-prod", "prod", "ClusterRole", "reader", sa("ci")),
            role("own", "dev", rule(["get"], ["secrets"], names=["tls"])),
            role_binding("own-tls", "dev", "Role", "own", user("web")),
        ]
    )
    who = rbac.who_can(Request("get", "secrets", name="tls", namespace="dev"))
    assert [(str(g.subject), g.binding.name) for g in who] == [
        ("User/root", "admins"),
        ("Group/sre", "admins"),
        ("ServiceAccount/dev/ci", "read-dev"),
        ("User/web", "own-tls"),
    ]
    assert who.subjects == (
        Subject.user("root"),
        Subject.group("sre"),
        Subject.service_account("dev", "ci"),
        Subject.user("web"),
    )
    everything = rbac.who_can(Request("*", "*", api_group="*"))
    assert everything.subjects == (Subject.user("root"), Subject.group("sre"))
    assert everything.superuser_groups == ("system:masters",)


def test_permissions_of_a_service_account() -> None:
    rbac = index(
        [
            cluster_role("discovery", urls(["get"], ["/api", "/api/*"])),
            cluster_role_binding("discovery", "discovery", group("system:authenticated")),
            cluster_role("reader", rule(["get"], ["secrets"]), urls(["get"], ["/metrics"])),
            role_binding("read", "dev", "ClusterRole", "reader", sa("ci")),
            role_binding("elsewhere", "prod", "ClusterRole", "reader", sa("ci")),
            cluster_role_binding("team", "reader", group("team-a")),
        ]
    )
    ci = Subject.service_account("dev", "ci")
    held = rbac.permissions_of(ci)
    assert [(p.namespace, p.grant.binding.name, p.grant.subject.name) for p in held] == [
        (None, "discovery", "system:authenticated"),
        ("dev", "read", "ci"),
    ]
    assert isinstance(held[0], Permission)
    with_team = rbac.permissions_of(ci, extra_groups=["team-a"])
    assert [p.grant.binding.name for p in with_team] == ["discovery", "team", "team", "read"]


def test_subjects_lists_everyone_bound() -> None:
    rbac = index(
        [
            *cluster_grant(rule(["get"], ["pods"]), subjects=[user("b"), group("g"), sa("x", "ns")]),
            role_binding("rb", "dev", "ClusterRole", "r", sa("y"), user("a")),
        ]
    )
    assert rbac.subjects() == (
        Subject.group("g"),
        Subject.service_account("dev", "y"),
        Subject.service_account("ns", "x"),
        Subject.user("a"),
        Subject.user("b"),
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
inner_keys = st.sampled_from(
    [
        *("verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs", "kind", "name", "namespace"),
        *("clusterRoleSelectors", "matchLabels", "matchExpressions", "key", "operator", "values"),
    ]
)
shaped = st.recursive(
    json_values,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(inner_keys, inner, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(["rules", "subjects", "roleRef", "aggregationRule"])


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"]),
    st.dictionaries(field_names, shaped, max_size=4),
)
def test_any_shape_is_reported_never_raised(kind: str, body: dict[str, Any]) -> None:
    raw = {"apiVersion": RBAC, "kind": kind, "metadata": {"name": "x", "namespace": "dev"}, **body}
    rbac = index([raw, cluster_role("x", rule(["get"], ["pods"]))])
    rbac.can("alice", ["g"], Request("get", "pods", namespace="dev"))
    rbac.who_can(Request("get", "pods", namespace="dev"))
    rbac.permissions_of(Subject.service_account("dev", "x"))
    assert all(str(p) for p in rbac.problems)
