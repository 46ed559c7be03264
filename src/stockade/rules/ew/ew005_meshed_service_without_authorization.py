"""EW-005: a meshed service whose callers no authorization policy restricts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stockade.errors import SelectorError
from stockade.model.finding import Area, Severity, Stage
from stockade.model.inventory import DEFAULT_NAMESPACE, Inventory
from stockade.model.podspec import is_list, is_map
from stockade.model.resource import Resource
from stockade.model.selectors import parse_label_selector
from stockade.rules.base import READS_ANY, Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.ew._mesh import (
    ISTIO_SECURITY,
    LINKERD_POLICY,
    MeshScan,
    MeshWorkload,
    mesh_scan,
    selector_labels,
    selects,
    spec_of,
)

DEFAULT_INBOUND = "config.linkerd.io/default-inbound-policy"
OPEN_NETWORKS = frozenset({"0.0.0.0/0", "::/0"})


# -- which Services take calls for a workload ------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Served:
    service: Resource
    targets: tuple[int | str, ...]  # the pod ports its ports lead to (numbers or container port names)


def services_by_namespace(inventory: Inventory) -> Mapping[str, list[tuple[Mapping[str, Any], Served]]]:
    """Each namespace's Services that select pods: (selector, the Service and its pod ports)."""
    found: dict[str, list[tuple[Mapping[str, Any], Served]]] = defaultdict(list)
    for service in inventory.of_kind("Service"):
        spec = spec_of(service)
        selector = spec.get("selector")
        if service.group or not (is_map(selector) and selector):
            continue
        targets: list[int | str] = []
        ports = spec.get("ports")
        for port in ports if is_list(ports) else ():
            if is_map(port):
                target = port.get("targetPort", port.get("port"))
                if isinstance(target, int | str) and not isinstance(target, bool):
                    targets.append(target)
        namespace = inventory.effective_namespace(service) or DEFAULT_NAMESPACE
        found[namespace].append((selector, Served(service, tuple(targets))))
    return found


def services_of(index: Mapping[str, list[tuple[Mapping[str, Any], Served]]], workload: MeshWorkload) -> list[Served]:
    return [served for selector, served in index.get(workload.namespace, ()) if selects(selector, workload.labels)]


# -- Istio -------------------------------------------------------------------------------------------
def _applies(policy: Resource, namespace: str, workload: MeshWorkload, services: Sequence[Served], root: str) -> bool:
    spec = spec_of(policy)
    refs = [spec["targetRef"]] if is_map(spec.get("targetRef")) else []
    refs += [r for r in spec.get("targetRefs") or () if is_map(r)] if is_list(spec.get("targetRefs")) else []
    if refs:
        service_names = {s.service.name for s in services}
        return namespace == workload.namespace and any(
            r.get("kind") == "Service" and r.get("name") in service_names for r in refs
        )
    if namespace not in (workload.namespace, root):
        return False
    selector = selector_labels(spec)
    return selector is None or selects(selector, workload.labels)


def _names_callers(source: object) -> bool:
    """A source that names who may call: principals or namespaces, none of them a bare ``*``."""
    if not is_map(source):
        return False
    named = False
    for field in ("principals", "namespaces"):
        values = source.get(field)
        if is_list(values) and values:
            if "*" in values:
                return False
            named = True
    return named


def open_rule(rule: object) -> str | None:
    """Why an ALLOW rule admits callers it does not name (None: it names them)."""
    if not is_map(rule) or not any(rule.values()):
        return "an empty rule, which matches every request"
    sources = rule.get("from")
    if not is_list(sources) or not sources:
        return "a rule without from"
    if not all(is_map(s) and _names_callers(s.get("source")) for s in sources):
        return "a source that names no principals or namespaces"
    return None


def _denies_the_unnamed(policy: Resource) -> bool:
    """A DENY policy with a rule that refuses every caller but those named (``notPrincipals`` or
    ``notNamespaces``, nothing else), which restricts callers as an ALLOW list would."""
    rules = spec_of(policy).get("rules")
    for rule in rules if is_list(rules) else ():
        if not is_map(rule) or rule.get("to") or rule.get("when"):
            continue
        sources = rule.get("from")
        for item in sources if is_list(sources) else ():
            source = item.get("source") if is_map(item) else None
            if (
                is_map(source)
                and set(source) <= {"notPrincipals", "notNamespaces"}
                and any(is_list(source.get(f)) and source[f] and "*" not in source[f] for f in source)
            ):
                return True
    return False


def _istio(
    workload: MeshWorkload, services: Sequence[Served], policies: Mapping[str, list[Resource]], root: str
) -> str | None:
    candidates = [(workload.namespace, p) for p in policies.get(workload.namespace, ())]
    if workload.namespace != root:
        candidates += [(root, p) for p in policies.get(root, ())]
    applying = [p for namespace, p in candidates if _applies(p, namespace, workload, services, root)]
    allow = [p for p in applying if str(spec_of(p).get("action") or "ALLOW").upper() == "ALLOW"]
    if not allow:
        if any(str(spec_of(p).get("action")).upper() == "DENY" and _denies_the_unnamed(p) for p in applying):
            return None
        return (
            "no ALLOW AuthorizationPolicy applies to it and there is no allow-nothing policy (spec: {}) in "
            f"{root}, so Istio admits every caller"
        )
    for policy in allow:
        rules = spec_of(policy).get("rules")
        for i, rule in enumerate(rules if is_list(rules) else ()):
            why = open_rule(rule)
            if why is not None:
                return f'AuthorizationPolicy "{policy.name}" admits callers it does not name (rule {i + 1}: {why})'
    return None


