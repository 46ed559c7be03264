"""RBAC moves with the authorizer's semantics: each edge, and its near-miss twin.

KubeHound-style string matching gets these wrong (``pods/*`` as a wildcard, ``*/exec`` missed,
resourceNames ignored, the apps group ignored); each case here pins the real behaviour.
"""

from __future__ import annotations

import pytest

from stockade.paths import Attack
from stockade.paths.builder import ALL_SECRETS, ANY_NODE, CLUSTER_ADMIN
from tests.paths.support import (
    Raw,
    binding,
    edges,
    grant,
    graph_of,
    group_subject,
    namespace,
    role,
    rule,
    sa_subject,
    service_account,
    user_subject,
)

BOT = "ServiceAccount/shop/bot"


def targets(rules: list[Raw], *, clusterwide: bool = False, extra: list[Raw] | None = None) -> set[tuple[Attack, str]]:
    """(attack, target) of every edge out of the grant that gives ``rules`` to shop/bot."""
    ns = None if clusterwide else "shop"
    objects = [
        namespace("shop"),
        namespace("other"),
        service_account("bot"),
        *grant("power", rules, sa_subject("bot"), ns),
    ]
    graph = graph_of([*objects, *(extra or [])])
    grant_key = "ClusterRoleBinding/power" if clusterwide else "RoleBinding/shop/power"
    found = {(e.attack, e.target) for e in edges(graph, grant_key)}
    found |= {
        (e.attack, e.target)
        for e in edges(graph, BOT)
        if e.attack is not Attack.HOLDS and e.attack is not Attack.MEMBER_OF
    }
    return found


def test_exec_in_a_namespace_reaches_its_pods_and_names_the_finding() -> None:
    graph = graph_of(
        [
            namespace("shop"),
            service_account("bot"),
            *grant("debug", [rule(["create"], ["pods/exec"])], sa_subject("bot")),
        ]
    )
    [edge] = edges(graph, "RoleBinding/shop/debug", "scope:pods:shop", Attack.POD_EXEC)
    [fix] = edge.fixes
    assert (fix.rule_id, fix.resource, fix.path) == ("RB-004", "Role/shop/debug", "rules[0]")
    assert fix.fingerprint
    assert edges(graph, BOT, "RoleBinding/shop/debug", Attack.HOLDS)


def test_pods_star_grants_no_exec() -> None:
    assert targets([rule(["create"], ["pods/*"])]) == set()


def test_star_exec_grants_exec() -> None:
    assert (Attack.POD_EXEC, "scope:pods:shop") in targets([rule(["create"], ["*/exec"])])


def test_resource_names_restrict_exec_and_secret_reads() -> None:
    assert targets([rule(["create"], ["pods/exec"], names=["web-0"])]) == set()
    # a named Secret is reached, not every Secret of the namespace
    assert targets([rule(["get"], ["secrets"], names=["public-ca"])]) == {
        (Attack.READ_SECRETS, "Secret/shop/public-ca")
    }
    assert targets([rule(["list"], ["secrets"], names=["public-ca"])]) == set()  # list takes no name


def test_a_rolebinding_to_a_clusterrole_is_namespace_scoped() -> None:
    objects = [
        namespace("shop"),
        service_account("bot"),
        role("exec-anywhere", [rule(["create"], ["pods/exec"])], ns=None),
        binding("exec-here", "exec-anywhere", [sa_subject("bot")], ns="shop", role_kind="ClusterRole"),
    ]
    graph = graph_of(objects)
    assert {e.target for e in edges(graph, "RoleBinding/shop/exec-here")} == {"scope:pods:shop"}


def test_a_clusterrolebinding_reaches_every_namespace() -> None:
    assert (Attack.POD_EXEC, "scope:pods:*") in targets([rule(["create"], ["pods/exec"])], clusterwide=True)


def test_the_apps_group_counts_and_the_core_group_does_not_hold_deployments() -> None:
    assert (Attack.POD_PATCH, "scope:pods:shop") in targets([rule(["patch"], ["deployments"], ["apps"])])
    assert (Attack.POD_CREATE, "scope:create-pods:shop") in targets([rule(["create"], ["deployments"], ["apps"])])
    assert targets([rule(["patch", "create"], ["deployments"], [""])]) == set()


def test_patching_pods_changes_their_image() -> None:
    assert (Attack.POD_PATCH, "scope:pods:shop") in targets([rule(["patch"], ["pods"])])


def test_reading_secrets() -> None:
    assert (Attack.READ_SECRETS, "scope:secrets:shop") in targets([rule(["list"], ["secrets"])])
    assert (Attack.READ_SECRETS, ALL_SECRETS) in targets([rule(["get"], ["secrets"])], clusterwide=True)
    assert targets([rule(["create"], ["secrets"])]) == set()


def test_bind_needs_create_on_bindings_too() -> None:
    with_create = [
        rule(["bind"], ["clusterroles"], ["rbac.authorization.k8s.io"]),
        rule(["create"], ["clusterrolebindings"], ["rbac.authorization.k8s.io"]),
    ]
    assert (Attack.ROLE_BIND, CLUSTER_ADMIN) in targets(with_create, clusterwide=True)
    bind_only = [rule(["bind"], ["clusterroles"], ["rbac.authorization.k8s.io"])]
    assert targets(bind_only, clusterwide=True) == set()


