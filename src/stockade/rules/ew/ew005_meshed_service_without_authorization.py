"""EW-005: a meshed service that accepts every caller."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from stockade.errors import SelectorError
from stockade.model.finding import Area, Severity, Stage
from stockade.model.inventory import DEFAULT_NAMESPACE, Inventory
from stockade.model.mesh import ISTIO_SECURITY, AuthorizationPolicy, read_authorization_policy
from stockade.model.podspec import is_map
from stockade.model.selectors import parse_label_selector
from stockade.rules.base import READS_ANY, Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.ew._mesh import MeshedWorkload, membership

LINKERD_POLICY = "policy.linkerd.io"
DEFAULT_INBOUND = "config.linkerd.io/default-inbound-policy"


def authorization_policies(inventory: Inventory) -> tuple[AuthorizationPolicy, ...]:
    found = []
    for resource in inventory.of_kind("AuthorizationPolicy"):
        if resource.group == ISTIO_SECURITY:
            policy = read_authorization_policy(resource, inventory.effective_namespace(resource) or DEFAULT_NAMESPACE)
            if policy is not None:
                found.append(policy)
    return tuple(found)


def _served(inventory: Inventory, workload: MeshedWorkload) -> bool:
    """Some Service of its namespace selects its pods: it takes calls."""
    for service in inventory.of_kind("Service"):
        if (inventory.effective_namespace(service) or DEFAULT_NAMESPACE) != workload.namespace:
            continue
        spec = service.raw.get("spec")
        selector = spec.get("selector") if is_map(spec) else None
        if is_map(selector) and selector and all(workload.labels.get(k) == v for k, v in selector.items()):
            return True
    return False


def _linkerd_restricted(inventory: Inventory, workload: MeshedWorkload, ns_annotations: Mapping[str, Any]) -> bool:
    policy = workload.annotations.get(DEFAULT_INBOUND, ns_annotations.get(DEFAULT_INBOUND))
    if policy == "deny":
        return True
    for server in inventory.of_kind("Server"):
        if server.group != LINKERD_POLICY or inventory.effective_namespace(server) != workload.namespace:
            continue
        spec = server.raw.get("spec")
        try:
            selector = parse_label_selector(spec.get("podSelector") if is_map(spec) else None)
        except SelectorError:
            continue
        if selector.matches(workload.labels):
            return True  # a Server denies what no authorization for it allows
    return False


@inventory_rule(
    id="EW-005",
    reads={READS_ANY},
    name="meshed-service-without-authorization",
    title="Meshed service accepts calls from every workload",
    severity=Severity.MEDIUM,
    area=Area.EAST_WEST,
    stage=Stage.RUN,
    frameworks={"nsa-cisa": ["network.policies"], "owasp-k8s-2025": ["K05"]},
    remediation="Istio: an ALLOW AuthorizationPolicy naming the callers' principals, on top of a mesh-wide "
    "allow-nothing policy (spec: {} in istio-system). Linkerd: a Server for the port with an AuthorizationPolicy "
    "naming the clients' MeshTLSAuthentication, or default-inbound-policy deny.",
)
def meshed_service_without_authorization(ctx: RuleContext) -> Iterator[Outcome]:
    """Meshed service accepts calls from every workload.

    ## What it does
    For each workload in a mesh that a Service selects:
    - Istio: passes when an `ALLOW` AuthorizationPolicy applies to it (its own, its namespace's,
      or a mesh-wide one in `istio-system`, such as the allow-nothing `spec: {}`), because then
      a caller needs a rule that matches; flags it otherwise, since with no ALLOW policy Istio
      lets every caller in. An ALLOW policy that lets everyone in is EW-006's concern.
    - Linkerd: passes when a `Server` (policy.linkerd.io) selects its pods (a Server denies what
      no authorization for it allows) or its default inbound policy is `deny`; flags it otherwise.

    ## Why is this bad?
    The mesh knows every caller's identity, and can restrict each service to the callers it
    expects. Without a policy any compromised workload can call any service: the run stage of
    east-west security is that every application declares and restricts its connections.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata: {name: shop, labels: {istio-injection: enabled}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: cart, namespace: shop}
    spec:
      selector: {matchLabels: {app: cart}}
      template:
        metadata: {labels: {app: cart}}
        spec:
          serviceAccountName: cart
          containers: [{name: cart, image: "registry.example.com/cart:1", ports: [{containerPort: 7070}]}]
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: cart, namespace: shop}
    spec:
      selector: {app: cart}
      ports: [{port: 7070}]
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata: {name: shop, labels: {istio-injection: enabled}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: cart, namespace: shop}
    spec:
      selector: {matchLabels: {app: cart}}
      template:
        metadata: {labels: {app: cart}}
        spec:
          serviceAccountName: cart
          containers: [{name: cart, image: "registry.example.com/cart:1", ports: [{containerPort: 7070}]}]
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: cart, namespace: shop}
    spec:
      selector: {app: cart}
      ports: [{port: 7070}]
    ---
    apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: cart-callers, namespace: shop}
    spec:
      selector: {matchLabels: {app: cart}}
      action: ALLOW
      rules:
        - from: [{source: {principals: [cluster.local/ns/shop/sa/frontend]}}]
    ```

    ## Remediation
    Put an allow-nothing policy at the mesh level, then give each service an ALLOW policy naming
    the principals that call it (`stockade network reach --to SERVICE` shows who can today).

    ## References
    - https://istio.io/latest/docs/ops/best-practices/security/#use-default-deny-patterns
    - https://linkerd.io/2/features/server-policy/
    """
    mesh = ctx.analyses.get(membership)
    if not mesh.view:
        return
    policies = ctx.analyses.get(authorization_policies)
    for workload in mesh.workloads:
        if workload.mesh is None or not _served(ctx.inventory, workload):
            continue
        carrier = workload.template.carrier
        if workload.mesh == "istio":
            allowing = [
                p for p in policies if p.action == "ALLOW" and p.applies_to(workload.namespace, workload.labels)
            ]
            restricted = bool(allowing)
            why = "no ALLOW AuthorizationPolicy applies to it, so Istio lets every caller in"
        else:
            ns_annotations = mesh.view.namespace_annotations.get(workload.namespace, {})
            restricted = _linkerd_restricted(ctx.inventory, workload, ns_annotations)
            why = "no Server selects its pods and its default inbound policy is not deny"
        if restricted:
            yield Outcome(carrier)
        else:
            message = f'{carrier.kind} "{carrier.name}" is a meshed service: {why}'
            yield Outcome(carrier, (Violation(message, (*workload.template.path, "metadata")),))
