"""AU-001: long-lived ServiceAccount token Secrets that still work."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.rules.base import RuleContext, Violation, object_rule

TOKEN_TYPE = "kubernetes.io/service-account-token"  # noqa: S105 - a Secret type, not a password
LAST_USED = "kubernetes.io/legacy-token-last-used"
INVALID_SINCE = "kubernetes.io/legacy-token-invalid-since"
ACCOUNT = "kubernetes.io/service-account.name"


@object_rule(
    kinds={"Secret"},
    id="AU-001",
    name="legacy-service-account-token",
    title="Long-lived ServiceAccount token Secret still works",
    severity=Severity.HIGH,
    area=Area.AUTHENTICATION,
    stage=Stage.WALK,
    frameworks={"cis-1.10": ["3.1.2"], "nsa-cisa": ["authn.authentication"], "mitre-attack": ["T1528"]},
    remediation="Delete the Secret; give the workload a projected, expiring token (or TokenRequest) instead.",
)
def legacy_token_secret(ctx: RuleContext, secret: Resource) -> Iterator[Violation]:
    """Long-lived ServiceAccount token Secret still works.

    ## What it does
    Flags Secrets of type `kubernetes.io/service-account-token` that the API server has not marked
    invalid (`kubernetes.io/legacy-token-invalid-since`, set by the legacy token cleaner from
    v1.29). When the API server recorded a use (`kubernetes.io/legacy-token-last-used`, from v1.26)
    the finding says when: such a token is still in use and must be replaced before it is removed.

    ## Why is this bad?
    These tokens never expire and are not bound to a pod: anyone who ever copied one (from a
    backup, a CI log, a `kubectl get secret -o yaml`) acts as the ServiceAccount until the Secret is
    deleted.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Secret
    metadata:
      name: deployer-token
      namespace: ci
      annotations: {kubernetes.io/service-account.name: deployer}
      labels: {kubernetes.io/legacy-token-last-used: "2026-11-30"}
    type: kubernetes.io/service-account-token
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Secret
    metadata:
      name: deployer-token
      namespace: ci
      annotations: {kubernetes.io/service-account.name: deployer}
      labels: {kubernetes.io/legacy-token-invalid-since: "2026-10-01"}
    type: kubernetes.io/service-account-token
    ```

    ## Remediation
    Move the consumer to a short-lived token (`kubectl create token`, a projected volume, or the
    CI system's OIDC federation), then delete the Secret.

    ## References
    - https://kubernetes.io/docs/concepts/security/service-accounts/#get-a-token
    - https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#legacy-serviceaccount-token-cleaner
    """
    if secret.raw.get("type") != TOKEN_TYPE or INVALID_SINCE in secret.labels:
        return
    account = secret.annotations.get(ACCOUNT, "?")
    used = secret.labels.get(LAST_USED)
    when = f"; last used {used}" if used else ""
    yield Violation(f"a token for ServiceAccount {account} that never expires{when}", ("type",))
