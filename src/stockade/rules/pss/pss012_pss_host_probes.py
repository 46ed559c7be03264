"""Probe or lifecycle hook targets another host (Pod Security baseline).

## What it does
Runs the baseline `hostProbesAndHostLifecycle` check (policy v1.34 and later): liveness,
readiness and startup probes and `postStart`/`preStop` hooks must not set `httpGet.host` or
`tcpSocket.host`.

## Why is this bad?
The kubelet makes these requests from the node. A host field turns the kubelet into a proxy
to addresses the pod itself could not reach (cloud metadata, node-local services).

## Example
```yaml
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop}
spec:
  containers:
    - name: api
      image: registry.example.com/shop/api:2.3.1
      livenessProbe:
        httpGet: {host: 169.254.169.254, path: /latest/meta-data/, port: 80}
```

## Use instead
```yaml
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop}
spec:
  containers:
    - name: api
      image: registry.example.com/shop/api:2.3.1
      livenessProbe:
        httpGet: {path: /healthz, port: 8080}
```

## Remediation
Remove the `host` field so the probe targets the pod's own IP.

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
"""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "hostProbesAndHostLifecycle",
        __doc__,
        id="PSS-012",
        name="pss-host-probes",
        title="Probe or lifecycle hook targets another host (Pod Security baseline)",
        severity=Severity.MEDIUM,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.CRAWL,
        remediation="Remove httpGet.host and tcpSocket.host from probes and lifecycle hooks.",
        default=False,
    ),
)
