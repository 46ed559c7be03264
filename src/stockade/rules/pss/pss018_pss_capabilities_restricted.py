"""Container does not drop ALL capabilities (Pod Security restricted).

## What it does
Runs the restricted `capabilities_restricted` check: every container must drop `ALL`
capabilities and may add back only `NET_BIND_SERVICE`. Windows pods only answer to the
baseline capability rule.

## Why is this bad?
The runtime's default capabilities (NET_RAW, CHOWN, SETUID, DAC_OVERRIDE…) are attack surface
few applications use.

## Example
```yaml
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
    - {name: web, image: registry.example.com/shop/web:3.2}
```

## Use instead
```yaml
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
    - name: web
      image: registry.example.com/shop/web:3.2
      securityContext:
        capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
```

## Remediation
Add `capabilities: {drop: [ALL]}` to every container; add `NET_BIND_SERVICE` only to bind ports below 1024.

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
"""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "capabilities_restricted",
        __doc__,
        id="PSS-018",
        name="pss-capabilities-restricted",
        title="Container does not drop ALL capabilities (Pod Security restricted)",
        severity=Severity.LOW,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.WALK,
        remediation='Set securityContext.capabilities.drop: ["ALL"] and add back only NET_BIND_SERVICE.',
        default=False,
    ),
)