# -- Linkerd -----------------------------------------------------------------------------------------
def _ports_of(workload: MeshWorkload) -> dict[str, int]:
    named: dict[str, int] = {}
    containers = workload.template.spec.get("containers")
    for container in containers if is_list(containers) else ():
        ports = container.get("ports") if is_map(container) else None
        for port in ports if is_list(ports) else ():
            if is_map(port) and isinstance(port.get("name"), str) and isinstance(port.get("containerPort"), int):
                named[port["name"]] = port["containerPort"]
    return named


def _covers(server_port: object, target: int | str, named: Mapping[str, int]) -> bool:
    if server_port == target:
        return True
    as_number = named.get(server_port, server_port) if isinstance(server_port, str) else server_port
    target_number = named.get(target, target) if isinstance(target, str) else target
    return as_number == target_number


def _selects_server(authorization: Resource, server: Resource) -> bool:
    target = spec_of(authorization).get("server")
    if not is_map(target):
        return False
    if target.get("name") is not None:
        return bool(target.get("name") == server.name)
    try:
        return parse_label_selector(target.get("selector")).matches(server.labels)
    except SelectorError:
        return False


def _open_server_authorization(authorization: Resource) -> str | None:
    client = spec_of(authorization).get("client")
    client = client if is_map(client) else {}
    networks = client.get("networks")
    cidrs = {str(n.get("cidr")) for n in networks if is_map(n)} if is_list(networks) else set()
    if client.get("unauthenticated") is True and (not cidrs or cidrs & OPEN_NETWORKS):
        return f'ServerAuthorization "{authorization.name}" admits unauthenticated clients'
    mesh_tls = client.get("meshTLS")
    if is_map(mesh_tls):
        identities = mesh_tls.get("identities")
        if mesh_tls.get("unauthenticatedTLS") is True or (is_list(identities) and "*" in identities):
            return f'ServerAuthorization "{authorization.name}" admits any TLS client'
    return None


def _open_authorization_policy(inventory: Inventory, policy: Resource, namespace: str) -> str | None:
    refs = spec_of(policy).get("requiredAuthenticationRefs")
    if not is_list(refs) or not refs:
        return f'AuthorizationPolicy "{policy.name}" requires no authentication'
    for ref in refs:
        if not is_map(ref):
            continue
        kind, name = ref.get("kind"), ref.get("name")
        where = ref.get("namespace") if isinstance(ref.get("namespace"), str) else namespace
        found = (
            inventory.get(str(kind), where, str(name))
            if kind in ("NetworkAuthentication", "MeshTLSAuthentication")
            else None
        )
        spec = spec_of(found) if found is not None else {}
        if kind == "NetworkAuthentication":
            networks = spec.get("networks")
            if is_list(networks) and any(is_map(n) and n.get("cidr") in OPEN_NETWORKS for n in networks):
                return f'AuthorizationPolicy "{policy.name}" admits every network ({kind} "{name}")'
        elif kind == "MeshTLSAuthentication":
            identities = spec.get("identities")
            if is_list(identities) and "*" in identities:
                return f'AuthorizationPolicy "{policy.name}" admits every meshed identity ({kind} "{name}")'
    return None


def _linkerd(inventory: Inventory, mesh: MeshScan, workload: MeshWorkload, services: Sequence[Served]) -> str | None:
    namespace = workload.namespace
    installed = mesh.linkerd
    proxy = installed.config.get("proxy") if installed is not None else None
    default = (
        workload.annotations.get(DEFAULT_INBOUND)
        or mesh.namespace_annotations(namespace).get(DEFAULT_INBOUND)
        or (proxy.get("defaultInboundPolicy") if is_map(proxy) else None)
        or "all-unauthenticated"
    )
    if default == "deny":
        return None
    servers = []
    for server in inventory.of_kind("Server"):
        if server.group != LINKERD_POLICY or (inventory.effective_namespace(server) or DEFAULT_NAMESPACE) != namespace:
            continue
        try:
            if parse_label_selector(spec_of(server).get("podSelector")).matches(workload.labels):
                servers.append(server)
        except SelectorError:
            continue
    named = _ports_of(workload)
    uncovered = sorted(
        {
            str(t)
            for s in services
            for t in s.targets
            if not any(_covers(spec_of(v).get("port"), t, named) for v in servers)
        }
    )
    if uncovered:
        return f"no Server covers port {', '.join(uncovered)}, so its default inbound policy ({default}) admits the callers"
    for server in servers:
        for authorization in inventory.of_kind("ServerAuthorization"):
            here = inventory.effective_namespace(authorization) or DEFAULT_NAMESPACE
            if authorization.group == LINKERD_POLICY and here == namespace and _selects_server(authorization, server):
                why = _open_server_authorization(authorization)
                if why:
                    return f'{why} to Server "{server.name}"'
        for policy in inventory.of_kind("AuthorizationPolicy"):
            if (
                policy.group != LINKERD_POLICY
                or (inventory.effective_namespace(policy) or DEFAULT_NAMESPACE) != namespace
            ):
                continue
            ref = spec_of(policy).get("targetRef")
            if is_map(ref) and (
                (ref.get("kind") == "Server" and ref.get("name") == server.name)
                or (ref.get("kind") == "Namespace" and ref.get("name") == namespace)
            ):
                why = _open_authorization_policy(inventory, policy, namespace)
                if why:
                    return f'{why} to Server "{server.name}"'
    return None  # a Server no authorization names admits nobody


