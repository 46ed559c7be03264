"""Windows pod runs a HostProcess container (Pod Security baseline).

## What it does
Runs the baseline `windowsHostProcess` check: `securityContext.windowsOptions.hostProcess`
(pod and containers) must be unset or false.

## Why is this bad?
A HostProcess container is a process on the Windows node itself, with the node's network and
file system: the Windows equivalent of a privileged container.

## Example
```yaml
apiVersion: v1
kind: Pod
metadata: {name: win-agent, namespace: ops}
spec:
  os: {name: windows}
  hostNetwork: true
  securityContext:
    windowsOptions: {hostProcess: true}
  containers:
    - {name: agent, image: registry.example.com/ops/win-agent:1.0}
```

## Use instead
```yaml
apiVersion: v1
kind: Pod
metadata: {name: win-agent, namespace: ops}
spec:
  os: {name: windows}
  containers:
    - {name: agent, image: registry.example.com/ops/win-agent:1.0}
```

## Remediation
Remove `windowsOptions.hostProcess`; node agents that need it belong in a `privileged` namespace.

## References
- https://kubernetes.io/docs/tasks/configure-pod-container/create-hostprocess-pod/
"""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "windowsHostProcess",
        __doc__,
        id="PSS-011",
        name="pss-windows-host-process",
        title="Windows pod runs a HostProcess container (Pod Security baseline)",
        severity=Severity.CRITICAL,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.CRAWL,
        remediation="Remove securityContext.windowsOptions.hostProcess (pod and containers) or set it to false.",
        default=False,
    ),
)
