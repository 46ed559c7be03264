"""The RB rules on cases beyond their documented examples: scope, severity, where findings land."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from stockade.engine.evaluate import evaluate
from stockade.model.finding import Finding, Severity, Status
from stockade.rules import load_rules
from tests.rbac.builders import (
    RBAC,
    cluster_grant,
    cluster_role,
    cluster_role_binding,
    group,
    inventory,
    local_grant,
    role_binding,
    rule,
    sa,
    scoped_grant,
    user,
)

RULES = load_rules()
RB_RULES = [r for r in RULES.values() if r.family == "RB"]
Raw = dict[str, Any]


def run(raws: Iterable[Mapping[str, Any]], *rule_ids: str) -> list[Finding]:
    rules = [RULES[i] for i in rule_ids] if rule_ids else RB_RULES
    result = evaluate(inventory(raws), rules)
    assert not result.errors, result.errors
    assert not [f for f in result.findings if f.status is Status.ERROR]
    return [f for f in result.findings if f.status is Status.FAIL]


def only(raws: Iterable[Mapping[str, Any]], rule_id: str) -> Finding:
    found = run(raws, rule_id)
    assert len(found) == 1, [f.message for f in found]
    return found[0]


def passes(raws: Iterable[Mapping[str, Any]], rule_id: str) -> int:
    result = evaluate(inventory(raws), [RULES[rule_id]])
    assert [f for f in result.findings if f.status is Status.FAIL] == []
    return result.passes.by_rule.get(rule_id, 0)


def service_account(name: str, namespace: str) -> Raw:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}}


ADMIN_SA = [
    service_account("deployer", "payments"),
    cluster_role_binding("payments-admin", "cluster-admin", sa("deployer", "payments")),
]


def test_every_rb_rule_is_registered_with_rbac_metadata() -> None:
    assert [r.id for r in RB_RULES] == [f"RB-{n:03d}" for n in range(1, 18)]
    for found in RB_RULES:
        assert found.area == "rbac"
        assert "mitre-attack" in found.frameworks and "owasp-k8s-2022" in found.frameworks


# -- RB-001 ------------------------------------------------------------------------------------
def test_cluster_admin_through_a_rolebinding_is_namespace_admin() -> None:
    raws = [role_binding("ops", "shop", "ClusterRole", "cluster-admin", user("jane"))]
    finding = only(raws, "RB-001")
    assert finding.severity is Severity.HIGH
    assert "of namespace shop" in finding.message and "User/jane" in finding.message
    assert finding.path == "roleRef.name"


def test_a_copy_of_cluster_admin_counts_too() -> None:
    raws = cluster_grant(rule(["*"], ["*"], ["*"]), subjects=[group("ops")])
    assert only(raws, "RB-001").severity is Severity.CRITICAL


def test_stock_binding_is_neither_failed_nor_passed_but_added_people_are_reported() -> None:
    stock = [cluster_role_binding("cluster-admin", "cluster-admin", group("system:masters"))]
    assert passes(stock, "RB-001") == 0
    tampered = [cluster_role_binding("cluster-admin", "cluster-admin", group("system:masters"), user("mallory"))]
    finding = only(tampered, "RB-001")
    assert "User/mallory" in finding.message and "system:masters" not in finding.message


# -- RB-002 ------------------------------------------------------------------------------------
def test_wildcard_subresource_and_verbs() -> None:
    raws = local_grant(rule(["get"], ["*/scale"], ["apps"]), rule(["*"], ["configmaps"]))
    found = run(raws, "RB-002")
    assert sorted(f.path for f in found) == ["rules[0]", "rules[1]"]
    assert {f.severity for f in found} == {Severity.MEDIUM}


def test_cluster_admin_copy_in_a_role_is_namespace_admin() -> None:
    finding = only(local_grant(rule(["*"], ["*"], ["*"])), "RB-002")
    assert finding.severity is Severity.HIGH
    assert "do everything" in finding.message


def test_unbound_wildcard_role_is_a_latent_low_finding() -> None:
    finding = only([cluster_role("spare", rule(["*"], ["*"], ["*"]))], "RB-002")
    assert finding.severity is Severity.LOW and "latent" in finding.message


def test_kubernetes_own_wildcard_roles_are_not_reported() -> None:
    raws = [cluster_role("system:controller:generic-garbage-collector", rule(["delete", "get"], ["*"], ["*"]))]
    assert run(raws, "RB-002") == []


# -- RB-003 ------------------------------------------------------------------------------------
def test_list_alone_reveals_secrets_cluster_wide() -> None:
    finding = only(cluster_grant(rule(["list"], ["secrets"])), "RB-003")
    assert finding.severity is Severity.CRITICAL
    assert finding.resource.kind == "ClusterRole" and finding.path == "rules[0]"
    assert "User/alice" in finding.message and "ClusterRoleBinding/b" in finding.message
    assert "cluster-wide" in finding.message


def test_named_secret_get_is_least_privilege() -> None:
    assert passes(local_grant(rule(["get"], ["secrets"], names=["tls"])), "RB-003") == 1
    # A named list needs a metadata.name field selector: it reveals that one Secret only.
    assert passes(local_grant(rule(["list", "watch"], ["secrets"], names=["tls"])), "RB-003") == 1


def test_secrets_in_a_namespace_with_an_admin_service_account_lead_to_cluster_admin() -> None:
    plain = only(local_grant(rule(["get"], ["secrets"]), namespace="shop"), "RB-003")
    assert plain.severity is Severity.MEDIUM
    raws = [*local_grant(rule(["get"], ["secrets"]), namespace="payments"), *ADMIN_SA]
    assert only(raws, "RB-003").severity is Severity.CRITICAL
    assert only(local_grant(rule(["watch"], ["secrets"]), namespace="kube-system"), "RB-003").severity is (
        Severity.CRITICAL
    )


def test_finding_path_skips_malformed_rules_as_written() -> None:
    raws = [
        {
            "apiVersion": RBAC,
            "kind": "Role",
            "metadata": {"name": "r", "namespace": "dev"},
            "rules": ["not a rule", rule(["get"], ["configmaps"]), rule(["get"], ["secrets"])],
        },
        role_binding("b", "dev", "Role", "r", user("alice")),
    ]
    assert only(raws, "RB-003").path == "rules[2]"


def test_aggregated_rule_is_reported_where_it_is_declared() -> None:
    label = {"example.com/aggregate-to-readers": "true"}
    raws = [
        cluster_role("secret-bits", rule(["get"], ["secrets"]), labels=label),
        cluster_role("readers", selectors=[{"matchLabels": label}]),
        cluster_role_binding("readers", "readers", group("auditors")),
    ]
    finding = only(raws, "RB-003")
    assert finding.resource.name == "secret-bits" and finding.path == "rules[0]"
    assert "Group/auditors" in finding.message and "ClusterRoleBinding/readers" in finding.message


def test_binding_to_kubernetes_edit_is_reported_on_the_binding() -> None:
    raws = [role_binding("devs-edit", "shop", "ClusterRole", "edit", group("developers"))]
    finding = only(raws, "RB-003")
    assert finding.resource.kind == "RoleBinding" and finding.path == "roleRef.name"
    assert "ClusterRole/edit" in finding.message and "system:aggregate-to-edit" in finding.message
    assert finding.severity is Severity.MEDIUM


def test_many_holders_are_summarised() -> None:
    subjects = [user(f"u{n}") for n in range(6)]
    finding = only(cluster_grant(rule(["get"], ["secrets"]), subjects=subjects), "RB-003")
    assert "and 3 more" in finding.message


# -- RB-004 / RB-005 ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw_rule", "fires"),
    [
        (rule(["create"], ["*/exec"]), True),  # the authorizer's subresource wildcard
        (rule(["get"], ["pods/attach"]), True),
        (rule(["patch"], ["pods/ephemeralcontainers"]), True),
        (rule(["create"], ["pods/*"]), False),  # not a wildcard: grants nothing
        (rule(["create"], ["pods/exec"], names=["web-0"]), False),
        (rule(["get", "list"], ["pods", "pods/log"]), False),
    ],
)
def test_exec_into_pods(raw_rule: Raw, fires: bool) -> None:
    assert bool(run(local_grant(raw_rule), "RB-004")) is fires


@pytest.mark.parametrize(
    ("raw_rule", "severity"),
    [
        (rule(["create"], ["pods"]), Severity.MEDIUM),
        (rule(["patch"], ["cronjobs"], ["batch"]), Severity.MEDIUM),
        (rule(["create"], ["deployments"], ["*"]), Severity.MEDIUM),
        (rule(["create"], ["pods"], names=["x"]), None),  # create cannot be limited by name: grants nothing
        (rule(["list", "watch"], ["deployments"], ["apps"]), None),
        (rule(["create"], ["deployments"], [""]), None),  # wrong group
    ],
)
def test_create_workloads(raw_rule: Raw, severity: Severity | None) -> None:
    found = run(local_grant(raw_rule), "RB-005")
    assert (found[0].severity if found else None) is severity


def test_create_workloads_cluster_wide_is_critical() -> None:
    assert only(cluster_grant(rule(["update"], ["daemonsets"], ["apps"])), "RB-005").severity is Severity.CRITICAL


# -- RB-006 / RB-007 ---------------------------------------------------------------------------
def test_bind_limited_to_harmless_roles_is_delegation() -> None:
    raws = [
        *cluster_grant(rule(["bind"], ["clusterroles"], [RBAC.split("/")[0]], names=["view"])),
        cluster_role("view", rule(["get"], ["pods"])),
    ]
    assert only(raws, "RB-006").severity is Severity.MEDIUM
    raws[0] = cluster_role(
        "r", rule(["bind"], ["clusterroles"], ["rbac.authorization.k8s.io"], names=["cluster-admin"])
    )
    assert only(raws, "RB-006").severity is Severity.CRITICAL


def test_escalate_on_clusterroles_needs_a_cluster_wide_grant() -> None:
    group_ = ["rbac.authorization.k8s.io"]
    assert run(scoped_grant(rule(["escalate"], ["clusterroles"], group_)), "RB-006")[0].severity is Severity.LOW
    assert only(scoped_grant(rule(["escalate"], ["roles"], group_)), "RB-006").severity is Severity.HIGH


@pytest.mark.parametrize(
    ("names", "severity"),
    [((), Severity.CRITICAL), (("system:masters",), Severity.CRITICAL), (("support-readers",), Severity.HIGH)],
)
def test_impersonating_named_groups_is_as_bad_as_the_groups(names: tuple[str, ...], severity: Severity) -> None:
    assert only(cluster_grant(rule(["impersonate"], ["groups"], names=names)), "RB-007").severity is severity


def test_impersonating_an_admin_user_is_critical() -> None:
    raws = [
        *cluster_grant(rule(["impersonate"], ["users"], names=["root-jane"])),
        cluster_role_binding("jane", "cluster-admin", user("root-jane")),
    ]
    assert only(raws, "RB-007").severity is Severity.CRITICAL


def test_impersonating_service_accounts_in_a_namespace() -> None:
    assert only(local_grant(rule(["impersonate"], ["serviceaccounts"])), "RB-007").severity is Severity.MEDIUM
    # users and groups cannot be impersonated through a RoleBinding
    assert passes(local_grant(rule(["impersonate"], ["users", "groups"])), "RB-007") == 1


# -- RB-008 .. RB-012 --------------------------------------------------------------------------
def test_token_creation_by_scope() -> None:
    token = rule(["create"], ["serviceaccounts/token"])
    assert only(local_grant(token), "RB-008").severity is Severity.MEDIUM
    assert only(cluster_grant(token), "RB-008").severity is Severity.CRITICAL
    assert only([*local_grant(token, namespace="payments"), *ADMIN_SA], "RB-008").severity is Severity.CRITICAL


def test_nodes_proxy_through_a_rolebinding_grants_nothing_yet() -> None:
    proxy = rule(["get"], ["nodes/proxy"])
    assert only(cluster_grant(proxy), "RB-009").severity is Severity.CRITICAL
    latent = only(scoped_grant(proxy), "RB-009")
    assert latent.severity is Severity.LOW and "latent" in latent.message


def test_csr_approval_needs_both_halves_to_be_critical() -> None:
    csr = "certificates.k8s.io"
    approval = rule(["update"], ["certificatesigningrequests/approval"], [csr])
    signer = rule(["approve"], ["signers"], [csr], names=["kubernetes.io/*"])
    assert only(cluster_grant(approval), "RB-010").severity is Severity.MEDIUM
    both = run(cluster_grant(approval, signer), "RB-010")
    assert [f.severity for f in both] == [Severity.CRITICAL, Severity.CRITICAL]


@pytest.mark.parametrize(("verbs", "fires"), [(["delete"], True), (["patch"], True), (["get", "list", "watch"], False)])
def test_admission_configuration(verbs: list[str], fires: bool) -> None:
    raws = cluster_grant(rule(verbs, ["validatingwebhookconfigurations"], ["admissionregistration.k8s.io"]))
    assert bool(run(raws, "RB-011")) is fires


def test_persistent_volumes_in_a_role_grant_nothing() -> None:
    assert only(cluster_grant(rule(["create"], ["persistentvolumes"])), "RB-012").severity is Severity.HIGH
    assert passes(local_grant(rule(["create"], ["persistentvolumes", "persistentvolumeclaims"])), "RB-012") == 1


# -- RB-013 .. RB-017 --------------------------------------------------------------------------
def _aws_auth(map_users: str) -> Raw:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "aws-auth", "namespace": "kube-system"},
        "data": {"mapUsers": map_users},
    }


def test_aws_auth_and_bindings_naming_system_masters() -> None:
    users = "- userarn: arn:aws:iam::1:user/ops\n  username: ops\n  groups: [system:masters]\n"
    finding = only([_aws_auth(users)], "RB-013")
    assert finding.severity is Severity.CRITICAL and finding.path == "data.mapUsers"
    assert "arn:aws:iam::1:user/ops" in finding.message
    named = only([cluster_role_binding("masters-view", "view", group("system:masters"))], "RB-013")
    assert named.severity is Severity.MEDIUM and named.path == "subjects[0]"


def test_unreadable_aws_auth_is_not_a_crash() -> None:
    assert passes([_aws_auth("groups: [unclosed")], "RB-013") == 1


@pytest.mark.parametrize(
    ("subject", "raw_rule", "severity"),
    [
        (group("system:unauthenticated"), rule(["get"], ["configmaps"]), Severity.HIGH),
        (user("system:anonymous"), rule(["list"], ["secrets"]), Severity.CRITICAL),
        (group("system:authenticated"), rule(["get"], ["configmaps"]), Severity.MEDIUM),
        (group("system:serviceaccounts"), rule(["create"], ["pods"]), Severity.CRITICAL),
    ],
)
def test_grants_to_everyone(subject: Raw, raw_rule: Raw, severity: Severity) -> None:
    finding = only(cluster_grant(raw_rule, subjects=[user("alice"), subject]), "RB-014")
    assert finding.severity is severity and finding.path == "subjects[1]"


def test_kubernetes_discovery_bindings_are_not_reported() -> None:
    raws = [
        cluster_role("system:public-info-viewer", {"verbs": ["get"], "nonResourceURLs": ["/healthz", "/version"]}),
        cluster_role_binding(
            "system:public-info-viewer",
            "system:public-info-viewer",
            group("system:authenticated"),
            group("system:unauthenticated"),
        ),
    ]
    assert run(raws) == []


def test_default_service_account_grants() -> None:
    harmless = only(local_grant(rule(["get"], ["configmaps"]), subjects=[sa("default")]), "RB-015")
    assert harmless.severity is Severity.MEDIUM and "default ServiceAccount of namespace dev" in harmless.message
    risky = only(local_grant(rule(["get"], ["secrets"]), subjects=[sa("default")]), "RB-015")
    assert risky.severity is Severity.HIGH and "read Secrets" in risky.message
    via_group = only(cluster_grant(rule(["get"], ["pods"]), subjects=[group("system:serviceaccounts:dev")]), "RB-015")
    assert "every ServiceAccount of namespace dev" in via_group.message
    assert passes(local_grant(rule(["get"], ["configmaps"]), subjects=[sa("app")]), "RB-015") == 1


def test_missing_roles() -> None:
    dangling = only([cluster_role_binding("b", "gone", user("alice"))], "RB-016")
    assert dangling.severity is Severity.MEDIUM and "User/alice" in dangling.message
    assert only([role_binding("b", "dev", "Role", "gone", user("a"))], "RB-016").severity is Severity.LOW
    built_in = [
        role_binding("b", "dev", "ClusterRole", "edit", user("a")),
        cluster_role_binding("c", "system:auth-delegator", sa("api", "dev")),
        role_binding(
            "d", "kube-system", "Role", "extension-apiserver-authentication-reader", sa("adapter", "monitoring")
        ),
    ]
    assert passes(built_in, "RB-016") == 1  # edit is assumed; the other two are built in but unknown


def test_service_account_one_step_from_admin() -> None:
    raws = [
        *ADMIN_SA,
        service_account("ci", "tools"),
        *scoped_grant(rule(["create"], ["serviceaccounts/token"]), namespace="payments", subjects=[sa("ci", "tools")]),
    ]
    found = {f.resource.name: f for f in run(raws, "RB-017")}
    assert set(found) == {"deployer", "ci"}
    assert "mint tokens for ServiceAccount/payments/deployer" in found["ci"].message
    assert found["ci"].resource.kind == "ServiceAccount"


def test_admin_service_account_without_its_object_is_reported_on_the_binding() -> None:
    finding = only([cluster_role_binding("x", "cluster-admin", sa("bot", "ops"))], "RB-017")
    assert finding.resource.kind == "ClusterRoleBinding" and finding.path == "subjects[0]"


# -- shared behaviour --------------------------------------------------------------------------
def test_waiver_annotation_on_the_role() -> None:
    raws = local_grant(rule(["get"], ["secrets"]))
    raws[0]["metadata"]["annotations"] = {
        "stockade.io/ignore": "read-secrets",
        "stockade.io/ignore-reason": "break-glass reader, reviewed",
    }
    result = evaluate(inventory(raws), [RULES["RB-003"]])
    assert [f.status for f in result.findings] == [Status.EXCEPTED]


def test_all_access_is_one_finding_not_fourteen() -> None:
    found = run([cluster_role_binding("ci", "cluster-admin", sa("ci", "tools"))])
    assert sorted(f.rule_id for f in found) == ["RB-001", "RB-017"]
