"""Pod does not require a non-root user (Pod Security restricted).

## What it does
Runs the restricted `runAsNonRoot` check: `runAsNonRoot: true` on the pod or on every
container, and `false` nowhere. A non-zero `runAsUser` does not count. Pods in a user
namespace (`spec.hostUsers: false`) are exempt.

## Why is this bad?
Without it the image decides, and most images run as root: root in the container is root on
the node's kernel.

## Example
```yaml
apiVersion: v1
kind: Pod
metadata: {name: worker, namespace: jobs}
spec:
  containers:
    - {name: worker, image: registry.example.com/jobs/worker:5.0}
```

## Use instead
```yaml
apiVersion: v1
kind: Pod
metadata: {name: worker, namespace: jobs}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 10001}
  containers:
    - {name: worker, image: registry.example.com/jobs/worker:5.0}
```

## Remediation
Set `runAsNonRoot: true` in the pod securityContext and build the image with a numeric non-root `USER`.

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
"""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "runAsNonRoot",
        __doc__,
        id="PSS-015",
        name="pss-run-as-non-root",
        title="Pod does not require a non-root user (Pod Security restricted)",
        severity=Severity.MEDIUM,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.WALK,
        remediation="Set spec.securityContext.runAsNonRoot: true (and no container may set it to false).",
        default=False,
    ),
)
