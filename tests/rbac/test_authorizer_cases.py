"""Authorizer cases: each pins one rule of Kubernetes RBAC semantics (its ``spec``).

Every case is checked three ways: the decision itself, that the decision names a grant when it
allows (or the system:masters bypass), and that ``who_can`` agrees with the decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from stockade.rbac import MASTERS_GROUP, Decision, RbacIndex, Request, Subject, implicit_groups
from tests.rbac.builders import (
    cluster_grant,
    cluster_role,
    cluster_role_binding,
    group,
    index,
    local_grant,
    role,
    role_binding,
    rule,
    sa,
    scoped_grant,
    urls,
    user,
)

RBAC_GROUP = "rbac.authorization.k8s.io"


@dataclass(frozen=True)
class Case:
    id: str
    spec: str
    objects: Sequence[dict[str, Any]]
    request: Request
    allowed: bool
    user: str = "alice"
    groups: tuple[str, ...] = ()
    subject: Subject | None = None  # when set, ask can_subject (implicit groups added)
    binding: str | None = None  # when allowed by RBAC, the binding expected among the grants
    extra: dict[str, Any] = field(default_factory=dict)


def get(resource: str, namespace: str | None = "dev", **kw: Any) -> Request:
    return Request("get", resource, namespace=namespace, **kw)


PODS = rule(["get"], ["pods"])
ALICE_SECRETS = rule(["get", "list", "watch"], ["secrets"])

CASES = [
    # -- verbs --------------------------------------------------------------------------------
    Case("verb-exact", "verbs: an exact verb matches", cluster_grant(PODS), get("pods"), True, binding="b"),
    Case(
        "verb-other",
        "verbs: a different verb does not match",
        cluster_grant(PODS),
        Request("list", "pods"),
        False,
    ),
    Case(
        "verb-star",
        "verbs: '*' matches every verb",
        cluster_grant(rule(["*"], ["pods"])),
        Request("delete", "pods", name="x", namespace="dev"),
        True,
        binding="b",
    ),
    Case(
        "verb-star-custom",
        "verbs: '*' matches custom verbs too (escalate)",
        cluster_grant(rule(["*"], ["roles"], [RBAC_GROUP])),
        Request("escalate", "roles", api_group=RBAC_GROUP, name="r", namespace="dev"),
        True,
        binding="b",
    ),
    Case(
        "verb-case",
        "verbs: comparison is exact and case-sensitive",
        cluster_grant(rule(["Get"], ["pods"])),
        get("pods"),
        False,
    ),
    Case(
        "verb-custom-not-implied",
        "verbs: custom verbs (impersonate) are not implied by read or write verbs",
        cluster_grant(rule(["get", "list", "create", "update"], ["users"])),
        Request("impersonate", "users", name="bob"),
        False,
    ),
    Case(
        "verb-request-star",
        "verbs: a request for verb '*' is met only by a rule listing '*'",
        cluster_grant(rule(["get", "list", "watch", "create", "update", "patch", "delete"], ["*"], ["*"])),
        Request("*", "*", api_group="*"),
        False,
    ),
    # -- apiGroups ----------------------------------------------------------------------------
    Case(
        "group-core",
        "apiGroups: '' is the core group",
        cluster_grant(rule(["get"], ["pods"], [""])),
        get("pods"),
        True,
        binding="b",
    ),
    Case(
        "group-core-not-apps",
        "apiGroups: '' does not match the apps group",
        cluster_grant(rule(["get"], ["deployments"], [""])),
        get("deployments", api_group="apps"),
        False,
    ),
    Case(
        "group-star",
        "apiGroups: '*' matches every group",
        cluster_grant(rule(["get"], ["deployments"], ["*"])),
        get("deployments", api_group="apps"),
        True,
        binding="b",
    ),
    Case(
        "group-exact",
        "apiGroups: a named group matches only itself",
        cluster_grant(rule(["get"], ["deployments"], ["apps"])),
        get("deployments", api_group="extensions"),
        False,
    ),
    Case(
        "group-named-not-core",
        "apiGroups: a named group does not cover core resources",
        cluster_grant(rule(["get"], ["pods"], ["apps"])),
        get("pods"),
        False,
    ),
    # -- resources and subresources -----------------------------------------------------------
    Case(
        "res-not-sub",
        "resources: 'pods' does not match the subresource pods/exec",
        cluster_grant(rule(["create"], ["pods"])),
        Request("create", "pods", subresource="exec", name="web", namespace="dev"),
        False,
    ),
    Case(
        "res-sub-exact",
        "resources: 'pods/exec' matches the pods/exec subresource",
        cluster_grant(rule(["create"], ["pods/exec"])),
        Request("create", "pods", subresource="exec", name="web", namespace="dev"),
        True,
        binding="b",
    ),
    Case(
        "res-sub-not-parent",
        "resources: 'pods/exec' does not match pods itself",
        cluster_grant(rule(["get"], ["pods/exec"])),
        get("pods", name="web"),
        False,
    ),
    Case(
        "res-star-sub",
        "resources: '*' matches subresources too",
        cluster_grant(rule(["create"], ["*"])),
        Request("create", "pods", subresource="exec", name="web", namespace="dev"),
        True,
        binding="b",
    ),
    Case(
        "res-star-slash-sub",
        "resources: '*/scale' matches the scale subresource of any resource",
        cluster_grant(rule(["update"], ["*/scale"], ["apps"])),
        Request("update", "deployments", subresource="scale", api_group="apps", name="web", namespace="dev"),
        True,
        binding="b",
    ),
    Case(
        "res-star-slash-no-sub",
        "resources: '*/scale' matches only requests for a subresource",
        cluster_grant(rule(["update"], ["*/scale"], ["apps"])),
        Request("update", "deployments", api_group="apps", name="web", namespace="dev"),
        False,
    ),
    Case(
        "res-pods-slash-star-exec",
        "resources: 'pods/*' is not a wildcard for pods/exec",
        cluster_grant(rule(["create"], ["pods/*"])),
        Request("create", "pods", subresource="exec", name="web", namespace="dev"),
        False,
    ),
    Case(
        "res-pods-slash-star-pods",
        "resources: 'pods/*' does not match pods",
        cluster_grant(rule(["get"], ["pods/*"])),
        get("pods"),
        False,
    ),
    Case(
        "res-pods-slash-star-literal",
        "resources: 'pods/*' matches only the literal resource string pods/*",
        cluster_grant(rule(["get"], ["pods/*"])),
        get("pods", subresource="*"),
        True,
        binding="b",
    ),
    Case(
        "res-star-slash-exec",
        "resources: '*/exec' matches pods/exec",
        cluster_grant(rule(["create"], ["*/exec"])),
        Request("create", "pods", subresource="exec", name="web", namespace="dev"),
        True,
        binding="b",
    ),
    Case(
        "res-star-slash-star",
        "resources: '*/*' is not a wildcard for subresources",
        cluster_grant(rule(["create"], ["*/*"])),
        Request("create", "pods", subresource="exec", name="web", namespace="dev"),
        False,
    ),
    Case(
        "res-exact-plural",
        "resources: comparison is exact ('pod' is not 'pods')",
        cluster_grant(rule(["get"], ["pod"])),
        get("pods"),
        False,
    ),
    # -- resourceNames ------------------------------------------------------------------------
    Case(
        "names-hit",
        "resourceNames: a listed name matches",
        cluster_grant(rule(["get"], ["configmaps"], names=["app"])),
        get("configmaps", name="app"),
        True,
        binding="b",
    ),
    Case(
        "names-miss",
        "resourceNames: an unlisted name does not match",
        cluster_grant(rule(["get"], ["configmaps"], names=["app"])),
        get("configmaps", name="other"),
        False,
    ),
    Case(
        "names-list",
        "resourceNames: cannot restrict list (a request without a name never matches)",
        cluster_grant(rule(["list"], ["configmaps"], names=["app"])),
        Request("list", "configmaps", namespace="dev"),
        False,
    ),
    Case(
        "names-create",
        "resourceNames: cannot restrict top-level create (no name on the request)",
        cluster_grant(rule(["create"], ["configmaps"], names=["app"])),
        Request("create", "configmaps", namespace="dev"),
        False,
    ),
    Case(
        "names-watch",
        "resourceNames: cannot restrict watch without a metadata.name field selector",
        cluster_grant(rule(["watch"], ["configmaps"], names=["app"])),
        Request("watch", "configmaps", namespace="dev"),
        False,
    ),
    Case(
        "names-deletecollection",
        "resourceNames: cannot restrict deletecollection",
        cluster_grant(rule(["deletecollection"], ["configmaps"], names=["app"])),
        Request("deletecollection", "configmaps", namespace="dev"),
        False,
    ),
    Case(
        "names-list-field-selector",
        "resourceNames: list with a metadata.name field selector carries the name",
        cluster_grant(rule(["list"], ["configmaps"], names=["app"])),
        Request("list", "configmaps", name="app", namespace="dev"),
        True,
        binding="b",
    ),
    Case(
        "names-subresource-create",
        "resourceNames: create on a subresource (pods/exec) carries the name and can be restricted",
        cluster_grant(rule(["create"], ["pods/exec"], names=["web-0"])),
        Request("create", "pods", subresource="exec", name="web-0", namespace="dev"),
        True,
        binding="b",
    ),
    Case(
        "names-empty-any",
        "resourceNames: an empty list allows every name",
        cluster_grant(rule(["get"], ["configmaps"])),
        get("configmaps", name="anything"),
        True,
        binding="b",
    ),
    # -- nonResourceURLs ----------------------------------------------------------------------
    Case(
        "url-exact",
        "nonResourceURLs: an exact path matches",
        cluster_grant(urls(["get"], ["/healthz"])),
        Request("get", non_resource_url="/healthz"),
        True,
        binding="b",
    ),
    Case(
        "url-suffix-glob",
        "nonResourceURLs: a trailing '*' is a prefix match",
        cluster_grant(urls(["get"], ["/healthz/*"])),
        Request("get", non_resource_url="/healthz/etcd"),
        True,
        binding="b",
    ),
    Case(
        "url-glob-needs-prefix",
        "nonResourceURLs: '/healthz/*' does not match '/healthz' (prefix includes the slash)",
        cluster_grant(urls(["get"], ["/healthz/*"])),
        Request("get", non_resource_url="/healthz"),
        False,
    ),
    Case(
        "url-glob-no-slash",
        "nonResourceURLs: '/healthz*' is a plain string prefix (matches /healthzzz)",
        cluster_grant(urls(["get"], ["/healthz*"])),
        Request("get", non_resource_url="/healthzzz"),
        True,
        binding="b",
    ),
    Case(
        "url-star",
        "nonResourceURLs: '*' matches every path",
        cluster_grant(urls(["get"], ["*"])),
        Request("get", non_resource_url="/metrics"),
        True,
        binding="b",
    ),
    Case(
        "url-many-stars",
        "nonResourceURLs: every trailing '*' is trimmed ('/api**' is prefix '/api')",
        cluster_grant(urls(["get"], ["/api**"])),
        Request("get", non_resource_url="/apis/apps"),
        True,
        binding="b",
    ),
    Case(
        "url-inner-star-literal",
        "nonResourceURLs: a '*' that is not trailing is literal",
        cluster_grant(urls(["get"], ["/logs/*/x"])),
        Request("get", non_resource_url="/logs/a/x"),
        False,
    ),
    Case(
        "url-verb",
        "nonResourceURLs: the verb must match too",
        cluster_grant(urls(["get"], ["/healthz"])),
        Request("post", non_resource_url="/healthz"),
        False,
    ),
    Case(
        "url-rule-not-resource",
        "nonResourceURLs: a URL-only rule grants no resource",
        cluster_grant(urls(["*"], ["*"])),
        get("pods"),
        False,
    ),
    Case(
        "resource-rule-not-url",
        "resources: a resource rule grants no nonResourceURL, even with '*'",
        cluster_grant(rule(["*"], ["*"], ["*"])),
        Request("get", non_resource_url="/healthz"),
        False,
    ),
    # -- scope: RoleBinding vs ClusterRoleBinding ---------------------------------------------
    Case(
        "rb-cr-namespace",
        "RoleBinding to a ClusterRole grants its namespaced resources in the binding's namespace",
        scoped_grant(ALICE_SECRETS),
        get("secrets", name="s"),
        True,
        binding="b",
    ),
    Case(
        "rb-cr-other-namespace",
        "RoleBinding to a ClusterRole grants nothing in other namespaces",
        scoped_grant(ALICE_SECRETS),
        get("secrets", name="s", namespace="prod"),
        False,
    ),
    Case(
        "rb-cr-cluster-scoped",
        "RoleBinding to a ClusterRole never grants cluster-scoped resources (nodes)",
        scoped_grant(rule(["get"], ["nodes"])),
        get("nodes", namespace=None, name="n1"),
        False,
    ),
    Case(
        "rb-cr-no-urls",
        "RoleBinding to a ClusterRole never grants nonResourceURLs",
        scoped_grant(urls(["get"], ["/healthz"])),
        Request("get", non_resource_url="/healthz", namespace="dev"),
        False,
    ),
    Case(
        "rb-cr-own-namespace",
        "RoleBinding to cluster-admin covers the namespace object itself",
        scoped_grant(rule(["*"], ["*"], ["*"])),
        get("namespaces", name="dev", namespace="dev"),
        True,
        binding="b",
    ),
    Case(
        "rb-cr-all-namespaces",
        "RoleBinding does not grant list across all namespaces",
        scoped_grant(rule(["list"], ["pods"])),
        Request("list", "pods"),
        False,
    ),
    Case(
        "role-other-namespace",
        "Role bound in its namespace grants nothing elsewhere",
        local_grant(PODS),
        get("pods", namespace="prod"),
        False,
    ),
    Case(
        "role-own-namespace",
        "Role bound by a RoleBinding in its namespace grants there",
        local_grant(PODS),
        get("pods"),
        True,
        binding="b",
    ),
    Case(
        "role-ref-binding-namespace",
        "roleRef kind Role resolves in the binding's namespace, not the Role's of the same name elsewhere",
        [role("r", "prod", PODS), role_binding("b", "dev", "Role", "r", user("alice"))],
        get("pods"),
        False,
    ),
    Case(
        "crb-any-namespace",
        "ClusterRoleBinding grants in every namespace",
        cluster_grant(PODS),
        get("pods", namespace="kube-system"),
        True,
        binding="b",
    ),
    Case(
        "crb-cluster-scoped",
        "ClusterRoleBinding grants cluster-scoped resources",
        cluster_grant(rule(["get"], ["nodes"])),
        get("nodes", namespace=None, name="n1"),
        True,
        binding="b",
    ),
    Case(
        "crb-all-namespaces",
        "ClusterRoleBinding grants list across all namespaces",
        cluster_grant(rule(["list"], ["pods"])),
        Request("list", "pods"),
        True,
        binding="b",
    ),
    Case(
        "namespace-defaulted",
        "a RoleBinding without metadata.namespace lands in 'default'",
        [
            cluster_role("r", PODS),
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": "b"},
                "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "r"},
                "subjects": [user("alice")],
            },
        ],
        get("pods", namespace="default"),
        True,
        binding="b",
    ),
    # -- subjects -----------------------------------------------------------------------------
    Case(
        "sa-default-namespace",
        "ServiceAccount subject without namespace in a RoleBinding defaults to the binding's namespace",
        scoped_grant(PODS, subjects=[sa("ci")]),
        get("pods"),
        True,
        subject=Subject.service_account("dev", "ci"),
        binding="b",
    ),
    Case(
        "sa-default-namespace-other",
        "ServiceAccount subject defaulted to the binding namespace does not match a same-name SA elsewhere",
        scoped_grant(PODS, subjects=[sa("ci")]),
        get("pods"),
        False,
        subject=Subject.service_account("prod", "ci"),
    ),
    Case(
        "sa-cross-namespace",
        "ServiceAccount subject with an explicit namespace is granted in the binding's namespace",
        scoped_grant(PODS, subjects=[sa("ci", "ops")]),
        get("pods"),
        True,
        subject=Subject.service_account("ops", "ci"),
        binding="b",
    ),
    Case(
        "sa-crb-no-namespace",
        "ServiceAccount subject without namespace in a ClusterRoleBinding matches no one",
        cluster_grant(PODS, subjects=[sa("ci")]),
        get("pods"),
        False,
        subject=Subject.service_account("dev", "ci"),
    ),
    Case(
        "sa-username",
        "a ServiceAccount authenticates as system:serviceaccount:<ns>:<name>",
        cluster_grant(PODS, subjects=[sa("ci", "dev")]),
        get("pods"),
        True,
        user="system:serviceaccount:dev:ci",
        binding="b",
    ),
    Case(
        "sa-user-subject",
        "a User subject named system:serviceaccount:<ns>:<name> matches that ServiceAccount",
        cluster_grant(PODS, subjects=[user("system:serviceaccount:dev:ci")]),
        get("pods"),
        True,
        subject=Subject.service_account("dev", "ci"),
        binding="b",
    ),
    Case(
        "sa-group-all",
        "group system:serviceaccounts holds every ServiceAccount",
        cluster_grant(PODS, subjects=[group("system:serviceaccounts")]),
        get("pods"),
        True,
        subject=Subject.service_account("anywhere", "x"),
        binding="b",
    ),
    Case(
        "sa-group-namespace",
        "group system:serviceaccounts:<ns> holds the ServiceAccounts of that namespace",
        cluster_grant(PODS, subjects=[group("system:serviceaccounts:dev")]),
        get("pods"),
        True,
        subject=Subject.service_account("dev", "x"),
        binding="b",
    ),
    Case(
        "sa-group-other-namespace",
        "group system:serviceaccounts:<ns> does not hold ServiceAccounts of other namespaces",
        cluster_grant(PODS, subjects=[group("system:serviceaccounts:dev")]),
        get("pods"),
        False,
        subject=Subject.service_account("prod", "x"),
    ),
    Case(
        "sa-group-plural",
        "the singular system:serviceaccount: is a username prefix, not a group",
        cluster_grant(PODS, subjects=[group("system:serviceaccount:dev")]),
        get("pods"),
        False,
        subject=Subject.service_account("dev", "x"),
    ),
    Case(
        "authenticated-user",
        "group system:authenticated holds every authenticated user",
        cluster_grant(PODS, subjects=[group("system:authenticated")]),
        get("pods"),
        True,
        subject=Subject.user("alice"),
        binding="b",
    ),
    Case(
        "authenticated-sa",
        "group system:authenticated holds ServiceAccounts",
        cluster_grant(PODS, subjects=[group("system:authenticated")]),
        get("pods"),
        True,
        subject=Subject.service_account("dev", "ci"),
        binding="b",
    ),
    Case(
        "authenticated-not-anonymous",
        "system:anonymous is not in system:authenticated",
        cluster_grant(PODS, subjects=[group("system:authenticated")]),
        get("pods"),
        False,
        subject=Subject.user("system:anonymous"),
    ),
    Case(
        "unauthenticated-anonymous",
        "system:anonymous is in system:unauthenticated",
        cluster_grant(urls(["get"], ["/version"]), subjects=[group("system:unauthenticated")]),
        Request("get", non_resource_url="/version"),
        True,
        subject=Subject.user("system:anonymous"),
        binding="b",
    ),
    Case(
        "anonymous-user-subject",
        "a binding to the user system:anonymous applies to anonymous requests",
        cluster_grant(PODS, subjects=[user("system:anonymous")]),
        get("pods"),
        True,
        user="system:anonymous",
        groups=("system:unauthenticated",),
        binding="b",
    ),
    Case(
        "user-case",
        "User subjects compare names exactly",
        cluster_grant(PODS, subjects=[user("Alice")]),
        get("pods"),
        False,
    ),
    Case(
        "group-not-member",
        "a Group subject applies only to members of the group",
        cluster_grant(PODS, subjects=[group("devs")]),
        get("pods"),
        False,
    ),
    Case(
        "group-member",
        "a Group subject applies to a user carrying that group",
        cluster_grant(PODS, subjects=[group("devs")]),
        get("pods"),
        True,
        groups=("devs",),
        binding="b",
    ),
    Case(
        "user-not-group",
        "a User subject does not match a group of the same name",
        cluster_grant(PODS, subjects=[user("devs")]),
        get("pods"),
        False,
        groups=("devs",),
    ),
    Case(
        "unknown-subject-kind",
        "a subject of unknown kind matches no one",
        cluster_grant(PODS, subjects=[{"kind": "Robot", "name": "alice"}]),
        get("pods"),
        False,
    ),
    # -- system:masters -----------------------------------------------------------------------
    Case(
        "masters-no-bindings",
        "system:masters bypasses RBAC: allowed with no bindings at all",
        [],
        Request("delete", "nodes", name="n1"),
        True,
        groups=("system:masters",),
    ),
    Case(
        "masters-urls",
        "system:masters bypasses RBAC for nonResourceURLs too",
        [],
        Request("get", non_resource_url="/debug/pprof"),
        True,
        groups=("system:masters",),
    ),
    Case(
        "masters-user-name",
        "only the group system:masters bypasses RBAC, not a user of that name",
        [],
        get("pods"),
        False,
        user="system:masters",
    ),
    # -- role references ----------------------------------------------------------------------
    Case(
        "missing-role-additive",
        "a binding to a missing role grants nothing; other bindings still grant (rules are additive)",
        [
            *cluster_grant(PODS),
            cluster_role_binding("dangling", "does-not-exist", user("alice")),
        ],
        get("pods"),
        True,
        binding="b",
    ),
    Case(
        "missing-role",
        "a binding to a missing role grants nothing",
        [cluster_role_binding("dangling", "does-not-exist", user("alice"))],
        get("pods"),
        False,
    ),
    Case(
        "crb-to-role",
        "a ClusterRoleBinding cannot reference a Role",
        [role("r", "dev", PODS), cluster_role_binding("b", "r", user("alice"), ref_kind="Role")],
        get("pods"),
        False,
    ),
    Case(
        "ref-kind-unknown",
        "a roleRef kind other than Role or ClusterRole grants nothing",
        [cluster_role("r", PODS), cluster_role_binding("b", "r", user("alice"), ref_kind="Policy")],
        get("pods"),
        False,
    ),
    Case(
        "not-rbac-group",
        "a Role of another API group is not an RBAC object",
        [
            {**role("r", "dev", PODS), "apiVersion": "example.com/v1"},
            role_binding("b", "dev", "Role", "r", user("alice")),
        ],
        get("pods"),
        False,
    ),
    # -- aggregation --------------------------------------------------------------------------
    Case(
        "agg-labels",
        "aggregationRule: matchLabels pulls the rules of labelled ClusterRoles",
        [
            cluster_role("monitoring", selectors=[{"matchLabels": {"aggregate-to-monitoring": "true"}}]),
            cluster_role("endpoints", rule(["get"], ["endpoints"]), labels={"aggregate-to-monitoring": "true"}),
            cluster_role_binding("b", "monitoring", user("alice")),
        ],
        get("endpoints"),
        True,
        binding="b",
    ),
    Case(
        "agg-chain",
        "aggregationRule: chains resolve to a fixed point (aggregate-to-edit → edit → admin)",
        [
            cluster_role(
                "admin", selectors=[{"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}}]
            ),
            cluster_role(
                "edit",
                labels={"rbac.authorization.k8s.io/aggregate-to-admin": "true"},
                selectors=[{"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}}],
            ),
            cluster_role(
                "system:aggregate-to-edit",
                rule(["create"], ["pods/exec"]),
                labels={"rbac.authorization.k8s.io/aggregate-to-edit": "true"},
            ),
            role_binding("b", "dev", "ClusterRole", "admin", user("alice")),
        ],
        Request("create", "pods", subresource="exec", name="web", namespace="dev"),
        True,
        binding="b",
    ),
    Case(
        "agg-expressions",
        "aggregationRule: matchExpressions In and Exists are honoured",
        [
            cluster_role(
                "agg",
                selectors=[
                    {
                        "matchExpressions": [
                            {"key": "tier", "operator": "In", "values": ["gold", "silver"]},
                            {"key": "team", "operator": "Exists"},
                        ]
                    }
                ],
            ),
            cluster_role("src", rule(["get"], ["secrets"]), labels={"tier": "silver", "team": "a"}),
            cluster_role_binding("b", "agg", user("alice")),
        ],
        get("secrets"),
        True,
        binding="b",
    ),
    Case(
        "agg-expressions-miss",
        "aggregationRule: every requirement of a selector must hold",
        [
            cluster_role(
                "agg",
                selectors=[
                    {
                        "matchExpressions": [
                            {"key": "tier", "operator": "In", "values": ["gold"]},
                            {"key": "team", "operator": "DoesNotExist"},
                        ]
                    }
                ],
            ),
            cluster_role("src", rule(["get"], ["secrets"]), labels={"tier": "gold", "team": "a"}),
            cluster_role_binding("b", "agg", user("alice")),
        ],
        get("secrets"),
        False,
    ),
    Case(
        "agg-notin-absent",
        "aggregationRule: NotIn also selects roles without the label",
        [
            cluster_role(
                "agg", selectors=[{"matchExpressions": [{"key": "x", "operator": "NotIn", "values": ["no"]}]}]
            ),
            cluster_role("src", rule(["get"], ["secrets"])),
            cluster_role_binding("b", "agg", user("alice")),
        ],
        get("secrets"),
        True,
        binding="b",
    ),
    Case(
        "agg-overrides-declared",
        "aggregationRule: the control plane overwrites rules declared on the aggregated role",
        [
            cluster_role("agg", rule(["get"], ["secrets"]), selectors=[{"matchLabels": {"nothing": "here"}}]),
            cluster_role_binding("b", "agg", user("alice")),
        ],
        get("secrets"),
        False,
    ),
    # -- bind and escalate --------------------------------------------------------------------
    Case(
        "bind-clusterroles",
        "bind: verb bind on clusterroles in rbac.authorization.k8s.io, checked by role name",
        cluster_grant(rule(["bind"], ["clusterroles"], [RBAC_GROUP], names=["view"])),
        Request("bind", "clusterroles", api_group=RBAC_GROUP, name="view"),
        True,
        binding="b",
    ),
    Case(
        "bind-wrong-resource",
        "bind: bind on rolebindings does not allow binding roles",
        cluster_grant(rule(["bind"], ["rolebindings", "clusterrolebindings"], [RBAC_GROUP])),
        Request("bind", "clusterroles", api_group=RBAC_GROUP, name="admin"),
        False,
    ),
    Case(
        "bind-wrong-group",
        "bind: bind on clusterroles in the core group is not the RBAC resource",
        cluster_grant(rule(["bind"], ["clusterroles"], [""])),
        Request("bind", "clusterroles", api_group=RBAC_GROUP, name="admin"),
        False,
    ),
    Case(
        "escalate-not-bind",
        "escalate and bind are distinct verbs",
        cluster_grant(rule(["escalate"], ["clusterroles"], [RBAC_GROUP])),
        Request("bind", "clusterroles", api_group=RBAC_GROUP, name="admin"),
        False,
    ),
]


def _applies(subject: Subject, user: str, groups: Sequence[str]) -> bool:
    if subject.kind == "Group":
        return subject.name in groups
    return subject.username == user


def _decide(rbac: RbacIndex, case: Case) -> tuple[Decision, str, tuple[str, ...]]:
    if case.subject is not None:
        groups = implicit_groups(case.subject)
        return rbac.can_subject(case.subject, case.request), case.subject.username or "", groups
    return rbac.can(case.user, case.groups, case.request), case.user, case.groups


def test_table_is_large_and_labelled() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
    assert all(c.spec for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_authorizer_case(case: Case) -> None:
    rbac = index(case.objects)
    decision, user_name, groups = _decide(rbac, case)
    assert decision.allowed is case.allowed, case.spec

    # An RBAC allow always names its binding and rule; a deny names none.
    superuser = MASTERS_GROUP in groups
    assert decision.superuser is superuser
    if case.allowed and not superuser:
        assert decision.grants, case.spec
        assert case.binding in {g.binding.name for g in decision.grants}
        for grant in decision.grants:
            assert grant.rule == rbac.rules_of(grant.role)[grant.rule_index]  # type: ignore[index]
    if not case.allowed:
        assert decision.grants == ()

    # who_can answers the same question from the other side.
    via_who_can = any(_applies(g.subject, user_name, groups) for g in rbac.who_can(case.request))
    assert via_who_can is (case.allowed and not superuser), case.spec