def test_bind_limited_to_a_harmless_role_is_no_move() -> None:
    named = [
        rule(["bind"], ["clusterroles"], ["rbac.authorization.k8s.io"], names=["view"]),
        rule(["create"], ["clusterrolebindings"], ["rbac.authorization.k8s.io"]),
    ]
    assert targets(named, clusterwide=True) == set()
    admin = [
        rule(["bind"], ["clusterroles"], ["rbac.authorization.k8s.io"], names=["cluster-admin"]),
        rule(["create"], ["clusterrolebindings"], ["rbac.authorization.k8s.io"]),
    ]
    assert (Attack.ROLE_BIND, CLUSTER_ADMIN) in targets(admin, clusterwide=True)


def test_escalate_needs_update_on_the_role() -> None:
    rbac = ["rbac.authorization.k8s.io"]
    assert (Attack.ROLE_ESCALATE, CLUSTER_ADMIN) in targets(
        [rule(["escalate", "update"], ["clusterroles"], rbac)], clusterwide=True
    )
    assert targets([rule(["escalate"], ["clusterroles"], rbac)], clusterwide=True) == set()


def test_impersonation() -> None:
    assert (Attack.IMPERSONATE, CLUSTER_ADMIN) in targets([rule(["impersonate"], ["groups"])], clusterwide=True)
    named = targets([rule(["impersonate"], ["groups"], names=["auditors"])], clusterwide=True)
    assert named == {(Attack.IMPERSONATE, "Group/auditors")}
    assert (Attack.IMPERSONATE, "scope:serviceaccounts:shop") in targets([rule(["impersonate"], ["serviceaccounts"])])


def test_minting_tokens() -> None:
    assert (Attack.TOKEN_REQUEST, "scope:serviceaccounts:shop") in targets(
        [rule(["create"], ["serviceaccounts/token"])]
    )
    named = targets([rule(["create"], ["serviceaccounts/token"], names=["deployer"])])
    assert named == {(Attack.TOKEN_REQUEST, "ServiceAccount/shop/deployer")}


def test_csr_approval_needs_the_signer_and_create() -> None:
    certs = ["certificates.k8s.io"]
    approval = rule(["update"], ["certificatesigningrequests/approval"], certs)
    signer = rule(["approve"], ["signers"], certs)
    create = rule(["create"], ["certificatesigningrequests"], certs)
    assert (Attack.CSR_APPROVE, CLUSTER_ADMIN) in targets([approval, signer, create], clusterwide=True)
    assert targets([approval, create], clusterwide=True) == set()


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (rule(["get"], ["nodes/proxy"]), (Attack.NODES_PROXY, "scope:pods:*")),
        (
            rule(["patch"], ["mutatingwebhookconfigurations"], ["admissionregistration.k8s.io"]),
            (Attack.WEBHOOK_CONFIG, "scope:pods:*"),
        ),
        (rule(["create"], ["persistentvolumes"]), (Attack.PERSISTENT_VOLUME, ANY_NODE)),
        (rule(["*"], ["*"], ["*"]), (Attack.CLUSTER_ADMIN, CLUSTER_ADMIN)),
    ],
)
def test_cluster_wide_powers(entry: Raw, expected: tuple[Attack, str]) -> None:
    assert expected in targets([entry], clusterwide=True)


def test_cluster_scoped_powers_do_not_apply_through_a_rolebinding() -> None:
    assert targets([rule(["get"], ["nodes/proxy"]), rule(["create"], ["persistentvolumes"])]) == set()


def test_bindings_to_everyone_make_entry_points() -> None:
    objects = [
        namespace("shop"),
        *grant("leak", [rule(["list"], ["secrets"])], group_subject("system:unauthenticated")),
    ]
    graph = graph_of(objects)
    entries = {n.key for n in graph.entries}
    assert {"Group/system:unauthenticated", "User/system:anonymous"} <= entries
    assert edges(graph, "User/system:anonymous", "Group/system:unauthenticated", Attack.MEMBER_OF)


def test_service_accounts_join_the_groups_the_api_server_gives_them() -> None:
    objects = [
        namespace("shop"),
        service_account("bot"),
        *grant("all-sa", [rule(["list"], ["secrets"])], group_subject("system:serviceaccounts:shop")),
    ]
    graph = graph_of(objects)
    assert edges(graph, BOT, "Group/system:serviceaccounts:shop", Attack.MEMBER_OF)
    other = graph_of([*objects, service_account("bot", "other")])
    assert not edges(other, "ServiceAccount/other/bot", "Group/system:serviceaccounts:shop")


def test_a_user_holds_what_is_bound_to_them() -> None:
    graph = graph_of([namespace("shop"), *grant("debug", [rule(["create"], ["pods/exec"])], user_subject("alice"))])
    assert edges(graph, "User/alice", "RoleBinding/shop/debug", Attack.HOLDS)
