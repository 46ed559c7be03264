"""Pod or container sets a custom SELinux type, user or role (Pod Security baseline).

## What it does
Runs the baseline `seLinuxOptions` check: `seLinuxOptions.type` (pod and containers) must be
unset, empty, `container_t`, `container_init_t`, `container_kvm_t` or `container_engine_t`, and
`seLinuxOptions.user` and `.role` must not be set.

## Why is this bad?
A type such as `spc_t` (super-privileged container) or a custom user or role lifts the SELinux
confinement that separates containers from the node and from each other.

## Example
```yaml
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: ops}
spec:
  securityContext:
    seLinuxOptions: {type: spc_t}
  containers:
    - {name: agent, image: registry.example.com/ops/agent:1.2}
```

## Use instead
```yaml
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: ops}
spec:
  securityContext:
    seLinuxOptions: {level: "s0:c123,c456"}
  containers:
    - {name: agent, image: registry.example.com/ops/agent:1.2}
```

## Remediation
Drop `seLinuxOptions.type`, `.user` and `.role` (a `level` for MCS separation is fine).

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
"""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "seLinuxOptions",
        __doc__,
        id="PSS-007",
        name="pss-selinux",
        title="Pod or container sets a custom SELinux type, user or role (Pod Security baseline)",
        severity=Severity.MEDIUM,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.CRAWL,
        remediation="Remove seLinuxOptions.user and .role; use a container_* SELinux type or none.",
        default=False,
    ),
)
