"""NP-002: Services of type NodePort, listening on every node's address."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.rules._pod import mapping
from stockade.rules.base import RuleContext, Violation, object_rule
from stockade.rules.np._messages import service_target


def _ports(service: Resource) -> str:
    ports = mapping(service.raw.get("spec")).get("ports")
    if not isinstance(ports, list):
        return ""
    shown = []
    for port in ports:
        port = mapping(port)
        node_port = port.get("nodePort")
        number = port.get("port")
        if node_port is not None:
            shown.append(f"{number}→node {node_port}")
        elif number is not None:
            shown.append(str(number))
    return f" (ports {', '.join(shown)})" if shown else ""


@object_rule(
    id="NP-002",
    name="nodeport-service",
    title="Service is exposed on a port of every node",
    severity=Severity.MEDIUM,
    area=Area.EAST_WEST,
    stage=Stage.CRAWL,
    kinds={"Service"},
    frameworks={
        "nsa-cisa": ["network.node-segmentation"],
        "owasp-k8s-2022": ["K07"],
        "owasp-k8s-2025": ["K05", "K06"],
        "mitre-attack": ["T1133", "T1190"],
    },
    remediation="Use type ClusterIP behind an Ingress or an internal LoadBalancer instead of NodePort.",
)
def nodeport_service(ctx: RuleContext, service: Resource) -> Iterator[Violation]:
    """Service is exposed on a port of every node.

    ## What it does
    Flags Services of `type: NodePort`. (LoadBalancer Services also allocate node ports; NP-003
    judges those.)

    ## Why is this bad?
    A NodePort opens the same port on every node's address, for any client that can reach a node,
    including networks that were never meant to see the application. Node addresses are rarely
    covered by the firewalls that guard the load balancers and ingress, and node ports are easy to
    find by scanning the 30000–32767 range.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Service
    metadata: {name: admin, namespace: shop}
    spec:
      type: NodePort
      selector: {app: admin}
      ports:
        - {port: 80, targetPort: 8080, nodePort: 30080}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Service
    metadata: {name: admin, namespace: shop}
    spec:
      type: ClusterIP
      selector: {app: admin}
      ports:
        - {port: 80, targetPort: 8080}
    ```

    ## Remediation
    Change the Service to `ClusterIP` and publish it through an Ingress (with TLS) or an internal
    load balancer; if node ports are unavoidable, firewall the node range to known sources.

    ## References
    - https://kubernetes.io/docs/concepts/services-networking/service/#type-nodeport
    """
    if mapping(service.raw.get("spec")).get("type") == "NodePort":
        yield Violation(
            f'Service "{service.name}" is of type NodePort: it listens on every node{_ports(service)}',
            ("spec", "type"),
            remediation=f'kubectl patch {service_target(service)} -p \'{{"spec":{{"type":"ClusterIP"}}}}\'',
        )
