"""Container runs privileged (Pod Security baseline).

## What it does
Runs the baseline `privileged` check: no container, init container or ephemeral container may
set `securityContext.privileged: true`.

## Why is this bad?
A privileged container holds every capability and every host device, outside seccomp and
AppArmor: it is root on the node with one mount command.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: debug, namespace: tools}
spec:
  selector: {matchLabels: {app: debug}}
  template:
    metadata: {labels: {app: debug}}
    spec:
      containers:
        - name: shell
          image: registry.example.com/tools/shell:1.4
          securityContext: {privileged: true}
```

## Use instead
```yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: debug, namespace: tools}
spec:
  selector: {matchLabels: {app: debug}}
  template:
    metadata: {labels: {app: debug}}
    spec:
      containers:
        - name: shell
          image: registry.example.com/tools/shell:1.4
          securityContext: {privileged: false}
```

## Remediation
Set `securityContext.privileged: false`; grant the one capability the process needs instead.

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
"""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "privileged",
        __doc__,
        id="PSS-002",
        name="pss-privileged",
        title="Container runs privileged (Pod Security baseline)",
        severity=Severity.CRITICAL,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.CRAWL,
        remediation="Set securityContext.privileged: false (or remove it) on every container.",
        default=False,
    ),
)
