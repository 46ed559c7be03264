"""EW-004: the mesh keeps no access log."""

from __future__ import annotations

import re
from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import is_list, is_map
from stockade.model.resource import Resource
from stockade.rules.base import READS_ANY, Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.ew._mesh import membership

TELEMETRY_GROUP = "telemetry.istio.io"
LINKERD_ACCESS_LOG = "config.linkerd.io/access-log"
# meshConfig as the istio ConfigMap holds it: a YAML document in data.mesh.
ACCESS_LOG_FILE = re.compile(r"^\s*accessLogFile:\s*['\"]?([^'\"\s#]+)", re.MULTILINE)


def _telemetry_logs(resource: Resource) -> bool | None:
    """True when the Telemetry turns access logging on, False when it turns it off, None when silent."""
    spec = resource.raw.get("spec")
    entries = spec.get("accessLogging") if is_map(spec) else None
    if not is_list(entries) or not entries:
        return None
    return any(is_map(e) and e.get("disabled") is not True for e in entries)


def _mesh_config_logs(ctx: RuleContext, root: str) -> bool:
    for config in ctx.inventory.of_kind("ConfigMap"):
        if ctx.inventory.effective_namespace(config) == root and config.name.startswith("istio"):
            data = config.raw.get("data")
            mesh = data.get("mesh") if is_map(data) else None
            if isinstance(mesh, str) and ACCESS_LOG_FILE.search(mesh[:100_000]):
                return True
    for operator in ctx.inventory.of_kind("IstioOperator"):
        spec = operator.raw.get("spec")
        mesh_config = spec.get("meshConfig") if is_map(spec) else None
        if is_map(mesh_config) and str(mesh_config.get("accessLogFile") or "").strip():
            return True
    return False


@inventory_rule(
    id="EW-004",
    reads={READS_ANY},
    name="mesh-access-logging-off",
    title="Service mesh access logging is off",
    severity=Severity.MEDIUM,
    area=Area.EAST_WEST,
    stage=Stage.WALK,
    frameworks={"nsa-cisa": ["logging.audit"], "owasp-k8s-2025": ["K10"]},
    remediation="Istio: a Telemetry in istio-system with accessLogging: [{providers: [{name: envoy}]}] (or "
    "meshConfig.accessLogFile: /dev/stdout). Linkerd: the config.linkerd.io/access-log annotation on the namespace.",
)
def mesh_access_logging_off(ctx: RuleContext) -> Iterator[Outcome]:
    """Service mesh access logging is off.

    ## What it does
    For Istio: access logging is on mesh-wide when a `Telemetry` in the root namespace
    (`istio-system`) without a selector has an `accessLogging` entry that is not `disabled`, or
    when `meshConfig.accessLogFile` is set (in the `istio` ConfigMap's `mesh` document or an
    `IstioOperator`). Without that, each namespace with meshed workloads and no namespace-wide
    Telemetry turning logs on is flagged; any `Telemetry` that sets `disabled: true` is flagged
    wherever it is.
    For Linkerd: each namespace with Linkerd-meshed workloads and no `config.linkerd.io/access-log`
    annotation, on the namespace or on every one of those workloads, is flagged.

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
    Turn access logs on mesh-wide and ship them with the rest of the cluster's logs; sample or
    filter them if volume matters, rather than turning them off.

    ## References
    - https://istio.io/latest/docs/tasks/observability/logs/access-log/
    - https://linkerd.io/2/features/access-logging/
    """
    mesh = ctx.analyses.get(membership)
    if not mesh.view:
        return
    root = mesh.view.root_namespace
    logging_namespaces: set[str] = set()
    mesh_wide = False
    for telemetry in ctx.inventory.of_kind("Telemetry"):
        if telemetry.group != TELEMETRY_GROUP:
            continue
        logs = _telemetry_logs(telemetry)
        spec = telemetry.raw.get("spec")
        where = ctx.inventory.effective_namespace(telemetry) or ""
        if logs and not (is_map(spec) and spec.get("selector")):
            logging_namespaces.add(where)
            mesh_wide |= where == root
        if logs is False:
            message = f'Telemetry "{telemetry.name}" turns access logging off'
            yield Outcome(telemetry, (Violation(message, ("spec", "accessLogging")),))
        else:
            yield Outcome(telemetry)
    if mesh.view.istio:
        mesh_wide |= _mesh_config_logs(ctx, root)
    istio = {w.namespace for w in mesh.workloads if w.mesh == "istio"}
    linkerd = {w.namespace for w in mesh.workloads if w.mesh == "linkerd"}
    for namespace in ctx.inventory.of_kind("Namespace"):
        if namespace.name in istio:
            if mesh_wide or namespace.name in logging_namespaces:
                yield Outcome(namespace)
            else:
                message = f'namespace "{namespace.name}" has Istio-meshed workloads and no access log is kept for them'
                yield Outcome(namespace, (Violation(message, ("metadata", "name")),))
        elif namespace.name in linkerd:
            meshed = [w for w in mesh.workloads if w.mesh == "linkerd" and w.namespace == namespace.name]
            if LINKERD_ACCESS_LOG in namespace.annotations or all(LINKERD_ACCESS_LOG in w.annotations for w in meshed):
                yield Outcome(namespace)
            else:
                message = (
                    f'namespace "{namespace.name}" has Linkerd-meshed workloads and no {LINKERD_ACCESS_LOG} annotation'
                )
                yield Outcome(namespace, (Violation(message, ("metadata", "annotations")),))
