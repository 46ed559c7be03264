"""Container unmasks /proc, even in a user namespace (Pod Security restricted).

## What it does
Runs the restricted `procMount_restricted` check (policy v1.35 and later):
`securityContext.procMount` must be unset or `Default`, whether or not the pod runs in a user
namespace.

## Why is this bad?
A user namespace limits what root inside the container is worth, but an unmasked `/proc`
still shows the kernel's tunables and other details the runtime hides.

## Example
```yaml
apiVersion: v1
kind: Pod
metadata: {name: build, namespace: ci}
spec:
  hostUsers: false
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
  hostUsers: false
  containers:
    - name: build
      image: registry.example.com/ci/buildkit:0.13
```

## Remediation
Remove `procMount`; run builds that need an unmasked `/proc` in a baseline namespace.

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
"""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "procMount_restricted",
        __doc__,
        id="PSS-019",
        name="pss-proc-mount-restricted",
        title="Container unmasks /proc, even in a user namespace (Pod Security restricted)",
        severity=Severity.MEDIUM,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.WALK,
        remediation="Remove securityContext.procMount or set it to Default.",
        default=False,
    ),
)
