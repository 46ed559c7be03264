"""Container uses a host port (Pod Security baseline).

## What it does
Runs the baseline `hostPorts` check: every container port's `hostPort` must be unset or 0. The
admission plugin allows no host port at all (there is no list of known ports).

## Why is this bad?
A host port opens the container on the node's address, past NetworkPolicies, and pins the pod
to nodes where the port is free.

## Example
```yaml
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
    - name: web
      image: registry.example.com/shop/web:3.2
      ports: [{containerPort: 8080, hostPort: 80}]
```

## Use instead
```yaml
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
    - name: web
      image: registry.example.com/shop/web:3.2
      ports: [{containerPort: 8080}]
```

## Remediation
Remove `hostPort`; expose the port through a Service.

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
"""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "hostPorts",
        __doc__,
        id="PSS-005",
        name="pss-host-ports",
        title="Container uses a host port (Pod Security baseline)",
        severity=Severity.MEDIUM,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.CRAWL,
        remediation="Remove ports[].hostPort (or set it to 0) and publish the port with a Service.",
        default=False,
    ),
)
