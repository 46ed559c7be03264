"""EW-002: Istio mutual TLS that is not strict."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from stockade.model.finding import Area, Severity, Stage
from stockade.model.mesh import ISTIO_SECURITY
from stockade.model.podspec import is_list, is_map
from stockade.model.resource import Resource
from stockade.rules.base import READS_ANY, Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.ew._mesh import membership

ISTIO_NETWORKING = "networking.istio.io"
WEAK_MODES = frozenset({"PERMISSIVE", "DISABLE"})


def _mode(value: object) -> str:
    return str(value.get("mode") or "UNSET").upper() if is_map(value) else "UNSET"


def _in_cluster(host: object) -> bool:
    """A Service of this cluster: a short name, ``name.namespace``, or under ``.svc``/``.svc.cluster.local``."""
    if not isinstance(host, str):
        return False
    return ".svc" in host or (host.count(".") <= 1 and not host.startswith("*"))


def _peer_authentication(resource: Resource) -> list[Violation]:
    spec = resource.raw.get("spec")
    spec = spec if is_map(spec) else {}
    found = []
    mode = _mode(spec.get("mtls"))
    if mode in WEAK_MODES:
        found.append(
            Violation(f'PeerAuthentication "{resource.name}" sets mutual TLS to {mode}', ("spec", "mtls", "mode"))
        )
    ports = spec.get("portLevelMtls")
    for port, setting in sorted(ports.items(), key=lambda kv: str(kv[0])) if is_map(ports) else ():
        port_mode = _mode(setting)
        if port_mode in WEAK_MODES:
            found.append(
                Violation(
                    f'PeerAuthentication "{resource.name}" sets port {port} to {port_mode}',
                    ("spec", "portLevelMtls", str(port), "mode"),
                )
            )
    return found


def _traffic_policies(spec: Mapping[str, Any]) -> Iterator[tuple[tuple[str | int, ...], Mapping[str, Any]]]:
    if is_map(spec.get("trafficPolicy")):
        yield ("spec", "trafficPolicy"), spec["trafficPolicy"]
    subsets = spec.get("subsets")
    for i, subset in enumerate(subsets if is_list(subsets) else ()):
        if is_map(subset) and is_map(subset.get("trafficPolicy")):
            yield ("spec", "subsets", i, "trafficPolicy"), subset["trafficPolicy"]


def _destination_rule(resource: Resource) -> list[Violation]:
    spec = resource.raw.get("spec")
    spec = spec if is_map(spec) else {}
    host = spec.get("host")
    if not _in_cluster(host):
        return []
    found = []
    for path, policy in _traffic_policies(spec):
        if _mode(policy.get("tls")) == "DISABLE":
            found.append(
                Violation(f'DestinationRule "{resource.name}" turns TLS off toward {host}', (*path, "tls", "mode"))
            )
        settings = policy.get("portLevelSettings")
        for i, setting in enumerate(settings if is_list(settings) else ()):
            if is_map(setting) and _mode(setting.get("tls")) == "DISABLE":
                port = setting.get("port", {}).get("number") if is_map(setting.get("port")) else None
                found.append(
                    Violation(
                        f'DestinationRule "{resource.name}" turns TLS off toward {host} port {port}',
                        (*path, "portLevelSettings", i, "tls", "mode"),
                    )
                )
    return found


@inventory_rule(
    id="EW-002",
    reads={READS_ANY},
    name="mesh-mtls-not-strict",
    title="Service mesh mutual TLS is not strict",
    severity=Severity.HIGH,
    area=Area.EAST_WEST,
    stage=Stage.CRAWL,
    frameworks={"nsa-cisa": ["network.encryption"], "owasp-k8s-2025": ["K05"]},
    remediation="Apply a PeerAuthentication with mtls.mode STRICT in the root namespace (istio-system), remove "
    "PERMISSIVE and DISABLE overrides, and drop DestinationRules that set tls.mode DISABLE toward cluster services.",
)
def mesh_mtls_not_strict(ctx: RuleContext) -> Iterator[Outcome]:
    """Service mesh mutual TLS is not strict.

    ## What it does
    For Istio:
    - flags every `PeerAuthentication` whose `mtls.mode` is `PERMISSIVE` or `DISABLE`, at mesh
      (root namespace, no selector), namespace or workload level, and every `portLevelMtls`
      override that weakens a port;
    - flags `DestinationRule`s that set `tls.mode: DISABLE` (in the traffic policy, a subset's or a
      port's) toward a Service of the cluster (a short name, `name.namespace` or a `.svc` host);
    - flags each namespace with meshed workloads when no PeerAuthentication makes mutual TLS
      strict for it (namespace-wide, or mesh-wide in `istio-system`): Istio's default is
      `PERMISSIVE`.

    A workload-level `STRICT` policy does not make a namespace-level `PERMISSIVE` one safe: the
    permissive one still applies to every other workload, so it is flagged on its own.

    ## Why is this bad?
    In `PERMISSIVE` mode a meshed workload also accepts plain-text connections, from pods outside
    the mesh or from anything that reaches the pod network: no encryption, no caller identity, and
    authorization policies that name principals cannot apply. `DISABLE` turns mutual TLS off
    outright.

    ## Example
    ```yaml
    apiVersion: security.istio.io/v1
    kind: PeerAuthentication
    metadata: {name: default, namespace: istio-system}
    spec:
      mtls: {mode: STRICT}
      portLevelMtls:
        "9090": {mode: PERMISSIVE}
    ```

    ## Use instead
    ```yaml
    apiVersion: security.istio.io/v1
    kind: PeerAuthentication
    metadata: {name: default, namespace: istio-system}
    spec:
      mtls: {mode: STRICT}
    ```

    ## Remediation
    Make mutual TLS strict mesh-wide, fix the clients that still send plain text (usually
    workloads outside the mesh, see EW-001), then remove the exceptions.

    ## References
    - https://istio.io/latest/docs/reference/config/security/peer_authentication/
    - https://istio.io/latest/docs/tasks/security/authentication/mtls-migration/
    """
    mesh = ctx.analyses.get(membership)
    if not mesh.view.istio:
        return
    strict_namespaces: set[str] = set()
    strict_mesh = False
    for resource in ctx.inventory.of_kind("PeerAuthentication"):
        if resource.group != ISTIO_SECURITY:
            continue
        spec = resource.raw.get("spec")
        spec = spec if is_map(spec) else {}
        namespace = ctx.inventory.effective_namespace(resource) or ""
        if not is_map(spec.get("selector")) and _mode(spec.get("mtls")) == "STRICT":
            if namespace == mesh.view.root_namespace:
                strict_mesh = True
            strict_namespaces.add(namespace)
        yield Outcome(resource, tuple(_peer_authentication(resource)))
    for resource in ctx.inventory.of_kind("DestinationRule"):
        if resource.group == ISTIO_NETWORKING:
            yield Outcome(resource, tuple(_destination_rule(resource)))
    istio_namespaces = {w.namespace for w in mesh.workloads if w.mesh == "istio"}
    for ns_object in ctx.inventory.of_kind("Namespace"):
        if ns_object.name not in istio_namespaces:
            continue
        if strict_mesh or ns_object.name in strict_namespaces:
            yield Outcome(ns_object)
        else:
            message = (
                f'namespace "{ns_object.name}" has meshed workloads and no PeerAuthentication makes mutual TLS '
                "strict for it: Istio's default is PERMISSIVE (plain text accepted)"
            )
            yield Outcome(ns_object, (Violation(message, ("metadata", "name")),))
