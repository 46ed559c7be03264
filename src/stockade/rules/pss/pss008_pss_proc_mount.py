"""Container unmasks /proc (Pod Security baseline).

## What it does
Runs the baseline `procMount` check: `securityContext.procMount` must be unset or `Default`,
except in pods that run in a user namespace (`spec.hostUsers: false`). (At restricted,
`procMount_restricted`, PSS-019, takes its place and makes no such exception.)

## Why is this bad?
`Unmasked` exposes the parts of `/proc` the runtime hides (kernel tunables, other processes'
details) to the container.

## Example
```yaml
apiVersion: v1
kind: Pod
metadata: {name: build, namespace: ci}
spec:
  containers:
    - name: build
      image: registry.example.com/ci/buildkit:0.13
      securityContext: {procMount: Unmasked}
```

## Use instead
```yaml
apiVersion: v1
kind: Pod
metadata: {name: build, namespace: ci}
spec:
  containers:
    - name: build
      image: registry.example.com/ci/buildkit:0.13
      securityContext: {procMount: Default}
```

## Remediation
Remove `procMount` (or set `Default`); a rootless builder that needs it runs with `hostUsers: false`.

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
"""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "procMount",
        __doc__,
        id="PSS-008",
        name="pss-proc-mount",
        title="Container unmasks /proc (Pod Security baseline)",
        severity=Severity.MEDIUM,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.CRAWL,
        remediation="Remove securityContext.procMount or set it to Default.",
        default=False,
    ),
)
