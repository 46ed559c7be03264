"""EW-004: the mesh keeps no access log."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from stockade.model.finding import Area, Severity, Stage
from stockade.model.inventory import DEFAULT_NAMESPACE
from stockade.model.podspec import is_list, is_map
from stockade.model.resource import Resource
from stockade.rules.base import READS_ANY, Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.ew._mesh import ISTIO_TELEMETRY, Installation, mesh_scan, oldest, spec_of

LINKERD_ACCESS_LOG = "config.linkerd.io/access-log"


@dataclass(frozen=True, slots=True)
class Logging:
    """Access logging as one level sets it: on or off, and the object that says so."""

    on: bool
    source: str


def telemetry_logging(resource: Resource) -> bool | None:
    """True when a Telemetry turns access logging on, False when off, None when it says nothing."""
    entries = spec_of(resource).get("accessLogging")
    if not is_list(entries) or not entries:
        return None
    return any(is_map(e) and e.get("disabled") is not True for e in entries)


def _narrowed(resource: Resource) -> bool:
    spec = spec_of(resource)
    return any(spec.get(key) for key in ("selector", "targetRef", "targetRefs"))


def _level(telemetries: list[Resource]) -> Logging | None:
    speaking = [t for t in telemetries if not _narrowed(t) and telemetry_logging(t) is not None]
    first = oldest(speaking)
    if first is None:
        return None
    return Logging(telemetry_logging(first) is True, f'Telemetry "{first.name}"')


def _mesh_config_file(installation: Installation) -> str:
    value = installation.config.get("accessLogFile")
    return value.strip() if isinstance(value, str) else ""


def _disabled_entries(resource: Resource) -> list[Violation]:
    entries = spec_of(resource).get("accessLogging")
    return [
        Violation(
            f'Telemetry "{resource.name}" turns access logging off for what it covers',
            ("spec", "accessLogging", i, "disabled"),
        )
        for i, entry in enumerate(entries if is_list(entries) else ())
        if is_map(entry) and entry.get("disabled") is True
    ]


def _linkerd_mesh_wide(installation: Installation) -> bool:
    proxy = installation.config.get("proxy")
    value = proxy.get("accessLog") if is_map(proxy) else None
    return isinstance(value, str) and bool(value.strip())


def _annotated(annotations: Mapping[str, Any]) -> bool:
    value = annotations.get(LINKERD_ACCESS_LOG)
    return isinstance(value, str) and bool(value.strip())


@inventory_rule(
    id="EW-004",
    reads={READS_ANY},
    name="mesh-access-logging-off",
    title="Service mesh access logging is off",
    severity=Severity.MEDIUM,
    area=Area.EAST_WEST,
    stage=Stage.WALK,
    frameworks={"nsa-cisa": ["logging.audit", "logging.threat-detection"], "mitre-attack": ["T1562.001"]},
    remediation="Istio: a Telemetry in the root namespace (istio-system) with accessLogging: [{providers: [{name: "
    "envoy}]}], or meshConfig.accessLogFile: /dev/stdout. Linkerd: config.linkerd.io/access-log: json on the "
    "meshed namespaces (or proxy.accessLog at install).",
)
def mesh_access_logging_off(ctx: RuleContext) -> Iterator[Outcome]:
    """Service mesh access logging is off.

    ## What it does
    For Istio, works out access logging for each namespace enrolled in the mesh or holding meshed
    workloads: a namespace-wide `Telemetry` (no selector) with `accessLogging` decides, else the
    mesh-wide one (root namespace, no selector), else `meshConfig.accessLogFile` (from an
    IstioOperator or the `istio` ConfigMap's `mesh` document); with none, logging is off. Flags
    the namespaces where it is off, and every Telemetry that sets `disabled: true`. When the scan
    holds Istio's control plane but no meshed namespace, the mesh-wide setting is judged on the
    control-plane object instead.

    For Linkerd, flags each namespace enrolled in Linkerd or holding Linkerd-meshed workloads when
    neither the namespace nor every meshed workload in it sets `config.linkerd.io/access-log`, and
    the install (`linkerd-config`'s `proxy.accessLog`) does not turn it on for all proxies.

    Nothing is reported when no mesh is installed.

    ## Why is this bad?
    The mesh's access logs say which workload called which, when, and with what answer: what an
    incident responder needs to follow lateral movement, and what nothing else in the cluster
    records. Both meshes ship with them off.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata: {name: shop, labels: {istio-injection: enabled}}
    ---
    apiVersion: telemetry.istio.io/v1
    kind: Telemetry
    metadata: {name: mesh-default, namespace: istio-system}
    spec:
      accessLogging:
        - disabled: true
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata: {name: shop, labels: {istio-injection: enabled}}
    ---
    apiVersion: telemetry.istio.io/v1
    kind: Telemetry
    metadata: {name: mesh-default, namespace: istio-system}
    spec:
      accessLogging:
        - providers: [{name: envoy}]
    ```

    ## Remediation
    Turn access logs on mesh-wide and ship them with the rest of the cluster's logs; filter or
    sample them if volume matters, rather than turning them off.

    ## References
    - https://istio.io/latest/docs/tasks/observability/logs/access-log/
    - https://istio.io/latest/docs/reference/config/telemetry/
    - https://linkerd.io/2/features/access-logging/
    """
    mesh = ctx.analyses.get(mesh_scan)
    if not mesh:
        return
    inventory = ctx.inventory
    if mesh.istio is not None:
        yield from _istio(ctx, mesh.istio, mesh.root_namespace, sorted(mesh.meshed_namespaces("istio")))
    linkerd = mesh.linkerd
    if linkerd is None:
        return
    mesh_wide = _linkerd_mesh_wide(linkerd)
    namespaces = sorted(mesh.meshed_namespaces("linkerd"))
    for name in namespaces:
        target = inventory.namespace_resource(name)
        if target is None:
            continue
        meshed = [w for w in mesh.meshed("linkerd") if w.namespace == name]
        if mesh_wide or _annotated(target.annotations) or (meshed and all(_annotated(w.annotations) for w in meshed)):
            yield Outcome(target)
            continue
        message = (
            f'namespace "{name}" is in the Linkerd mesh and its proxies keep no access log: no {LINKERD_ACCESS_LOG} '
            "on the namespace or its workloads, nor proxy.accessLog at install"
        )
        yield Outcome(target, (Violation(message, ("metadata", "annotations")),))
    if not namespaces and linkerd.evidence is not None:
        if mesh_wide:
            yield Outcome(linkerd.evidence)
        else:
            message = "Linkerd is installed without proxy access logging (proxy.accessLog unset)"
            yield Outcome(linkerd.evidence, (Violation(message),))


def _istio(ctx: RuleContext, istio: Installation, root: str, namespaces: list[str]) -> Iterator[Outcome]:
    inventory = ctx.inventory
    by_namespace: dict[str, list[Resource]] = {}
    for telemetry in inventory.of_kind("Telemetry"):
        if telemetry.group != ISTIO_TELEMETRY:
            continue
        by_namespace.setdefault(inventory.effective_namespace(telemetry) or DEFAULT_NAMESPACE, []).append(telemetry)
        yield Outcome(telemetry, tuple(_disabled_entries(telemetry)))
    mesh_wide = _level(by_namespace.get(root, []))
    log_file = _mesh_config_file(istio)
    if mesh_wide is None and log_file:
        mesh_wide = Logging(True, f"meshConfig.accessLogFile {log_file}")
    for name in namespaces:
        target = inventory.namespace_resource(name)
        if target is None:
            continue
        decided = (_level(by_namespace.get(name, [])) if name != root else None) or mesh_wide
        if decided is not None and decided.on:
            yield Outcome(target)
            continue
        why = (
            f"{decided.source} turns it off"
            if decided is not None
            else f"no Telemetry turns accessLogging on (here or in {root}) and meshConfig.accessLogFile is unset"
        )
        message = f'namespace "{name}" is in the Istio mesh and its proxies keep no access log: {why}'
        yield Outcome(target, (Violation(message),))
    if not namespaces and istio.evidence is not None:
        if mesh_wide is not None and mesh_wide.on:
            yield Outcome(istio.evidence)
        else:
            why = f"{mesh_wide.source} turns it off" if mesh_wide is not None else "nothing turns it on"
            yield Outcome(istio.evidence, (Violation(f"Istio keeps no access log mesh-wide: {why}"),))
