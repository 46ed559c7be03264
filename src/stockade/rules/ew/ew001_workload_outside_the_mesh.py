"""EW-001: a workload left out of the mesh beside meshed ones."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.mesh import INJECT, LINKERD_INJECT
from stockade.rules.base import READS_ANY, Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.ew._mesh import membership


@inventory_rule(
    id="EW-001",
    reads={READS_ANY},
    name="workload-outside-the-mesh",
    title="Workload is left out of the service mesh its namespace uses",
    severity=Severity.MEDIUM,
    area=Area.EAST_WEST,
    stage=Stage.CRAWL,
    frameworks={"nsa-cisa": ["network.encryption"], "owasp-k8s-2025": ["K05"]},
    remediation='Remove the opt-out (sidecar.istio.io/inject: "false", linkerd.io/inject: disabled) or move the '
    "workload to a namespace outside the mesh, and restart its pods so that the proxy is injected.",
)
def workload_outside_the_mesh(ctx: RuleContext) -> Iterator[Outcome]:
    """Workload is left out of the service mesh its namespace uses.

    ## What it does
    Finds the meshes the objects show (Istio or Linkerd: control plane, injector webhook, CRDs,
    their objects, or namespaces labelled for them), decides which workloads are in a mesh
    (Istio: the namespace's `istio-injection`, `istio.io/rev` or ambient `istio.io/dataplane-mode`
    label, overridden by the pod's `sidecar.istio.io/inject`; Linkerd: `linkerd.io/inject` on the
    namespace, overridden by the pod's), and flags workloads outside the mesh in a namespace that
    holds meshed workloads.

    ## Why is this bad?
    A workload without the mesh's proxy sends and receives plain text, has no mesh identity, and
    escapes the mesh's authorization policies and logs. Beside meshed workloads it is usually an
    exception someone made once (a debug pod, a job that "did not work with the sidecar") and the
    way an attacker reaches its neighbours without an identity.

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
          containers: [{name: cart, image: "registry.example.com/cart:1"}]
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: reports, namespace: shop}
    spec:
      selector: {matchLabels: {app: reports}}
      template:
        metadata:
          labels: {app: reports, sidecar.istio.io/inject: "false"}
        spec:
          containers: [{name: reports, image: "registry.example.com/reports:1"}]
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
          containers: [{name: cart, image: "registry.example.com/cart:1"}]
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: reports, namespace: shop}
    spec:
      selector: {matchLabels: {app: reports}}
      template:
        metadata: {labels: {app: reports}}
        spec:
          containers: [{name: reports, image: "registry.example.com/reports:1"}]
    ```

    ## Remediation
    Take the opt-out away and restart the workload. If it truly cannot run with the proxy, move it
    to its own namespace and restrict it with NetworkPolicies, since the mesh cannot.

    ## References
    - https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/
    - https://linkerd.io/2/features/proxy-injection/
    """
    mesh = ctx.analyses.get(membership)
    if not mesh.view:
        return
    for workload in mesh.workloads:
        if workload.namespace not in mesh.meshed_namespaces:
            continue
        if workload.mesh is not None:
            yield Outcome(workload.template.carrier)
            continue
        path: tuple[str | int, ...] = (*workload.template.path, "metadata")
        why = "it has no mesh proxy"
        if INJECT in workload.labels:
            path, why = (*path, "labels", INJECT), f"it sets {INJECT}: {workload.labels[INJECT]}"
        elif INJECT in workload.annotations:
            path, why = (*path, "annotations", INJECT), f"it sets {INJECT}: {workload.annotations[INJECT]}"
        elif LINKERD_INJECT in workload.annotations:
            value = workload.annotations[LINKERD_INJECT]
            path, why = (*path, "annotations", LINKERD_INJECT), f"it sets {LINKERD_INJECT}: {value}"
        carrier = workload.template.carrier
        where = f'"{workload.namespace}"'
        message = f'{carrier.kind} "{carrier.name}" runs outside the mesh beside meshed workloads in {where}: {why}'
        yield Outcome(carrier, (Violation(message, path),))
