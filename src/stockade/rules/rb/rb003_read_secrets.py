"""RB-003: who can read Secrets (get, list or watch on secrets)."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.rbac.danger import Danger
from stockade.rules.base import Outcome, RuleContext, inventory_rule
from stockade.rules.rb._outcomes import danger_outcomes
from stockade.rules.rb._scan import REVIEW_READS, rbac_scan


@inventory_rule(
    id="RB-003",
    reads=REVIEW_READS,
    name="read-secrets",
    title="Subjects can read Secrets",
    severity=Severity.CRITICAL,
    area=Area.RBAC,
    stage=Stage.WALK,
    frameworks={
        "nsa-cisa": ["authn.rbac"],
        "owasp-k8s-2022": ["K03", "K08"],
        "owasp-k8s-2025": ["K02", "K03"],
        "mitre-attack": ["T1552.007", "T1528"],
        "cis-1.10": ["5.1.2"],
    },
    remediation="Drop get/list/watch on secrets, or limit get to the named Secrets the subject needs.",
)
def read_secrets(ctx: RuleContext) -> Iterator[Outcome]:
    """Subjects can read Secrets.

    ## What it does
    Flags role rules that allow `get`, `list` or `watch` on `secrets` (directly or through a
    wildcard), with the subjects that hold them and where. Cluster-wide it is critical: Secrets of
    `kube-system` hold controller credentials. In a namespace it is medium, critical when a
    cluster-admin-equivalent ServiceAccount lives there (or in `kube-system`). `get` limited to
    named Secrets with `resourceNames` is what least privilege looks like and is not reported.

    ## Why is this bad?
    Secrets hold database passwords, API keys, TLS keys and, in older clusters, ServiceAccount
    tokens. `list` and `watch` return the values too: `kubectl get secrets -o yaml` prints them
    all. Reading a token Secret gives the token's permissions.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: secret-reader, namespace: payments}
    rules:
      - apiGroups: [""]
        resources: [secrets]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: reporting-reads-secrets, namespace: payments}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
    subjects:
      - {kind: Group, name: reporting, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: tls-reader, namespace: payments}
    rules:
      - apiGroups: [""]
        resources: [secrets]
        resourceNames: [payments-tls]
        verbs: [get]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: gateway-reads-tls, namespace: payments}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: tls-reader}
    subjects:
      - {kind: ServiceAccount, name: gateway, namespace: payments}
    ```

    ## Remediation
    Remove `secrets` from the rule, or keep only `get` with `resourceNames` listing the Secrets the
    subject reads. Applications should receive their Secrets as volumes or environment variables
    rather than read them through the API.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#listing-secrets
    - https://kubernetes.io/docs/concepts/configuration/secret/#information-security-for-secrets
    """
    yield from danger_outcomes(rbac_scan(ctx), (Danger.READ_SECRETS,))
