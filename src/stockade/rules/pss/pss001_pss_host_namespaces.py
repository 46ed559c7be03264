"""Pod shares a host namespace (Pod Security baseline).

## What it does
Runs the baseline `hostNamespaces` check: `spec.hostNetwork`, `spec.hostPID` and `spec.hostIPC`
must be unset or false.

## Why is this bad?
A pod in the node's network, process or IPC namespace sees node traffic, every process's
environment, or other tenants' shared memory. The baseline level refuses all three.

## Example
```yaml
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-agent, namespace: ops}
spec:
  selector: {matchLabels: {app: node-agent}}
  template:
    metadata: {labels: {app: node-agent}}
    spec:
      hostPID: true
      containers:
        - {name: agent, image: registry.example.com/ops/agent:1.2}
```

## Use instead
```yaml
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-agent, namespace: ops}
spec:
  selector: {matchLabels: {app: node-agent}}
  template:
    metadata: {labels: {app: node-agent}}
    spec:
      containers:
        - {name: agent, image: registry.example.com/ops/agent:1.2}
```

## Remediation
Remove `hostNetwork`, `hostPID` and `hostIPC` from the pod spec. An agent that truly needs the
node's view belongs in a namespace labelled `privileged`, kept apart from applications.

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
"""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "hostNamespaces",
        __doc__,
        id="PSS-001",
        name="pss-host-namespaces",
        title="Pod shares a host namespace (Pod Security baseline)",
        severity=Severity.HIGH,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.CRAWL,
        remediation="Remove spec.hostNetwork, spec.hostPID and spec.hostIPC (or set them to false).",
        default=False,
    ),
)
