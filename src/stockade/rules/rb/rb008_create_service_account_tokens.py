"""RB-008: who can mint ServiceAccount tokens (create on serviceaccounts/token)."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.rbac.danger import Danger
from stockade.rbac.exposure import Exposure
from stockade.rules.base import Outcome, RuleContext, inventory_rule
from stockade.rules.rb._outcomes import danger_outcomes
from stockade.rules.rb._scan import REVIEW_READS, RbacScan, rbac_scan


def _token_rate(scan: RbacScan, exposure: Exposure) -> Severity:
    """Tokens for named ServiceAccounts are as bad as those accounts, not as their namespace."""
    match = exposure.match
    if not match.names:
        return scan.severity(match, exposure.namespace)
    for holder in scan.review.holders:
        subject = holder.subject
        reached = exposure.namespace is None or subject.namespace == exposure.namespace
        if subject.kind == "ServiceAccount" and subject.name in match.names and reached:
            return Severity.CRITICAL
    return Severity.HIGH if exposure.namespace is None else Severity.MEDIUM


@inventory_rule(
    id="RB-008",
    reads=REVIEW_READS,
    name="create-service-account-tokens",
    title="Subjects can mint ServiceAccount tokens",
    severity=Severity.CRITICAL,
    area=Area.RBAC,
    stage=Stage.WALK,
    frameworks={
        "nsa-cisa": ["authn.rbac"],
        "owasp-k8s-2022": ["K03"],
        "owasp-k8s-2025": ["K02"],
        "mitre-attack": ["T1528", "T1550.001"],
        "cis-1.10": ["5.1.13"],
    },
    remediation="Remove create on serviceaccounts/token; let the kubelet mount projected tokens instead.",
)
def create_service_account_tokens(ctx: RuleContext) -> Iterator[Outcome]:
    """Subjects can mint ServiceAccount tokens.

    ## What it does
    Flags role rules that allow `create` on `serviceaccounts/token` (the TokenRequest API).
    Cluster-wide it is critical; in a namespace medium, critical where a cluster-admin-equivalent
    ServiceAccount lives. Rules limited to named ServiceAccounts (`resourceNames`) are reported
    with the names and rated by those accounts: critical when one is cluster-admin-equivalent,
    otherwise high cluster-wide and medium in a namespace.

    ## Why is this bad?
    A TokenRequest returns a fresh token for any ServiceAccount the rule reaches, with that
    account's permissions and a lifetime the caller chooses (up to the server's maximum).

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: token-issuer, namespace: ci}
    rules:
      - apiGroups: [""]
        resources: [serviceaccounts/token]
        verbs: [create]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: runner-issues-tokens, namespace: ci}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: token-issuer}
    subjects:
      - {kind: ServiceAccount, name: runner, namespace: ci}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: sa-reader, namespace: ci}
    rules:
      - apiGroups: [""]
        resources: [serviceaccounts]
        verbs: [get, list]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: runner-reads-sas, namespace: ci}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: sa-reader}
    subjects:
      - {kind: ServiceAccount, name: runner, namespace: ci}
    ```

    ## Remediation
    Workloads receive tokens through projected volumes without any RBAC. External systems should
    use workload identity federation (OIDC) rather than mint tokens.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#token-request
    - https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-request-v1/
    """
    yield from danger_outcomes(rbac_scan(ctx), (Danger.CREATE_TOKENS,), rate=_token_rate)
