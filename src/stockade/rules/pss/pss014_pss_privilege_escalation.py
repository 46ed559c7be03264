"""Container does not forbid privilege escalation (Pod Security restricted).

## What it does
Runs the restricted `allowPrivilegeEscalation` check: every container must set
`securityContext.allowPrivilegeEscalation: false` explicitly. Windows pods are exempt.

## Why is this bad?
Unless it is false, setuid binaries and file capabilities can raise a process's privileges
(the kernel's `no_new_privs` flag stays off).

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
  containers:
    - name: api
      image: registry.example.com/shop/api:2.3.1
      securityContext: {allowPrivilegeEscalation: false}
```

## Remediation
Add `allowPrivilegeEscalation: false` to every container's securityContext.

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
"""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "allowPrivilegeEscalation",
        __doc__,
        id="PSS-014",
        name="pss-privilege-escalation",
        title="Container does not forbid privilege escalation (Pod Security restricted)",
        severity=Severity.MEDIUM,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.WALK,
        remediation="Set securityContext.allowPrivilegeEscalation: false on every container.",
        default=False,
    ),
)
