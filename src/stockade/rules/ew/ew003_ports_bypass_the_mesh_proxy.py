"""EW-003: ports or addresses whose traffic bypasses the mesh proxy."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.base import READS_ANY, Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.ew._mesh import membership

# Annotations that take traffic away from the proxy, so away from mutual TLS and authorization.
BYPASS = {
    "istio": (
        "traffic.sidecar.istio.io/excludeInboundPorts",
        "traffic.sidecar.istio.io/excludeOutboundPorts",
        "traffic.sidecar.istio.io/excludeOutboundIPRanges",
    ),
    "linkerd": ("config.linkerd.io/skip-inbound-ports", "config.linkerd.io/skip-outbound-ports"),
}


def _bypasses(annotations: Mapping[str, Any], mesh: str) -> list[tuple[str, str]]:
    return [(k, str(annotations[k])) for k in BYPASS[mesh] if str(annotations.get(k) or "").strip()]


@inventory_rule(
    id="EW-003",
    reads={READS_ANY},
    name="ports-bypass-the-mesh-proxy",
    title="Traffic on some ports bypasses the mesh proxy",
    severity=Severity.MEDIUM,
    area=Area.EAST_WEST,
    stage=Stage.CRAWL,
    frameworks={"nsa-cisa": ["network.encryption"], "owasp-k8s-2025": ["K05"]},
    remediation="Remove the exclude/skip annotations; for protocols the proxy cannot detect, declare the ports "
    "opaque (Linkerd config.linkerd.io/opaque-ports, Istio appProtocol: tcp) so they stay encrypted.",
)
def ports_bypass_the_mesh_proxy(ctx: RuleContext) -> Iterator[Outcome]:
    """Traffic on some ports bypasses the mesh proxy.

    ## What it does
    Flags meshed workloads whose pods tell the proxy to let traffic pass untouched: Istio's
    `traffic.sidecar.istio.io/excludeInboundPorts`, `excludeOutboundPorts` and
    `excludeOutboundIPRanges`, and Linkerd's `config.linkerd.io/skip-inbound-ports` and
    `skip-outbound-ports` (on the pod, or on a namespace with Linkerd-meshed workloads). Linkerd's
    *opaque* ports are not flagged: they skip protocol detection but stay encrypted.

    ## Why is this bad?
    Connections on an excluded port or to an excluded address never reach the proxy: they are
    plain text, carry no identity, and no authorization policy or mesh log sees them. It is the
    usual fix for a protocol the proxy misread, and it quietly leaves a hole in mutual TLS.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata: {name: shop, labels: {istio-injection: enabled}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: cache, namespace: shop}
    spec:
      selector: {matchLabels: {app: cache}}
      template:
        metadata:
          labels: {app: cache}
          annotations: {traffic.sidecar.istio.io/excludeInboundPorts: "6379"}
        spec:
          containers: [{name: redis, image: "registry.example.com/redis:7", ports: [{containerPort: 6379}]}]
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata: {name: shop, labels: {istio-injection: enabled}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: cache, namespace: shop}
    spec:
      selector: {matchLabels: {app: cache}}
      template:
        metadata: {labels: {app: cache}}
        spec:
          containers: [{name: redis, image: "registry.example.com/redis:7", ports: [{containerPort: 6379}]}]
    ```

    ## Remediation
    Remove the annotation. When the proxy misdetects a protocol, declare the port's protocol
    (Istio `appProtocol: tcp` on the Service port, Linkerd `config.linkerd.io/opaque-ports`), which
    keeps it inside mutual TLS.

    ## References
    - https://istio.io/latest/docs/reference/config/annotations/
    - https://linkerd.io/2/features/protocol-detection/
    """
    mesh = ctx.analyses.get(membership)
    if not mesh.view:
        return
    for workload in mesh.workloads:
        if workload.mesh is None:
            continue
        carrier = workload.template.carrier
        violations = tuple(
            Violation(
                f'{carrier.kind} "{carrier.name}" sets {key}: {value}: that traffic bypasses the {workload.mesh} proxy',
                (*workload.template.path, "metadata", "annotations", key),
            )
            for key, value in _bypasses(workload.annotations, workload.mesh)
        )
        yield Outcome(carrier, violations)
    linkerd_namespaces = {w.namespace for w in mesh.workloads if w.mesh == "linkerd"}
    for namespace in ctx.inventory.of_kind("Namespace"):
        if namespace.name in linkerd_namespaces:
            violations = tuple(
                Violation(
                    f'namespace "{namespace.name}" sets {key}: {value}: that traffic bypasses the linkerd proxy',
                    ("metadata", "annotations", key),
                )
                for key, value in _bypasses(namespace.annotations, "linkerd")
            )
            yield Outcome(namespace, violations)
