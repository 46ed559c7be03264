"""EW-002: Istio mutual TLS that is not strict."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from stockade.model.finding import Area, Severity, Stage
from stockade.model.inventory import DEFAULT_NAMESPACE
from stockade.model.podspec import is_list, is_map
from stockade.model.resource import Resource
from stockade.rules._kubectl import kubectl_target
from stockade.rules.base import READS_ANY, Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.ew._mesh import (
    ISTIO_NETWORKING,
    ISTIO_SECURITY,
    MeshWorkload,
    mesh_scan,
    names,
    oldest,
    selector_labels,
    selects,
    spec_of,
)

WEAK = frozenset({"PERMISSIVE", "DISABLE"})
CLUSTER_SUFFIX = ".svc.cluster.local"


def _mode(value: object) -> str:
    mode = value.get("mode") if is_map(value) else None
    return mode.upper() if isinstance(mode, str) and mode else "UNSET"


@dataclass(frozen=True, slots=True)
class Peer:
    """A PeerAuthentication as Istio reads it."""

    resource: Resource
    namespace: str
    selector: Mapping[str, Any] | None
    mode: str
    ports: Mapping[str, str]  # workload port → mode, UNSET ones left out
    rejected: bool  # portLevelMtls without a selector: the CRD's validation refuses the object

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.resource.name}"


def _peer(resource: Resource, namespace: str) -> Peer:
    spec = spec_of(resource)
    selector = selector_labels(spec)
    raw_ports = spec.get("portLevelMtls")
    ports = {str(port): _mode(setting) for port, setting in raw_ports.items()} if is_map(raw_ports) else {}
    return Peer(
        resource,
        namespace,
        selector,
        _mode(spec.get("mtls")),
        {port: mode for port, mode in ports.items() if mode != "UNSET"},
        rejected=bool(raw_ports) and selector is None,
    )


@dataclass(frozen=True, slots=True)
class Decision:
    """A workload's mutual TLS: the mode, the policy that set it (None: Istio's default), and the
    workload policy whose port settings apply."""

    mode: str
    decided_by: Peer | None
    workload_policy: Peer | None


def decide(workload: MeshWorkload, peers: list[Peer], root: str) -> Decision:
    """Workload policy, else namespace policy, else mesh policy (root namespace); UNSET inherits."""
    here = [p for p in peers if p.namespace == workload.namespace and not p.rejected]
    # Selector policies in the root namespace are ignored by Istio.
    selected = [
        p for p in here if p.selector is not None and p.namespace != root and selects(p.selector, workload.labels)
    ]
    by_workload = _oldest(selected)
    by_namespace = _oldest([p for p in here if p.selector is None])
    by_mesh = _oldest([p for p in peers if p.namespace == root and p.selector is None and not p.rejected])
    for level in (by_workload, by_namespace, by_mesh):
        if level is not None and level.mode != "UNSET":
            return Decision(level.mode, level, by_workload)
    return Decision("PERMISSIVE", None, by_workload)


def _oldest(peers: list[Peer]) -> Peer | None:
    first = oldest(p.resource for p in peers)
    return next((p for p in peers if p.resource is first), None)


def _in_scope(peer: Peer, workload: MeshWorkload, root: str) -> bool:
    if peer.selector is not None:
        return (
            peer.namespace == workload.namespace and peer.namespace != root and selects(peer.selector, workload.labels)
        )
    return peer.namespace in (workload.namespace, root)


def _patch(resource: Resource, patch: Mapping[str, Any]) -> str:
    return f"kubectl patch {kubectl_target(resource)} --type merge -p '{json.dumps(patch, separators=(',', ':'))}'"


def _level(peer: Peer, root: str) -> str:
    if peer.selector is not None:
        return "workload"
    return "mesh-wide" if peer.namespace == root else "namespace"


def _judge_peer(
    peer: Peer, decisions: Mapping[int, Decision], meshed: list[MeshWorkload], root: str
) -> list[Violation]:
    resource = peer.resource
    if peer.rejected:
        return [
            Violation(
                f'PeerAuthentication "{resource.name}" sets portLevelMtls without a selector: the API server refuses it '
                "(portLevelMtls requires selector), so none of it applies, its mode included",
                ("spec", "portLevelMtls"),
            )
        ]
    if peer.selector is not None and peer.namespace == root:
        return []  # ignored by Istio; it weakens nothing
    scope = [w for w in meshed if _in_scope(peer, w, root)]
    found = []
    if peer.mode in WEAK:
        decided = [w for w in scope if decisions[id(w)].decided_by is peer]
        if decided or not scope:
            effect = "plain text is accepted" if peer.mode == "PERMISSIVE" else "mutual TLS is off"
            who = (
                f"it decides for {names(decided)}"
                if decided
                else f"it decides for every workload it covers ({_level(peer, root)}) without a policy of its own"
            )
            found.append(
                Violation(
                    f'PeerAuthentication "{resource.name}" sets {_level(peer, root)} mutual TLS to {peer.mode} and {who}: '
                    f"{effect}",
                    ("spec", "mtls", "mode"),
                    remediation=_patch(resource, {"spec": {"mtls": {"mode": "STRICT"}}}),
                )
            )
    uses = [w for w in scope if decisions[id(w)].workload_policy is peer]
    if uses or not scope:
        for port, mode in sorted(peer.ports.items()):
            if mode in WEAK:
                who = f" for {names(uses)}" if uses else ""
                found.append(
                    Violation(
                        f'PeerAuthentication "{resource.name}" sets port {port} to {mode}{who}: that port accepts plain text',
                        ("spec", "portLevelMtls", port, "mode"),
                        remediation=_patch(resource, {"spec": {"portLevelMtls": {port: None}}}),
                    )
                )
    return found


def in_cluster(host: object) -> bool:
    """A host naming Services of this cluster: a short name (Istio reads it in the rule's namespace),
    a ``.svc`` name, or a wildcard that covers them (``*``, ``*.local``, ``*.svc.cluster.local``)."""
    if not isinstance(host, str) or not host:
        return False
    if host == "*":
        return True
    if host.startswith("*."):
        suffix = host[1:]
        return CLUSTER_SUFFIX.endswith(suffix) or ".svc." in host or host.endswith(".svc")
    return "." not in host or host.endswith(".svc") or ".svc." in host


def _traffic_policies(spec: Mapping[str, Any]) -> Iterator[tuple[tuple[str | int, ...], Mapping[str, Any]]]:
    if is_map(spec.get("trafficPolicy")):
        yield ("spec", "trafficPolicy"), spec["trafficPolicy"]
    subsets = spec.get("subsets")
    for i, subset in enumerate(subsets if is_list(subsets) else ()):
        if is_map(subset) and is_map(subset.get("trafficPolicy")):
            yield ("spec", "subsets", i, "trafficPolicy"), subset["trafficPolicy"]


def _judge_destination_rule(resource: Resource) -> list[Violation]:
    spec = spec_of(resource)
    host = spec.get("host")
    if not in_cluster(host):
        return []
    found = []
    for path, policy in _traffic_policies(spec):
        if _mode(policy.get("tls")) == "DISABLE":
            found.append(
                Violation(
                    f'DestinationRule "{resource.name}" turns TLS off toward {host}: its clients send plain text',
                    (*path, "tls", "mode"),
                )
            )
        settings = policy.get("portLevelSettings")
        for i, setting in enumerate(settings if is_list(settings) else ()):
            if is_map(setting) and _mode(setting.get("tls")) == "DISABLE":
                port = setting.get("port")
                number = port.get("number") if is_map(port) else None
                found.append(
                    Violation(
                        f'DestinationRule "{resource.name}" turns TLS off toward {host} port {number}: its clients '
                        "send plain text there",
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
    remediation="Apply a PeerAuthentication with mtls.mode STRICT in the root namespace (istio-system), remove the "
    "PERMISSIVE and DISABLE modes and port exceptions that override it, and drop tls.mode DISABLE from "
    "DestinationRules toward cluster services.",
)
def mesh_mtls_not_strict(ctx: RuleContext) -> Iterator[Outcome]:
    """Service mesh mutual TLS is not strict.

    ## What it does
    For Istio, works out each meshed workload's mutual TLS mode the way Istio does: the oldest
    PeerAuthentication selecting the workload, else its namespace's (no selector), else the mesh's
    (root namespace, no selector); a level whose mode is `UNSET` (or left out) inherits the next;
    with none, Istio's default is `PERMISSIVE`. Port settings (`portLevelMtls`) of the workload's
    policy override the mode for one port. Then flags:
    - a PeerAuthentication setting `PERMISSIVE` or `DISABLE` for a workload it decides for (one
      whose every workload has a policy of its own that wins passes; a policy with no workload of
      the scan in its scope is judged on its face);
    - a `portLevelMtls` entry setting a port to `PERMISSIVE` or `DISABLE`, even under a `STRICT`
      mode;
    - a PeerAuthentication with `portLevelMtls` and no selector: the API server refuses it, so the
      `STRICT` mode it also sets never applies;
    - a namespace whose meshed workloads no policy covers (the default is `PERMISSIVE`);
    - a DestinationRule setting `tls.mode: DISABLE` (in its traffic policy, a subset's, or a port's)
      toward a Service of the cluster: a short name, a `.svc` name, or a wildcard covering them.

    Selector policies in the root namespace are ignored, as Istio ignores them.

    ## Why is this bad?
    In `PERMISSIVE` mode a meshed workload also accepts plain-text connections, from pods outside
    the mesh or from anything that reaches the pod network: no encryption, no caller identity, and
    authorization policies that name principals cannot apply to those callers. `DISABLE` turns
    mutual TLS off outright, and a port exception is a plain-text door in a strict workload.

    ## Example
    ```yaml
    apiVersion: security.istio.io/v1
    kind: PeerAuthentication
    metadata: {name: default, namespace: istio-system}
    spec:
      mtls: {mode: STRICT}
    ---
    apiVersion: security.istio.io/v1
    kind: PeerAuthentication
    metadata: {name: cart, namespace: shop}
    spec:
      selector: {matchLabels: {app: cart}}
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
    workloads outside the mesh, see EW-001), then remove the exceptions one by one.

    ## References
    - https://istio.io/latest/docs/reference/config/security/peer_authentication/
    - https://istio.io/latest/docs/concepts/security/#peer-authentication
    - https://istio.io/latest/docs/tasks/security/authentication/mtls-migration/
    """
    mesh = ctx.analyses.get(mesh_scan)
    if mesh.istio is None:
        return
    inventory = ctx.inventory
    root = mesh.root_namespace
    peers = [
        _peer(r, inventory.effective_namespace(r) or DEFAULT_NAMESPACE)
        for r in inventory.of_kind("PeerAuthentication")
        if r.group == ISTIO_SECURITY
    ]
    meshed = list(mesh.meshed("istio"))
    by_namespace: dict[str, list[Peer]] = defaultdict(list)
    for peer in peers:
        by_namespace[peer.namespace].append(peer)
    mesh_level = by_namespace.get(root, [])
    decisions = {
        id(w): decide(w, by_namespace.get(w.namespace, []) + (mesh_level if w.namespace != root else []), root)
        for w in meshed
    }
    workloads_by_namespace: dict[str, list[MeshWorkload]] = defaultdict(list)
    for workload in meshed:
        workloads_by_namespace[workload.namespace].append(workload)
    for peer in peers:
        candidates = meshed if peer.namespace == root else workloads_by_namespace.get(peer.namespace, [])
        yield Outcome(peer.resource, tuple(_judge_peer(peer, decisions, candidates, root)))
    for resource in inventory.of_kind("DestinationRule"):
        if resource.group == ISTIO_NETWORKING:
            yield Outcome(resource, tuple(_judge_destination_rule(resource)))
    for namespace, workloads in sorted(workloads_by_namespace.items()):
        target = inventory.namespace_resource(namespace)
        if target is None:
            continue
        defaulted = [w for w in workloads if decisions[id(w)].decided_by is None]
        if not defaulted:
            yield Outcome(target)
            continue
        message = (
            f'namespace "{namespace}": no PeerAuthentication sets mutual TLS for {names(defaulted)}, so they take '
            "Istio's default, PERMISSIVE, and accept plain text"
        )
        yield Outcome(target, (Violation(message),))
