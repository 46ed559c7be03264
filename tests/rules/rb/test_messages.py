"""What RB findings say: who holds the power, through which binding and rule, and where it takes effect.

The fixtures (tests/rules/RB-*) pin where each finding lands and how severe it is; these pin the text
a person acts on, which the fixture format does not check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from stockade.model.finding import Status
from tests.helpers import scan_objects
from tests.rbac.builders import (
    cluster_grant,
    cluster_role,
    cluster_role_binding,
    group,
    local_grant,
    role_binding,
    rule,
    sa,
    scoped_grant,
    user,
)


def message(raws: Iterable[Mapping[str, Any]], rule_id: str) -> str:
    """The message of the one failed finding of ``rule_id``."""
    result = scan_objects(raws, [rule_id])
    assert result.errors == []
    found = [f for f in result.findings if f.status is not Status.PASS]
    assert [f.status for f in found] == [Status.FAIL], [f.message for f in found]
    return found[0].message


def test_cluster_admin_through_a_rolebinding_names_the_namespace_and_the_subject() -> None:
    text = message([role_binding("ops", "shop", "ClusterRole", "cluster-admin", user("jane"))], "RB-001")
    assert text == (
        "RoleBinding/shop/ops makes User/jane administrators of namespace shop"
        " (ClusterRole/cluster-admin: every verb on everything)"
    )


def test_a_stock_binding_with_a_person_added_names_only_the_person() -> None:
    tampered = [cluster_role_binding("cluster-admin", "cluster-admin", group("system:masters"), user("mallory"))]
    text = message(tampered, "RB-001")
    assert "User/mallory" in text and "system:masters" not in text


def test_a_rule_names_its_holders_and_the_bindings_that_grant_it() -> None:
    text = message(cluster_grant(rule(["list"], ["secrets"])), "RB-003")
    assert (
        text
        == "ClusterRole/r rules[0] lets User/alice read Secrets (list secrets), cluster-wide through ClusterRoleBinding/b"
    )


def test_a_rule_granted_in_several_places_lists_them_by_scope() -> None:
    raws = [
        cluster_role("r", rule(["get"], ["secrets"])),
        cluster_role_binding("everywhere", "r", user("alice")),
        role_binding("b", "dev", "ClusterRole", "r", user("bob")),
        role_binding("b", "prod", "ClusterRole", "r", user("bob")),
    ]
    text = message(raws, "RB-003")
    assert text.endswith(
        "cluster-wide through ClusterRoleBinding/everywhere;"
        " in namespaces dev, prod through RoleBinding/dev/b, RoleBinding/prod/b"
    )
    assert "lets User/alice, User/bob read Secrets" in text


def test_many_holders_are_summarised() -> None:
    subjects = [user(f"u{n}") for n in range(6)]
    text = message(cluster_grant(rule(["get"], ["secrets"]), subjects=subjects), "RB-003")
    assert "lets User/u0, User/u1, User/u2 and 3 more read Secrets" in text


def test_a_cluster_admin_copy_is_one_finding_that_says_so() -> None:
    text = message(local_grant(rule(["*"], ["*"], ["*"])), "RB-002")
    assert text.startswith("Role/dev/r rules[0] lets User/alice do everything (* on *)")


def test_a_rule_nobody_is_granted_where_it_takes_effect_is_latent() -> None:
    unbound = message([cluster_role("spare", rule(["*"], ["*"], ["*"]))], "RB-002")
    assert unbound.endswith(
        "no binding in the scanned objects grants it where it takes effect yet, so it is a latent grant"
    )
    # nodes are cluster-scoped: a RoleBinding grants nodes/proxy nowhere
    assert "latent grant" in message(scoped_grant(rule(["get"], ["nodes/proxy"])), "RB-009")


def test_an_aggregated_rule_is_reported_in_its_source_role_with_the_holders_of_the_aggregate() -> None:
    label = {"example.com/aggregate-to-readers": "true"}
    raws = [
        cluster_role("secret-bits", rule(["get"], ["secrets"]), labels=label),
        cluster_role("readers", selectors=[{"matchLabels": label}]),
        cluster_role_binding("readers", "readers", group("auditors")),
    ]
    text = message(raws, "RB-003")
    assert text.startswith("ClusterRole/secret-bits rules[0] lets Group/auditors read Secrets")
    assert text.endswith("cluster-wide through ClusterRoleBinding/readers")


def test_a_binding_of_a_kubernetes_role_names_the_rule_and_where_it_comes_from() -> None:
    text = message([role_binding("devs-edit", "shop", "ClusterRole", "edit", group("developers"))], "RB-003")
    assert text == (
        "RoleBinding/shop/devs-edit lets Group/developers read Secrets (get,list,watch secrets) in namespace shop,"
        " through ClusterRole/edit rules[0] (from ClusterRole/system:aggregate-to-edit rules[0])"
    )


def test_aws_auth_names_the_mapped_identities() -> None:
    aws_auth = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "aws-auth", "namespace": "kube-system"},
        "data": {"mapUsers": "- userarn: arn:aws:iam::1:user/ops\n  username: ops\n  groups: [system:masters]\n"},
    }
    assert message([aws_auth], "RB-013") == (
        "aws-auth mapUsers puts arn:aws:iam::1:user/ops in system:masters, beyond the reach of RBAC"
    )


def test_a_catch_all_subject_with_a_dangerous_role_names_the_danger() -> None:
    raws = cluster_grant(rule(["list"], ["secrets"]), subjects=[user("system:anonymous")])
    assert message(raws, "RB-014") == (
        "ClusterRoleBinding/b grants ClusterRole/r to User/system:anonymous: every unauthenticated request,"
        " including read Secrets"
    )


def test_default_service_account_grants_say_who_is_meant() -> None:
    harmless = message(local_grant(rule(["get"], ["configmaps"]), subjects=[sa("default")]), "RB-015")
    assert harmless == "RoleBinding/dev/b grants Role/dev/r to the default ServiceAccount of namespace dev"
    risky = message(local_grant(rule(["get"], ["secrets"]), subjects=[sa("default")]), "RB-015")
    assert risky.endswith("the default ServiceAccount of namespace dev, including read Secrets")
    via_group = message(
        cluster_grant(rule(["get"], ["pods"]), subjects=[group("system:serviceaccounts:dev")]), "RB-015"
    )
    assert (
        "every ServiceAccount of namespace dev (Group/system:serviceaccounts:dev), the default one included"
        in via_group
    )
    as_user = message(
        local_grant(rule(["get"], ["pods"]), subjects=[user("system:serviceaccount:dev:default")]), "RB-015"
    )
    assert as_user == (
        "RoleBinding/dev/b grants Role/dev/r to the default ServiceAccount of namespace dev"
        " (as User/system:serviceaccount:dev:default)"
    )


def test_a_missing_role_says_who_would_receive_it() -> None:
    text = message([cluster_role_binding("b", "gone", user("alice"))], "RB-016")
    assert text == (
        "ClusterRoleBinding/b references ClusterRole/gone, which does not exist:"
        " creating it would grant its permissions to User/alice"
    )


def test_a_service_account_one_step_from_admin_says_which_step() -> None:
    raws = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "ci", "namespace": "tools"}},
        cluster_role_binding("payments-admin", "cluster-admin", sa("deployer", "payments")),
        *scoped_grant(rule(["create"], ["serviceaccounts/token"]), namespace="payments", subjects=[sa("ci", "tools")]),
    ]
    result = scan_objects(raws, ["RB-017"])
    by_resource = {f.resource.display: f.message for f in result.findings if f.status is Status.FAIL}
    assert by_resource["ServiceAccount/tools/ci"] == (
        "ServiceAccount/tools/ci is cluster-admin-equivalent: can mint tokens for ServiceAccount/payments/deployer"
    )
    assert by_resource["ClusterRoleBinding/payments-admin"].startswith(
        "ServiceAccount/payments/deployer is cluster-admin-equivalent: holds * on * cluster-wide"
    )
