"""EW-003: ports or addresses whose traffic bypasses the mesh proxy."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.base import READS_ANY, Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.ew._mesh import MeshName, mesh_scan

# Annotations that take traffic away from the proxy, so away from mutual TLS, authorization and
# access logs. Istio reads its own on the pod only (sidecar mode: ambient pods have no sidecar);
# Linkerd also inherits its config annotations from the namespace.
BYPASS: Mapping[MeshName, tuple[str, ...]] = {
    "istio": (
        "traffic.sidecar.istio.io/excludeInboundPorts",
        "traffic.sidecar.istio.io/excludeOutboundPorts",
        "traffic.sidecar.istio.io/excludeOutboundIPRanges",
    ),
    "linkerd": (
        "config.linkerd.io/skip-inbound-ports",
        "config.linkerd.io/skip-outbound-ports",
        "config.linkerd.io/skip-subnets",
    ),
}


def bypasses(annotations: Mapping[str, Any], mesh: MeshName) -> list[tuple[str, str]]:
    found = []
    for key in BYPASS[mesh]:
        value = annotations.get(key)
        text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
        if text:
            found.append((key, text))
    return found


def _what(key: str) -> str:
    if key.endswith(("IPRanges", "subnets")):
        return "traffic to those addresses"
    return "inbound traffic on those ports" if "nbound" in key else "outbound traffic to those ports"


@inventory_rule(
    id="EW-003",
    reads={READS_ANY},
    name="ports-bypass-the-mesh-proxy",
    title="Traffic on some ports bypasses the mesh proxy",
    severity=Severity.MEDIUM,
    area=Area.EAST_WEST,
    stage=Stage.CRAWL,
    frameworks={"nsa-cisa": ["network.encryption"], "owasp-k8s-2025": ["K05"], "mitre-attack": ["T1562.001"]},
    remediation="Remove the skip/exclude annotations; for a protocol the proxy misreads, declare the port opaque "
    "(Linkerd config.linkerd.io/opaque-ports, Istio appProtocol: tcp on the Service port) so it stays encrypted.",
)
def ports_bypass_the_mesh_proxy(ctx: RuleContext) -> Iterator[Outcome]:
    """Traffic on some ports bypasses the mesh proxy.

    ## What it does
    Flags meshed workloads whose pods tell the proxy to let traffic pass untouched:
    - Linkerd: `config.linkerd.io/skip-inbound-ports`, `config.linkerd.io/skip-outbound-ports`
      and `config.linkerd.io/skip-subnets`, on the pod or on the namespace (Linkerd applies a
      namespace's config annotations to the pods it injects there, so an annotated namespace that
      is enrolled in Linkerd or holds Linkerd-meshed workloads is flagged as well);
    - Istio (sidecar mode): `traffic.sidecar.istio.io/excludeInboundPorts`,
      `excludeOutboundPorts` and `excludeOutboundIPRanges` on the pod.

    Linkerd's *opaque* ports (`config.linkerd.io/opaque-ports`) are not flagged: they skip protocol
    detection but still go through the proxy, with mutual TLS. Workloads outside the mesh are not
    judged (EW-001 judges them), nor the mesh's own parts (control plane, gateways).

    ## Why is this bad?
    Connections on a skipped port, or to a skipped address, never reach the proxy: they are plain
    text, carry no identity, and no mesh authorization policy or access log sees them. Skipping is
    the usual fix for a protocol the proxy misread (a database, a message broker) and it quietly
    leaves a hole in mutual TLS, often on the port that carries the most sensitive data.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata:
      name: shop
      annotations: {linkerd.io/inject: enabled}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: orders, namespace: shop}
    spec:
      selector: {matchLabels: {app: orders}}
      template:
        metadata:
          labels: {app: orders}
          annotations: {config.linkerd.io/skip-outbound-ports: "5432"}
        spec:
          containers: [{name: orders, image: "registry.example.com/orders:2.0"}]
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata:
      name: shop
      annotations: {linkerd.io/inject: enabled}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: orders, namespace: shop}
    spec:
      selector: {matchLabels: {app: orders}}
      template:
        metadata:
          labels: {app: orders}
          annotations: {config.linkerd.io/opaque-ports: "5432"}
        spec:
          containers: [{name: orders, image: "registry.example.com/orders:2.0"}]
    ```

    ## Remediation
    Remove the annotation. When the proxy misdetects a protocol, declare the port opaque
    (Linkerd `config.linkerd.io/opaque-ports`; Istio `appProtocol: tcp` or a `tcp-` port name on
    the Service), which keeps the traffic inside mutual TLS. Mesh the other end too: a server
    outside the mesh is the usual reason for skipping.

    ## References
    - https://linkerd.io/2/features/protocol-detection/
    - https://linkerd.io/2/reference/proxy-configuration/
    - https://istio.io/latest/docs/reference/config/annotations/
    """
    mesh = ctx.analyses.get(mesh_scan)
    if not mesh:
        return
    for workload in mesh.meshed():
        mesh_name = workload.mesh
        if mesh_name is None or (mesh_name == "istio" and workload.membership.mode != "sidecar"):
            continue
        violations = tuple(
            Violation(
                f"{workload.name} sets {key}: {value}: {_what(key)} bypasses the {mesh_name} proxy, "
                "without mutual TLS, authorization or access log",
                workload.metadata_path("annotations", key),
            )
            for key, value in bypasses(workload.annotations, mesh_name)
        )
        yield Outcome(workload.carrier, violations)
    if mesh.linkerd is None:
        return
    for name in sorted(mesh.meshed_namespaces("linkerd")):
        namespace = mesh.namespace_objects.get(name)
        if namespace is None:
            continue
        violations = tuple(
            Violation(
                f'namespace "{name}" sets {key}: {value}: for every Linkerd-meshed pod in it, {_what(key)} '
                "bypasses the proxy, without mutual TLS, authorization or access log",
                ("metadata", "annotations", key),
            )
            for key, value in bypasses(namespace.annotations, "linkerd")
        )
        yield Outcome(namespace, violations)
