"""What SA findings say and the fixes they suggest (the fixtures check which objects fail, and where)."""

from __future__ import annotations

from stockade.model.finding import Finding, Status
from tests.helpers import scan_text

POD = """
apiVersion: v1
kind: Pod
metadata: {{name: api, namespace: shop}}
spec:
  {spec}
  containers:
    - {{name: api, image: registry.example.com/shop/api:2.3.1}}
"""


def binding(name: str, subject: str) -> str:
    return f"""
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: {name}, namespace: shop}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}}
subjects: [{subject}]
"""


def only(rule_id: str, *documents: str) -> Finding:
    result = scan_text("\n---\n".join(documents), [rule_id])
    assert result.errors == []
    [finding] = [f for f in result.findings if f.status is not Status.PASS]
    assert finding.status is Status.FAIL
    return finding


def test_default_service_account_messages_and_fix() -> None:
    unset = only("SA-001", POD.format(spec=""))
    assert (
        unset.message == 'pod sets no serviceAccountName, so it runs as the default ServiceAccount of namespace "shop"'
    )
    assert unset.remediation == (
        "kubectl create serviceaccount api -n shop && kubectl patch pod api -n shop --type=strategic"
        ' -p \'{"spec":{"serviceAccountName":"api"}}\''
    )
    explicit = only("SA-001", POD.format(spec="serviceAccountName: default"))
    assert explicit.message.startswith("pod sets serviceAccountName: default, so it runs as")


def test_grants_to_the_default_account_are_named() -> None:
    by_name = binding("grant", "{kind: ServiceAccount, name: default, namespace: shop}")
    by_group = binding("everyone", "{kind: Group, name: 'system:serviceaccounts:shop'}")
    finding = only("SA-001", POD.format(spec=""), by_name, by_group)
    assert finding.message == (
        'pod sets no serviceAccountName, so it runs as the default ServiceAccount of namespace "shop", which is'
        " granted permissions by RoleBinding/shop/grant, RoleBinding/shop/everyone (group system:serviceaccounts:shop)"
    )
    many = [binding(f"b{i}", "{kind: ServiceAccount, name: default}") for i in range(5)]
    assert only("SA-001", POD.format(spec=""), *many).message.endswith(
        "RoleBinding/shop/b0, RoleBinding/shop/b1, RoleBinding/shop/b2 and 2 more"
    )


def test_grants_through_a_user_or_a_wider_group_say_how_they_reach_the_account() -> None:
    as_user = binding("as-user", "{kind: User, name: 'system:serviceaccount:shop:default'}")
    everyone = binding("everyone", "{kind: Group, name: 'system:authenticated'}")
    finding = only("SA-001", POD.format(spec=""), as_user, everyone)
    assert finding.message.endswith(
        "granted permissions by RoleBinding/shop/as-user (as user system:serviceaccount:shop:default),"
        " RoleBinding/shop/everyone (group system:authenticated)"
    )


def test_a_binding_to_an_unknown_role_is_named_without_claiming_a_grant() -> None:
    missing = """
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deploys, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
subjects: [{kind: ServiceAccount, name: default}]
"""
    finding = only("SA-001", POD.format(spec=""), missing)
    assert finding.severity.value == "medium"
    assert finding.message == (
        'pod sets no serviceAccountName, so it runs as the default ServiceAccount of namespace "shop"; it is also'
        " bound to roles not in the scan by RoleBinding/shop/deploys to Role/shop/deployer (unknown role: what"
        " they grant cannot be judged)"
    )
    granted = only("SA-001", POD.format(spec=""), missing, binding("grant", "{kind: ServiceAccount, name: default}"))
    assert granted.severity.value == "high"
    assert "granted permissions by RoleBinding/shop/grant; it is also bound to roles not in the scan" in granted.message


def test_token_automount_messages_and_fix() -> None:
    opted_in = only("SA-002", POD.format(spec="automountServiceAccountToken: true"))
    assert opted_in.message == "pod sets automountServiceAccountToken: true"
    assert opted_in.remediation == (
        'kubectl patch pod api -n shop --type=strategic -p \'{"spec":{"automountServiceAccountToken":false}}\''
    )
    unknown = only("SA-002", POD.format(spec="serviceAccountName: web"))
    assert unknown.message == (
        'pod does not set automountServiceAccountToken: false (ServiceAccount "web" is not in the scan,'
        " so its setting is unknown)"
    )
    account = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: shop}\n"
    neither = only("SA-002", POD.format(spec="serviceAccountName: web"), account)
    assert neither.message == 'neither the pod nor its ServiceAccount "web" sets automountServiceAccountToken: false'


def test_service_account_messages_and_fix() -> None:
    account = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: api, namespace: shop}}\n{field}"
    unset = only("SA-003", account.format(field=""))
    assert unset.message == 'ServiceAccount "api" does not set automountServiceAccountToken: false'
    assert unset.remediation == (
        "kubectl patch serviceaccount api -n shop -p '{\"automountServiceAccountToken\": false}'"
    )
    enabled = only("SA-003", account.format(field="automountServiceAccountToken: true"))
    assert enabled.message == 'ServiceAccount "api" sets automountServiceAccountToken: true'
