"""Pod or container sets runAsUser 0 (Pod Security restricted).

## What it does
Runs the restricted `runAsUser` check: neither the pod nor any container may set
`runAsUser: 0`. Pods in a user namespace (`spec.hostUsers: false`) are exempt.

## Why is this bad?
UID 0 is root on the node's kernel; any other weakness of the pod becomes a node compromise.

## Example
```yaml
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: shop}
spec:
  template:
    spec:
      restartPolicy: Never
      securityContext: {runAsUser: 0}
      containers:
        - {name: migrate, image: registry.example.com/shop/migrate:2.3.1}
```

## Use instead
```yaml
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: shop}
spec:
  template:
    spec:
      restartPolicy: Never
      securityContext: {runAsUser: 10001}
      containers:
        - {name: migrate, image: registry.example.com/shop/migrate:2.3.1}
```

## Remediation
Remove `runAsUser: 0`; set a non-zero UID and `runAsNonRoot: true`.

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
"""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "runAsUser",
        __doc__,
        id="PSS-016",
        name="pss-run-as-user-root",
        title="Pod or container sets runAsUser 0 (Pod Security restricted)",
        severity=Severity.HIGH,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.WALK,
        remediation="Remove runAsUser: 0 from the pod and container securityContexts (use a non-zero UID).",
        default=False,
    ),
)
