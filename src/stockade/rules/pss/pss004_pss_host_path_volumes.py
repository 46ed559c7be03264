"""Pod mounts a hostPath volume (Pod Security baseline).

## What it does
Runs the baseline `hostPathVolumes` check: no volume may be a `hostPath`. (At restricted the
`restrictedVolumes` check, PSS-013, takes its place.)

## Why is this bad?
A hostPath gives the container the node's files: the runtime socket, kubelet credentials and
other pods' secrets are one path away.

## Example
```yaml
apiVersion: v1
kind: Pod
metadata: {name: logs, namespace: ops}
spec:
  containers:
    - name: shipper
      image: registry.example.com/ops/shipper:3.0
      volumeMounts: [{name: varlog, mountPath: /var/log}]
  volumes:
    - name: varlog
      hostPath: {path: /var/log}
```

## Use instead
```yaml
apiVersion: v1
kind: Pod
metadata: {name: logs, namespace: ops}
spec:
  containers:
    - name: shipper
      image: registry.example.com/ops/shipper:3.0
      volumeMounts: [{name: spool, mountPath: /spool}]
  volumes:
    - name: spool
      emptyDir: {}
```

## Remediation
Delete the hostPath volume and use emptyDir or a PersistentVolumeClaim for the data.

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
"""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "hostPathVolumes",
        __doc__,
        id="PSS-004",
        name="pss-host-path-volumes",
        title="Pod mounts a hostPath volume (Pod Security baseline)",
        severity=Severity.HIGH,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.CRAWL,
        remediation="Replace hostPath volumes with emptyDir, a PersistentVolumeClaim, ConfigMap, Secret or CSI volume.",
        default=False,
    ),
)
