"""SA-003: a ServiceAccount whose token every pod running as it gets by default."""

from __future__ import annotations

import json
from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.rules._kubectl import kubectl_target
from stockade.rules.base import RuleContext, Violation, is_false, is_true, object_rule


@object_rule(
    id="SA-003",
    name="service-account-automount-enabled",
    title="ServiceAccount lets pods mount its token by default",
    severity=Severity.LOW,
    area=Area.SERVICE_ACCOUNTS,
    stage=Stage.WALK,
    kinds={"ServiceAccount"},
    frameworks={
        "cis-1.10": ["5.1.5", "5.1.6"],
        "nsa-cisa": ["pod-security.sa-tokens"],
        "owasp-k8s-2022": ["K03"],
        "owasp-k8s-2025": ["K02"],
        "mitre-attack": ["T1528"],
    },
    remediation="Set automountServiceAccountToken: false on the ServiceAccount; pods that need a token opt in.",
)
def service_account_automount_enabled(ctx: RuleContext, account: Resource) -> Iterator[Violation]:
    """ServiceAccount lets pods mount its token by default.

    ## What it does
    Flags ServiceAccount objects that do not set `automountServiceAccountToken: false`.

    ## Why is this bad?
    The ServiceAccount's setting is the default for every pod that runs as it. Turning automount off
    at the account means a new workload gets no token unless it asks for one, instead of each pod
    having to remember to opt out. It matters most for each namespace's `default` account.

    ## Example
    ```yaml
    apiVersion: v1
    kind: ServiceAccount
    metadata: {name: default, namespace: shop}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: ServiceAccount
    metadata: {name: default, namespace: shop}
    automountServiceAccountToken: false
    ```

    ## Remediation
    `kubectl patch serviceaccount default -n shop -p '{"automountServiceAccountToken": false}'`,
    and set `automountServiceAccountToken: true` on the pods that really call the API.

    ## References
    - https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting
    """
    value = account.raw.get("automountServiceAccountToken")
    if is_false(value):
        return
    how = (
        "sets automountServiceAccountToken: true"
        if is_true(value)
        else "does not set automountServiceAccountToken: false"
    )
    patch = json.dumps({"automountServiceAccountToken": False})
    yield Violation(
        f'ServiceAccount "{account.name}" {how}',
        ("automountServiceAccountToken",) if value is not None else (),
        remediation=f"kubectl patch {kubectl_target(account)} -p '{patch}'",
    )
