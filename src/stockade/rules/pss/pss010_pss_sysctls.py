"""Pod sets an unsafe sysctl (Pod Security baseline).

## What it does
Runs the baseline `sysctls` check: `spec.securityContext.sysctls` may only name the safe,
namespaced sysctls of the newest policy (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range,
net.ipv4.ip_local_reserved_ports, net.ipv4.tcp_syncookies, net.ipv4.ping_group_range,
net.ipv4.ip_unprivileged_port_start, the net.ipv4.tcp_keepalive_* and tcp_fin_timeout,
tcp_rmem, tcp_wmem, tcp_slow_start_after_idle and tcp_notsent_lowat).

## Why is this bad?
Other sysctls are not isolated per pod: they change the node's kernel for every tenant, or
weaken it.

## Example
```yaml
apiVersion: v1
kind: Pod
metadata: {name: queue, namespace: shop}
spec:
  securityContext:
    sysctls: [{name: kernel.msgmax, value: "65536"}]
  containers:
    - {name: queue, image: registry.example.com/shop/queue:1.9}
```

## Use instead
```yaml
apiVersion: v1
kind: Pod
metadata: {name: queue, namespace: shop}
spec:
  securityContext:
    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "80"}]
  containers:
    - {name: queue, image: registry.example.com/shop/queue:1.9}
```

## Remediation
Remove the unsafe sysctl; tune the node itself if the workload really needs it.

## References
- https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/
"""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "sysctls",
        __doc__,
        id="PSS-010",
        name="pss-sysctls",
        title="Pod sets an unsafe sysctl (Pod Security baseline)",
        severity=Severity.MEDIUM,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.CRAWL,
        remediation="Remove sysctls outside the safe, namespaced set from spec.securityContext.sysctls.",
        default=False,
    ),
)