def _istio_policies(inventory: Inventory) -> Mapping[str, list[Resource]]:
    found: dict[str, list[Resource]] = defaultdict(list)
    for policy in inventory.of_kind("AuthorizationPolicy"):
        if policy.group == ISTIO_SECURITY:
            found[inventory.effective_namespace(policy) or DEFAULT_NAMESPACE].append(policy)
    return found


@inventory_rule(
    id="EW-005",
    reads={READS_ANY},
    name="meshed-service-without-authorization",
    title="Meshed service accepts calls from every workload",
    severity=Severity.MEDIUM,
    area=Area.EAST_WEST,
    stage=Stage.RUN,
    frameworks={"nsa-cisa": ["network.policies"], "owasp-k8s-2025": ["K05"], "mitre-attack": ["T1046"]},
    remediation="Istio: an allow-nothing AuthorizationPolicy (spec: {}) in the root namespace, then an ALLOW policy "
    "per service naming its callers' principals. Linkerd: a Server per port with an AuthorizationPolicy naming the "
    "clients' MeshTLSAuthentication (or default-inbound-policy: deny).",
)
def meshed_service_without_authorization(ctx: RuleContext) -> Iterator[Outcome]:
    """Meshed service accepts calls from every workload.

    ## What it does
    For each meshed workload that a Service selects:
    - Istio: gathers the AuthorizationPolicies that apply to it (its namespace's, with or without a
      selector; the root namespace's, in every namespace; those whose `targetRefs` name one of its
      Services). With no `ALLOW` policy, Istio admits every caller: flagged, unless a `DENY` policy
      refuses everyone but named principals or namespaces (`notPrincipals`, `notNamespaces`). With
      `ALLOW` policies, a caller needs a rule that matches, so every rule must name its callers
      (`from.source.principals` or `namespaces`, no bare `*`); a rule that does not (no `from`, or
      a source naming neither) is flagged. An allow-nothing policy (`spec: {}`, in the root
      namespace for a mesh-wide default deny) names no rule, so alone it restricts everything.
    - Linkerd: every port the Services lead to must be covered by a `Server` selecting the pods,
      and no `ServerAuthorization` or `AuthorizationPolicy` for those Servers may admit everyone
      (unauthenticated clients from any network, any identity, no required authentication); a
      `Server` no authorization names admits nobody. A default inbound policy of `deny` (pod or
      namespace annotation, or the install's) restricts every port.

    The mesh's own parts (control plane, gateways, which serve whoever reaches them by design) are
    not judged. Nothing is reported when no mesh is installed.

    ## Why is this bad?
    The mesh knows every caller's identity and can restrict each service to the callers it
    expects. Without a policy any compromised workload can call any service, and the first foothold
    becomes the whole application: the run stage of east-west security is that every application
    declares and restricts its connections.

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
          containers: [{name: cart, image: "registry.example.com/cart:1.2", ports: [{containerPort: 7070}]}]
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
          containers: [{name: cart, image: "registry.example.com/cart:1.2", ports: [{containerPort: 7070}]}]
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
    the principals that call it (`stockade network reach` shows who can today). With Linkerd,
    declare a Server for each port and authorize the clients' identities to it.

    ## References
    - https://istio.io/latest/docs/reference/config/security/authorization-policy/
    - https://istio.io/latest/docs/ops/best-practices/security/#use-default-deny-patterns
    - https://linkerd.io/2/features/server-policy/
    - https://linkerd.io/2/reference/authorization-policy/
    """
    mesh = ctx.analyses.get(mesh_scan)
    if not mesh:
        return
    inventory = ctx.inventory
    policies = _istio_policies(inventory)
    index = services_by_namespace(inventory)
    for workload in mesh.meshed():
        services = services_of(index, workload)
        if not services:
            continue
        if workload.mesh == "istio":
            why = _istio(workload, services, policies, mesh.root_namespace)
        else:
            why = _linkerd(inventory, mesh, workload, services)
        if why is None:
            yield Outcome(workload.carrier)
            continue
        shown = ", ".join(sorted(f'"{s.service.name}"' for s in services))
        message = f"{workload.name} serves Service {shown} in the {workload.mesh} mesh: {why}"
        yield Outcome(workload.carrier, (Violation(message),))
