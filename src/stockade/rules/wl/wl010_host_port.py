"""WL-010: a container that binds a port of the node (the Pod Security ``hostPorts`` check decides)."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef, is_list
from stockade.pss import Malformed
from stockade.rules._pod import mapping
from stockade.rules.base import RuleContext, Violation, container_rule
from stockade.rules.wl._shape import malformed_field
from stockade.rules.wl._verdict import verdict


@container_rule(
    id="WL-010",
    name="host-port",
    title="Container binds a port on the node",
    severity=Severity.MEDIUM,
    area=Area.CONTAINER_PRIVILEGES,
    stage=Stage.CRAWL,
    frameworks={
        "cis-1.10": ["5.2.13"],
        "nsa-cisa": ["network.node-segmentation"],
        "owasp-k8s-2022": ["K01", "K07"],
        "owasp-k8s-2025": ["K01", "K06"],
        "mitre-attack": ["T1133"],
    },
    remediation="Remove ports[].hostPort and publish the port with a Service.",
)
def host_port(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
    """Container binds a port on the node.

    ## What it does
    Flags container ports with a non-zero `hostPort`.

    ## Why is this bad?
    A host port opens the container to anything that can reach the node, outside NetworkPolicies,
    and pins the pod to nodes where the port is free.

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
    Remove `hostPort` and use a Service (ClusterIP behind an Ingress) to publish the port.

    ## References
    - https://kubernetes.io/docs/concepts/configuration/overview/#services
    """
    denied = verdict(ctx, container.pod, "hostPorts")
    if denied is None:
        return
    field = f"{container.view.field}.ports"
    denied.require_well_formed(field)
    ports = container.spec.get("ports")
    if not is_list(ports):
        return
    problem: Malformed | None = None
    found = False
    for index, port in enumerate(ports):
        entry = f"{field}[{index}]"
        problem = problem or denied.problem(entry) or denied.problem(entry + ".hostPort")
        if not denied.flags(entry + ".hostPort") or denied.problem(entry + ".hostPort") is not None:
            continue
        found = True
        yield Violation(
            f'container "{container.name}" binds host port {mapping(port).get("hostPort")}',
            (*container.path, "ports", index, "hostPort"),
        )
    if problem is not None and not found:  # one host port fails the container, whatever else it lists
        raise malformed_field(container.pod, problem)
