"""Container adds a capability outside the default set (Pod Security baseline).

## What it does
Runs the baseline `capabilities_baseline` check: `securityContext.capabilities.add` may only
name AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP,
SETGID, SETPCAP, SETUID and SYS_CHROOT, spelled exactly so. (At restricted the stricter
`capabilities_restricted` check, PSS-018, takes its place.)

## Why is this bad?
Anything beyond the container runtime's defaults (SYS_ADMIN, NET_ADMIN, SYS_PTRACE, NET_RAW…)
is kernel power a compromised process can use against the node or its neighbours.

## Example
```yaml
apiVersion: v1
kind: Pod
metadata: {name: netmon, namespace: ops}
spec:
  containers:
    - name: netmon
      image: registry.example.com/ops/netmon:1.0
      securityContext:
        capabilities: {add: [NET_ADMIN]}
```

## Use instead
```yaml
apiVersion: v1
kind: Pod
metadata: {name: netmon, namespace: ops}
spec:
  containers:
    - name: netmon
      image: registry.example.com/ops/netmon:1.0
      securityContext:
        capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
```

## Remediation
Remove the capability from `capabilities.add`; keep only entries of the default set.

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
"""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "capabilities_baseline",
        __doc__,
        id="PSS-003",
        name="pss-capabilities-baseline",
        title="Container adds a capability outside the default set (Pod Security baseline)",
        severity=Severity.HIGH,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.CRAWL,
        remediation="Remove capabilities outside the runtime's default set from securityContext.capabilities.add.",
        default=False,
    ),
)
