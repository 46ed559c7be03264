"""EW-001: a workload left out of the mesh beside meshed ones."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.base import READS_ANY, Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.ew._mesh import mesh_scan


@inventory_rule(
    id="EW-001",
    reads={READS_ANY},
    name="workload-outside-the-mesh",
    title="Workload is left out of the service mesh its namespace uses",
    severity=Severity.MEDIUM,
    area=Area.EAST_WEST,
    stage=Stage.CRAWL,
    frameworks={"nsa-cisa": ["network.encryption"], "owasp-k8s-2025": ["K05"], "mitre-attack": ["T1562.001"]},
    remediation='Remove the opt-out (sidecar.istio.io/inject: "false", linkerd.io/inject: disabled, '
    "istio.io/dataplane-mode: none) and restart the workload, or move it to a namespace outside the mesh.",
)
def workload_outside_the_mesh(ctx: RuleContext) -> Iterator[Outcome]:
    """Workload is left out of the service mesh its namespace uses.

    ## What it does
    Finds the meshes the objects show (Istio or Linkerd: control plane, injector webhook, CRDs, their
    objects, enrolled namespaces, injected proxies) and decides, with each injector's precedence,
    which workloads are in a mesh:
    - Istio: `istio-injection=disabled` on the namespace or `sidecar.istio.io/inject: "false"` on
      the pod (label or annotation) keeps the sidecar out; `istio-injection=enabled`,
      `istio.io/rev` or a pod's `"true"` brings it in; an ambient namespace
      (`istio.io/dataplane-mode=ambient`) captures the pods that have no sidecar, unless the pod
      says `istio.io/dataplane-mode: none`.
    - Linkerd: the pod's `linkerd.io/inject` annotation (`enabled`, `ingress`, `disabled`), else the
      namespace's.

    It then flags every workload outside the mesh in a namespace enrolled in a mesh or holding
    meshed workloads. `hostNetwork` pods are flagged too (no proxy can capture them), with that
    reason. The mesh's own parts (istiod, ztunnel, the CNI agent, gateways, Linkerd's control plane
    and extensions) are not judged. Nothing is reported when no mesh is installed.

    ## Why is this bad?
    A workload without the mesh's proxy sends and receives plain text, has no mesh identity, and
    escapes the mesh's authorization policies and access logs. Beside meshed workloads it is usually
    an exception someone made once (a job "that did not work with the sidecar", a debug pod), and the
    way to reach the neighbours without an identity; under strict mutual TLS it is also a workload
    that cannot call them, or a reason someone keeps mutual TLS permissive.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata: {name: shop, labels: {istio-injection: enabled}}
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
          containers: [{name: reports, image: "registry.example.com/reports:1.4"}]
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata: {name: shop, labels: {istio-injection: enabled}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: reports, namespace: shop}
    spec:
      selector: {matchLabels: {app: reports}}
      template:
        metadata:
          labels: {app: reports}
        spec:
          containers: [{name: reports, image: "registry.example.com/reports:1.4"}]
    ```

    ## Remediation
    Take the opt-out away and restart the workload so the proxy is injected (a Job that must finish
    can run the proxy as a native sidecar, Kubernetes 1.28 and later). If it truly cannot run with
    the proxy, move it to its own namespace and restrict it with NetworkPolicies, since the mesh
    cannot.

    ## References
    - https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/#controlling-the-injection-policy
    - https://istio.io/latest/docs/ambient/usage/add-workloads/
    - https://linkerd.io/2/features/proxy-injection/
    """
    mesh = ctx.analyses.get(mesh_scan)
    if not mesh:
        return
    meshed_namespaces = mesh.meshed_namespaces()
    for workload in mesh.applications:
        if workload.namespace not in meshed_namespaces:
            continue
        if workload.mesh is not None:
            yield Outcome(workload.carrier)
            continue
        found = workload.membership
        path = workload.metadata_path(*found.opt_out) if found.opt_out else workload.metadata_path()
        if found.opt_out is None and workload.template.spec.get("hostNetwork") is True:
            path = (*workload.template.spec_path, "hostNetwork")
        message = (
            f'{workload.name} runs outside the mesh in namespace "{workload.namespace}", which is in the mesh: '
            f"{found.why}, so its traffic has no mutual TLS, identity, authorization or access log"
        )
        yield Outcome(workload.carrier, (Violation(message, path),))
