"""Pod does not set a seccomp profile (Pod Security restricted).

## What it does
Runs the restricted `seccompProfile_restricted` check: the pod, or every container, must set
`securityContext.seccompProfile.type` to `RuntimeDefault` or `Localhost`, and nothing may set
another type. Windows pods only answer to the baseline rule (no `Unconfined`).

## Why is this bad?
Without a profile the container runs unconfined on most runtimes: every system call reaches
the kernel.

## Example
```yaml
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop}
spec:
  containers:
    - {name: api, image: registry.example.com/shop/api:2.3.1}
```

## Use instead
```yaml
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop}
spec:
  securityContext:
    seccompProfile: {type: RuntimeDefault}
  containers:
    - {name: api, image: registry.example.com/shop/api:2.3.1}
```

## Remediation
Set `seccompProfile: {type: RuntimeDefault}` in the pod securityContext.

## References
- https://kubernetes.io/docs/tutorials/security/seccomp/
"""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "seccompProfile_restricted",
        __doc__,
        id="PSS-017",
        name="pss-seccomp-restricted",
        title="Pod does not set a seccomp profile (Pod Security restricted)",
        severity=Severity.MEDIUM,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.WALK,
        remediation="Set spec.securityContext.seccompProfile.type: RuntimeDefault (or Localhost).",
        default=False,
    ),
)
