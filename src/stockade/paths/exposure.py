"""Entry points: what the outside world reaches, resolved down to the containers that serve it.

A Service of type LoadBalancer (not made internal by a provider annotation) or NodePort, an Ingress,
a Gateway API route, an Istio VirtualService bound to an Istio Gateway, and a pod on the host network
are entry points. Each leads to the containers
whose pods the Service selects and whose port it forwards to (``targetPort`` by number or by name,
as kube-proxy resolves it). Routes that point into another namespace need a ReferenceGrant there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from stockade.model.inventory import DEFAULT_NAMESPACE, Inventory
from stockade.model.netpol import Port
from stockade.model.podspec import is_list, is_map
from stockade.model.resource import Resource
from stockade.paths.builder import GraphBuilder
from stockade.paths.catalogue import Attack
from stockade.paths.fixes import FixLookup, display
from stockade.paths.model import Fix, NodeKind
from stockade.paths.network import NetworkEdges
from stockade.paths.workloads import ContainerInfo, Workload, dotted
from stockade.rules.base import is_true
from stockade.rules.np.np003_public_load_balancer import internal_annotation

ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute")
GATEWAY_GROUP = "gateway.networking.k8s.io"
ISTIO_NETWORKING = "networking.istio.io"
MESH_GATEWAY = "mesh"  # a VirtualService bound to "mesh" routes traffic inside the mesh, not from outside
CLUSTER_DOMAIN = ".svc.cluster.local"


def serving(workload: Workload, target: int | str | None) -> list[tuple[ContainerInfo, Port | None]]:
    """The containers that receive traffic sent to port ``target`` (None: any port), with the port."""
    containers = workload.serving
    if target is None:
        return [(c, None) for c in containers]
    if isinstance(target, str):
        return [(c, p) for c in containers for p in c.ports if p.name == target]
    declared: list[tuple[ContainerInfo, Port | None]] = [
        (c, p) for c in containers for p in c.ports if p.number == target
    ]
    # A numeric port need not be declared in the pod spec: without a declaration any container may listen.
    return declared or [(c, Port(target, "", "TCP")) for c in containers if not c.ports]


class Exposure:
    def __init__(
        self,
        builder: GraphBuilder,
        inventory: Inventory,
        fixes: FixLookup,
        workloads: list[Workload],
        network: NetworkEdges,
    ) -> None:
        self.builder = builder
        self.network = network
        self.inventory = inventory
        self.fixes = fixes
        self.by_namespace: dict[str, list[Workload]] = defaultdict(list)
        for workload in workloads:
            self.by_namespace[workload.namespace].append(workload)
        self.services = {
            (self._namespace(s), s.name): s for s in sorted(inventory.of_kind("Service"), key=lambda r: r.name)
        }

    def _namespace(self, resource: Resource) -> str:
        return self.inventory.effective_namespace(resource) or DEFAULT_NAMESPACE

    def add(self) -> None:
        for (namespace, _), service in sorted(self.services.items()):
            self._service(namespace, service)
        for ingress in sorted(self.inventory.of_kind("Ingress"), key=lambda r: (self._namespace(r), r.name)):
            self._ingress(ingress)
        for route in sorted(self.inventory.of_kind(*ROUTE_KINDS), key=lambda r: (r.kind, self._namespace(r), r.name)):
            if route.group == GATEWAY_GROUP:
                self._route(route)
        for service in sorted(self.inventory.of_kind("VirtualService"), key=lambda r: (self._namespace(r), r.name)):
            if service.group == ISTIO_NETWORKING:
                self._virtual_service(service)
        for workloads in self.by_namespace.values():
            for workload in workloads:
                self._host_network(workload)

    # -- Services --------------------------------------------------------------------------------------
    def _service(self, namespace: str, service: Resource) -> None:
        spec = service.raw.get("spec")
        if not is_map(spec):
            return
        kind = spec.get("type")
        key = display("Service", namespace, service.name)
        if kind == "LoadBalancer" and internal_annotation(service.annotations) is None:
            why, fix = "LoadBalancer Service reachable from the internet", self.fixes.fix("NP-003", key, "spec.type")
        elif kind == "NodePort":
            why, fix = "NodePort Service open on every node's address", self.fixes.fix("NP-002", key, "spec.type")
        else:
            return
        self._expose(key, why, namespace, list(self.service_targets(namespace, service, None, False)), (fix,))

    def _expose(
        self, entry: str, why: str, namespace: str, targets: list[tuple[ContainerInfo, str]], fixes: tuple[Fix, ...]
    ) -> None:
        """``entry`` is an entry point leading to ``targets`` (nothing when it leads nowhere)."""
        if not targets:
            return
        self.builder.node(entry, NodeKind.ENTRY, entry, namespace)
        self.builder.entry(entry, why)
        for container, detail in targets:
            self.builder.edge(entry, container.key, Attack.EXPOSED, fixes, detail)

    def service_targets(
        self, namespace: str, service: Resource, port: int | str | None, via_proxy: bool
    ) -> Iterator[tuple[ContainerInfo, str]]:
        """Containers a Service forwards outside traffic to, where NetworkPolicies let it in;
        ``port`` picks one Service port (by number or name); ``via_proxy`` see `accepts_external`."""
        spec = service.raw.get("spec")
        spec = spec if is_map(spec) else {}
        selector = spec.get("selector")
        if not is_map(selector) or not selector:
            return  # no selector: endpoints are managed by hand, no pod is known to serve it
        ports = [p for p in spec.get("ports", ()) if is_map(p)] if is_list(spec.get("ports")) else []
        if port is not None:
            ports = [p for p in ports if p.get("port") == port or (isinstance(port, str) and p.get("name") == port)]
        targets: list[int | str | None] = []
        for entry in ports:
            target = entry.get("targetPort", entry.get("port"))
            targets.append(target if isinstance(target, int | str) else None)
        seen: set[str] = set()
        for workload in self.by_namespace.get(namespace, ()):
            if not all(workload.labels.get(k) == v for k, v in selector.items()):
                continue
            for target in targets or [None]:
                for container, served in serving(workload, target):
                    if not self.network.accepts_external(workload, served, via_proxy):
                        continue
                    if container.key not in seen:
                        seen.add(container.key)
                        where = f"port {target}" if target is not None else "its ports"
                        yield container, f"{display('Service', namespace, service.name)} forwards {where}"

    # -- Ingress and routes --------------------------------------------------------------------------------
    def _ingress(self, ingress: Resource) -> None:
        namespace = self._namespace(ingress)
        key = display("Ingress", namespace, ingress.name)
        spec = ingress.raw.get("spec")
        spec = spec if is_map(spec) else {}
        backends: list[Mapping[str, Any]] = []
        for field_name in ("defaultBackend", "backend"):
            if is_map(spec.get(field_name)):
                backends.append(spec[field_name])
        rules = spec.get("rules")
        for rule in rules if is_list(rules) else ():
            paths = _dig_list(rule, "http", "paths")
            backends += [p["backend"] for p in paths if is_map(p) and is_map(p.get("backend"))]
        for backend in backends:
            service = backend.get("service")
            if is_map(service):
                name, port_spec = service.get("name"), service.get("port")
                port = port_spec.get("number", port_spec.get("name")) if is_map(port_spec) else None
            else:
                name, port = backend.get("serviceName"), backend.get("servicePort")
            self._to_service(key, "Ingress open to the internet", namespace, name, port)

    def _route(self, route: Resource) -> None:
        namespace = self._namespace(route)
        key = display(route.kind, namespace, route.name)
        rules = _dig_list(route.raw, "spec", "rules")
        for rule in rules:
            for ref in _dig_list(rule, "backendRefs"):
                if not is_map(ref) or ref.get("kind", "Service") != "Service" or ref.get("group", "") not in ("", None):
                    continue
                target_ns = ref.get("namespace") or namespace
                if target_ns != namespace and not self._reference_granted(route, namespace, str(target_ns)):
                    continue
                self._to_service(key, f"Gateway API {route.kind}", str(target_ns), ref.get("name"), ref.get("port"))

    def _virtual_service(self, virtual: Resource) -> None:
        """Routes of a VirtualService bound to an Istio Gateway, to the Services they name."""
        namespace = self._namespace(virtual)
        spec = virtual.raw.get("spec")
        spec = spec if is_map(spec) else {}
        gateways = (
            [g for g in spec.get("gateways") or () if isinstance(g, str)] if is_list(spec.get("gateways")) else []
        )
        outside = [g for g in gateways if g != MESH_GATEWAY]
        if not outside:
            return  # no gateways: the mesh only
        key = display("VirtualService", namespace, virtual.name)
        why = f"Istio VirtualService bound to gateway {', '.join(outside)}"
        for protocol in ("http", "tls", "tcp"):
            for route in _dig_list(spec, protocol):
                for destination in _dig_list(route, "route"):
                    target = destination.get("destination") if is_map(destination) else None
                    if not is_map(target) or not isinstance(target.get("host"), str):
                        continue
                    name, target_ns = _service_host(target["host"], namespace)
                    port = target.get("port")
                    number = port.get("number") if is_map(port) else None
                    self._to_service(key, why, target_ns, name, number)

    def _reference_granted(self, route: Resource, source_ns: str, target_ns: str) -> bool:
        for grant in self.inventory.of_kind("ReferenceGrant"):
            if self._namespace(grant) != target_ns:
                continue
            froms = _dig_list(grant.raw, "spec", "from")
            tos = _dig_list(grant.raw, "spec", "to")
            allowed_from = any(
                is_map(f) and f.get("kind") == route.kind and f.get("namespace") == source_ns for f in froms
            )
            allowed_to = any(is_map(t) and t.get("kind") == "Service" and t.get("group", "") == "" for t in tos)
            if allowed_from and allowed_to:
                return True
        return False

    def _to_service(self, entry: str, why: str, namespace: str, name: object, port: object) -> None:
        if not isinstance(name, str):
            return
        service = self.services.get((namespace, name))
        if service is None:
            return
        wanted = port if isinstance(port, int | str) else None
        self._expose(entry, why, namespace, list(self.service_targets(namespace, service, wanted, True)), ())

    # -- host network -------------------------------------------------------------------------------------
    def _host_network(self, workload: Workload) -> None:
        if not is_true(workload.template.spec.get("hostNetwork")):
            return
        containers = [c for c in workload.serving if c.ports] or workload.serving
        if not containers:
            return
        key = f"hostNetwork:{workload.key}"
        fix = self.fixes.fix("WL-008", workload.key, f"{dotted(workload.template.spec_path)}.hostNetwork")
        self.builder.node(key, NodeKind.ENTRY, f"{workload.key} on the host network", workload.namespace)
        self.builder.entry(key, "pods on the host network listen on the node's address")
        for container in containers:
            self.builder.edge(key, container.key, Attack.EXPOSED, (fix,), "hostNetwork: true")


def _service_host(host: str, namespace: str) -> tuple[str, str]:
    """(Service name, namespace) of a mesh host: ``name``, ``name.ns`` or ``name.ns.svc.cluster.local``."""
    parts = host.removesuffix(CLUSTER_DOMAIN).split(".")
    if len(parts) == 1:
        return parts[0], namespace
    return parts[0], parts[1]


def _dig_list(value: object, *keys: str) -> list[Any]:
    for key in keys:
        if not is_map(value):
            return []
        value = value.get(key)
    return list(value) if is_list(value) else []
