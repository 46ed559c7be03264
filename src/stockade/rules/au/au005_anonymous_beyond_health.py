"""AU-005: structured authentication that lets anonymous requests reach more than the health checks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.rules.base import RuleContext, Violation, object_rule

HEALTH = frozenset({"/healthz", "/readyz", "/livez"})


@object_rule(
    kinds={"AuthenticationConfiguration"},
    id="AU-005",
    name="anonymous-beyond-health-checks",
    title="Anonymous requests reach more than the health checks",
    severity=Severity.HIGH,
    area=Area.AUTHENTICATION,
    stage=Stage.WALK,
    frameworks={"cis-1.10": ["1.2.1"], "nsa-cisa": ["authn.authentication"], "mitre-attack": ["T1078"]},
    remediation="Keep anonymous.enabled only with conditions on /healthz, /readyz and /livez, or turn it off.",
)
def anonymous_beyond_health(ctx: RuleContext, config: Resource) -> Iterator[Violation]:
    """Anonymous requests reach more than the health checks.

    ## What it does
    Reads the AuthenticationConfiguration that kube-apiserver's `--authentication-config` names
    (v1.32+; `stockade node scan` reads it from the control-plane node). With `anonymous.enabled:
    true`, every condition must be one of the health endpoints `/healthz`, `/readyz`, `/livez`;
    no conditions at all means anonymous access everywhere RBAC allows it.

    ## Why is this bad?
    Load balancers need the health endpoints without credentials; nothing else does. Anonymous
    access beyond them turns one careless binding to `system:unauthenticated` into a public API.

    ## Example
    ```yaml
    apiVersion: apiserver.config.k8s.io/v1beta1
    kind: AuthenticationConfiguration
    anonymous:
      enabled: true
    ```

    ## Use instead
    ```yaml
    apiVersion: apiserver.config.k8s.io/v1beta1
    kind: AuthenticationConfiguration
    anonymous:
      enabled: true
      conditions:
        - path: /livez
        - path: /readyz
        - path: /healthz
    ```

    ## Remediation
    List only the health endpoints under `anonymous.conditions`, or set `anonymous.enabled: false`.

    ## References
    - https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-authenticator-configuration
    """
    anonymous = config.raw.get("anonymous")
    if not isinstance(anonymous, Mapping) or anonymous.get("enabled") is not True:
        return
    conditions = anonymous.get("conditions")
    if not isinstance(conditions, list) or not conditions:
        yield Violation("anonymous requests are enabled with no conditions: every path", ("anonymous",))
        return
    for index, condition in enumerate(conditions):
        path = condition.get("path") if isinstance(condition, Mapping) else None
        if path not in HEALTH:
            yield Violation(f"anonymous requests may reach {path!r}", ("anonymous", "conditions", index, "path"))
