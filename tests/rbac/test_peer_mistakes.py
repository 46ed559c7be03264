"""Mistakes other RBAC analysers make, and that Stockade must not make.

Each test names the mistake; the expectation is what the API server really does.
"""

from __future__ import annotations

from stockade.rbac import Request, Subject
from tests.rbac.builders import (
    cluster_grant,
    cluster_role,
    cluster_role_binding,
    group,
    index,
    rule,
    sa,
    scoped_grant,
    urls,
    user,
)

RBAC_GROUP = "rbac.authorization.k8s.io"
EXEC = Request("create", "pods", subresource="exec", name="web-0", namespace="prod")


def test_pods_slash_star_is_not_a_wildcard_for_exec() -> None:
    # Mistake: reading resources ["pods/*"] as every pods subresource (a false positive).
    rbac = index(cluster_grant(rule(["create"], ["pods/*"])))
    assert not rbac.can("alice", [], EXEC)
    assert len(rbac.who_can(EXEC)) == 0


def test_star_slash_exec_is_a_wildcard_for_exec() -> None:
    # The mirror mistake: ignoring "*/exec", which does grant exec (a false negative).
    rbac = index(cluster_grant(rule(["create"], ["*/exec"])))
    assert rbac.can("alice", [], EXEC)
    assert [g.subject for g in rbac.who_can(EXEC)] == [Subject.user("alice")]


def test_rules_with_resource_names_are_not_skipped() -> None:
    # Mistake: dropping every rule that has resourceNames, missing exec into named pods.
    rbac = index(cluster_grant(rule(["create"], ["pods/exec"], names=["web-0"])))
    assert rbac.can("alice", [], EXEC)
    assert [g.binding.name for g in rbac.who_can(EXEC)] == ["b"]
    other_pod = Request("create", "pods", subresource="exec", name="db-0", namespace="prod")
    assert not rbac.can("alice", [], other_pod)
    assert len(rbac.who_can(other_pod)) == 0


def test_resource_names_do_not_restrict_list_into_a_grant() -> None:
    # The opposite over-reach: treating a named rule as a grant for unnamed list/watch.
    rbac = index(cluster_grant(rule(["get", "list", "watch"], ["secrets"], names=["tls"])))
    assert not rbac.can("alice", [], Request("list", "secrets", namespace="prod"))
    assert rbac.can("alice", [], Request("get", "secrets", name="tls", namespace="prod"))


def test_bind_is_checked_on_roles_not_on_bindings() -> None:
    # Mistake: looking for verb bind on rolebindings/clusterrolebindings. The API server asks for
    # bind on the referenced role (clusterroles or roles) in rbac.authorization.k8s.io.
    wrong = index(cluster_grant(rule(["bind"], ["rolebindings", "clusterrolebindings"], [RBAC_GROUP])))
    right = index(cluster_grant(rule(["bind"], ["clusterroles"], [RBAC_GROUP])))
    bind_admin = Request("bind", "clusterroles", api_group=RBAC_GROUP, name="admin", namespace="prod")
    assert not wrong.can("alice", [], bind_admin)
    assert right.can("alice", [], bind_admin)
    assert [g.role.name for g in right.who_can(bind_admin)] == ["r"]
    core_group = index(cluster_grant(rule(["bind"], ["clusterroles"], [""])))
    assert not core_group.can("alice", [], bind_admin)


def test_groups_are_not_ignored() -> None:
    # Mistake: who-can listing users and ServiceAccounts only, missing grants to groups.
    rbac = index(
        [
            cluster_role("reader", rule(["get", "list"], ["secrets"])),
            cluster_role_binding("all-sas", "reader", group("system:serviceaccounts")),
            cluster_role_binding("devs", "reader", group("devs")),
        ]
    )
    request = Request("list", "secrets", namespace="prod")
    assert {g.subject for g in rbac.who_can(request)} == {
        Subject.group("system:serviceaccounts"),
        Subject.group("devs"),
    }
    # And a ServiceAccount inherits the group's grant.
    decision = rbac.can_subject(Subject.service_account("web", "default"), request)
    assert [g.binding.name for g in decision.grants] == ["all-sas"]
    assert decision.grants[0].subject == Subject.group("system:serviceaccounts")


def test_non_resource_url_prefixes_are_not_ignored() -> None:
    # Mistake: comparing nonResourceURLs literally, so "/healthz/*" never answers "/healthz/etcd".
    rbac = index(cluster_grant(urls(["get"], ["/healthz/*", "/logs*"])))
    for path in ("/healthz/etcd", "/logs", "/logs/kubelet.log"):
        request = Request("get", non_resource_url=path)
        assert rbac.can("alice", [], request), path
        assert [g.subject.name for g in rbac.who_can(request)] == ["alice"], path
    assert not rbac.can("alice", [], Request("get", non_resource_url="/healthz"))


def test_role_binding_to_cluster_role_is_scoped_to_its_namespace() -> None:
    # Mistake: treating a RoleBinding to a ClusterRole as a cluster-wide grant.
    rbac = index(scoped_grant(rule(["get"], ["secrets", "nodes"]), namespace="dev", subjects=[sa("ci")]))
    ci = Subject.service_account("dev", "ci")
    assert rbac.can_subject(ci, Request("get", "secrets", name="s", namespace="dev"))
    assert not rbac.can_subject(ci, Request("get", "secrets", name="s", namespace="prod"))
    assert not rbac.can_subject(ci, Request("get", "nodes", name="n1"))
    assert [g.subject for g in rbac.who_can(Request("get", "secrets", namespace="dev"))] == [ci]
    assert len(rbac.who_can(Request("get", "secrets", namespace="prod"))) == 0


def test_system_masters_is_not_a_binding() -> None:
    # Mistake: treating system:masters as "whatever cluster-admin's binding grants".
    rbac = index([])
    decision = rbac.can("kubeadm", ["system:masters"], Request("escalate", "clusterroles", api_group=RBAC_GROUP))
    assert decision.allowed and decision.superuser and decision.grants == ()
    assert rbac.who_can(Request("delete", "nodes")).superuser_groups == ("system:masters",)


def test_controller_kinds_are_matched_in_their_own_group() -> None:
    # Mistake: checking only the core group for deployments and other controller kinds.
    rbac = index(cluster_grant(rule(["create"], ["deployments"], ["apps"]), subjects=[user("bob")]))
    assert rbac.can("bob", [], Request("create", "deployments", api_group="apps", namespace="prod"))
    assert not rbac.can("bob", [], Request("create", "deployments", api_group="", namespace="prod"))


def test_resource_written_with_its_subresource_is_split() -> None:
    # "pods/exec" written as one resource must still meet "*/exec", as the real request would.
    request = Request("create", "pods/exec", name="web-0", namespace="prod")
    assert (request.resource, request.subresource) == ("pods", "exec")
    assert request == EXEC
    rbac = index(cluster_grant(rule(["create"], ["*/exec"])))
    assert rbac.can("alice", [], request)
