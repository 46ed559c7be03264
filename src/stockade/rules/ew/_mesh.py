"""Service-mesh discovery shared by the EW rules, built once per scan from the objects alone.

- *Installed*: a mesh is installed when the objects show its control plane (Istio: an ``istiod``
  Deployment, an IstioOperator, a ``*.istio.io`` CRD, an ``istio-sidecar-injector`` webhook, the
  ``istio`` mesh ConfigMap; Linkerd: ``linkerd-destination`` and its siblings, the
  ``linkerd-proxy-injector`` webhook, a ``*.linkerd.io`` CRD, ``linkerd-config``), or its traces:
  objects of its API groups (their CRDs must exist), namespaces enrolled in it, injected proxies.
- *Enrolled namespaces*: Istio ``istio-injection=enabled``, ``istio.io/rev=…`` (sidecars) or
  ``istio.io/dataplane-mode=ambient`` labels; Linkerd's ``linkerd.io/inject: enabled`` annotation.
- *Meshed workloads*: the injectors' own precedence. Istio: a ``disabled`` namespace label or a
  ``sidecar.istio.io/inject: "false"`` pod label (or annotation) wins, then an enabled namespace or
  pod; an ambient namespace (or pod label) captures pods that are not injected, unless the pod says
  ``istio.io/dataplane-mode: none``. Linkerd: the pod's ``linkerd.io/inject`` annotation, else the
  namespace's. ``hostNetwork`` pods are never meshed; a pod that already carries the proxy
  container (a live or pre-injected pod) is.
- *Root namespace* (Istio): ``meshConfig.rootNamespace``, else ``values.global.istioNamespace``,
  else where istiod runs, else ``istio-system``.

A mesh is one entry of :data:`MESHES` with its detector, so another (Cilium's) can be added beside.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import yaml

from stockade.model.inventory import DEFAULT_NAMESPACE, Inventory
from stockade.model.podspec import PodTemplate, is_list, is_map
from stockade.model.resource import Resource
from stockade.rules.base import is_false, is_true

MeshName = Literal["istio", "linkerd"]

# -- Istio ---------------------------------------------------------------------------------------------
ISTIO_INJECTION: Final = "istio-injection"
ISTIO_REV: Final = "istio.io/rev"
DATAPLANE_MODE: Final = "istio.io/dataplane-mode"
SIDECAR_INJECT: Final = "sidecar.istio.io/inject"
ISTIO_STATUS: Final = "sidecar.istio.io/status"
ISTIO_PROXY: Final = "istio-proxy"
DEFAULT_ROOT_NAMESPACE: Final = "istio-system"
ISTIO_SECURITY: Final = "security.istio.io"
ISTIO_NETWORKING: Final = "networking.istio.io"
ISTIO_TELEMETRY: Final = "telemetry.istio.io"
_ISTIO_CONTROL_PLANE: Final = ("istiod", "istio-pilot")
_ISTIO_WEBHOOKS: Final = ("istio-sidecar-injector", "istio-revision-tag")

# -- Linkerd -------------------------------------------------------------------------------------------
LINKERD_INJECT: Final = "linkerd.io/inject"
LINKERD_PROXY: Final = "linkerd-proxy"
LINKERD_PROXY_VERSION: Final = "linkerd.io/proxy-version"
LINKERD_POLICY: Final = "policy.linkerd.io"
_LINKERD_CONTROL_PLANE: Final = (
    "linkerd-destination",
    "linkerd-identity",
    "linkerd-proxy-injector",
    "linkerd-controller",
)

# A mesh ConfigMap larger than this is not parsed (the API server caps a ConfigMap at 1 MiB).
_MAX_CONFIG = 1 << 20


@dataclass(frozen=True, slots=True)
class Installation:
    """One mesh the objects show. ``evidence``: its control-plane object, when the scan holds one
    (a place to report mesh-wide settings on); ``config``: Istio's meshConfig (the IstioOperator's
    and the ``istio`` ConfigMaps', merged), Linkerd's ``linkerd-config`` values."""

    mesh: MeshName
    evidence: Resource | None
    config: Mapping[str, Any] = field(default_factory=dict)
    root_namespace: str = ""


@dataclass(frozen=True, slots=True)
class Membership:
    """Whether a pod is in a mesh; when it is not, why, and where the pod itself opted out."""

    mesh: MeshName | None
    mode: str = ""  # "sidecar" or "ambient" for Istio, "proxy" for Linkerd
    why: str = ""
    opt_out: tuple[str, str] | None = None  # ("labels" or "annotations", key) on the pod template


@dataclass(frozen=True, slots=True)
class MeshWorkload:
    template: PodTemplate
    namespace: str
    labels: Mapping[str, Any]
    annotations: Mapping[str, Any]
    membership: Membership
    # The mesh's own parts: control plane, node agents, gateways. They are not applications: the
    # EW rules judge neither their membership nor their policies.
    infrastructure: bool = False

    @property
    def mesh(self) -> MeshName | None:
        return self.membership.mesh

    @property
    def carrier(self) -> Resource:
        return self.template.carrier

    @property
    def name(self) -> str:
        return f'{self.carrier.kind} "{self.carrier.name}"'

    def metadata_path(self, *rest: str) -> tuple[str | int, ...]:
        return (*self.template.path, "metadata", *rest)


@dataclass(frozen=True, slots=True)
class MeshScan:
    """The meshes of one inventory and who is in them."""

    installed: Mapping[MeshName, Installation]
    enrolled: Mapping[str, frozenset[MeshName]]  # namespace → meshes its Namespace object enrols it in
    namespace_objects: Mapping[str, Resource]
    workloads: tuple[MeshWorkload, ...]

    def __bool__(self) -> bool:
        return bool(self.installed)

    @property
    def istio(self) -> Installation | None:
        return self.installed.get("istio")

    @property
    def linkerd(self) -> Installation | None:
        return self.installed.get("linkerd")

    @property
    def root_namespace(self) -> str:
        istio = self.istio
        return istio.root_namespace if istio is not None else DEFAULT_ROOT_NAMESPACE

    @property
    def applications(self) -> tuple[MeshWorkload, ...]:
        return tuple(w for w in self.workloads if not w.infrastructure)

    def meshed(self, mesh: MeshName | None = None) -> tuple[MeshWorkload, ...]:
        """The applications in ``mesh`` (in any mesh when None)."""
        return tuple(w for w in self.applications if w.mesh is not None and (mesh is None or w.mesh == mesh))

    def meshed_namespaces(self, mesh: MeshName | None = None) -> frozenset[str]:
        """Namespaces enrolled in ``mesh`` (any mesh when None) or holding an application in it."""
        enrolled = {ns for ns, meshes in self.enrolled.items() if meshes and (mesh is None or mesh in meshes)}
        return frozenset(enrolled | {w.namespace for w in self.meshed(mesh)})

    def namespace_annotations(self, namespace: str) -> Mapping[str, Any]:
        found = self.namespace_objects.get(namespace)
        return found.annotations if found is not None else {}


# -- membership -----------------------------------------------------------------------------------------
def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _proxy_containers(spec: Mapping[str, Any]) -> frozenset[str]:
    names = set()
    for key in ("initContainers", "containers"):
        containers = spec.get(key)
        for container in containers if is_list(containers) else ():
            if is_map(container) and container.get("name") in (ISTIO_PROXY, LINKERD_PROXY):
                names.add(str(container["name"]))
    return frozenset(names)


def istio_membership(
    ns_labels: Mapping[str, Any], labels: Mapping[str, Any], annotations: Mapping[str, Any]
) -> Membership:
    """Istio's injection decision for a pod (sidecar), then ambient capture."""
    # The label is what the webhook selects on; the older annotation is still read by the injector.
    own_key = "labels" if SIDECAR_INJECT in labels else "annotations"
    own = labels.get(SIDECAR_INJECT) if own_key == "labels" else annotations.get(SIDECAR_INJECT)
    namespace_says = _text(ns_labels.get(ISTIO_INJECTION))
    why = ""
    opt_out = None
    if namespace_says == "disabled":
        why = "its namespace is labelled istio-injection=disabled"
    elif is_false(own):
        why, opt_out = f'it sets {SIDECAR_INJECT}: "{own}"', (own_key, SIDECAR_INJECT)
    elif namespace_says == "enabled" or ISTIO_REV in ns_labels or is_true(own) or ISTIO_REV in labels:
        return Membership("istio", "sidecar")
    pod_mode = _text(labels.get(DATAPLANE_MODE))
    if pod_mode == "none":
        return Membership(None, why=f"it sets {DATAPLANE_MODE}: none", opt_out=("labels", DATAPLANE_MODE))
    if pod_mode == "ambient" or _text(ns_labels.get(DATAPLANE_MODE)) == "ambient":
        return Membership("istio", "ambient")
    return Membership(None, why=why or "neither it nor its namespace asks for the Istio proxy", opt_out=opt_out)


def linkerd_membership(ns_annotations: Mapping[str, Any], annotations: Mapping[str, Any]) -> Membership:
    own = _text(annotations.get(LINKERD_INJECT))
    if own in ("enabled", "ingress"):
        return Membership("linkerd", "proxy")
    if own == "disabled":
        return Membership(None, why=f"it sets {LINKERD_INJECT}: disabled", opt_out=("annotations", LINKERD_INJECT))
    if not own and _text(ns_annotations.get(LINKERD_INJECT)) == "enabled":
        return Membership("linkerd", "proxy")
    return Membership(None, why="neither it nor its namespace asks for the Linkerd proxy")


def membership_of(
    installed: Mapping[MeshName, Installation],
    template: PodTemplate,
    namespace: Resource | None,
    labels: Mapping[str, Any],
    annotations: Mapping[str, Any],
) -> Membership:
    spec = template.spec
    proxies = _proxy_containers(spec)
    if ISTIO_PROXY in proxies or ISTIO_STATUS in annotations:
        return Membership("istio", "sidecar")
    if LINKERD_PROXY in proxies or LINKERD_PROXY_VERSION in annotations:
        return Membership("linkerd", "proxy")
    if spec.get("hostNetwork") is True:
        return Membership(None, why="it uses the host network, which no mesh proxy captures")
    ns_labels = namespace.labels if namespace is not None else {}
    ns_annotations = namespace.annotations if namespace is not None else {}
    outside: list[Membership] = []
    if "istio" in installed:
        found = istio_membership(ns_labels, labels, annotations)
        if found.mesh is not None:
            return found
        outside.append(found)
    if "linkerd" in installed:
        found = linkerd_membership(ns_annotations, annotations)
        if found.mesh is not None:
            return found
        outside.append(found)
    # The most telling reason: the pod's own opt-out first.
    outside.sort(key=lambda m: m.opt_out is None)
    return outside[0] if outside else Membership(None, why="no mesh is installed")


_ISTIO_COMPONENTS: Final = frozenset(
    {"istiod", "istio-cni-node", "ztunnel", "istio-ingressgateway", "istio-egressgateway"}
)
_GATEWAY_LABELS: Final = ("gateway.networking.k8s.io/gateway-name", "gateway.istio.io/managed")


def is_infrastructure(template: PodTemplate, labels: Mapping[str, Any], annotations: Mapping[str, Any]) -> bool:
    """A part of the mesh itself: Istio's istiod, CNI node agent, ztunnel and gateways (whose proxy
    runs as the router), Linkerd's control plane and extensions."""
    if "linkerd.io/control-plane-component" in labels or "linkerd.io/extension" in labels:
        return True
    if labels.get("app") in _ISTIO_COMPONENTS or labels.get("k8s-app") in _ISTIO_COMPONENTS:
        return True
    if labels.get("istio") in ("pilot", "ingressgateway", "egressgateway") or any(k in labels for k in _GATEWAY_LABELS):
        return True
    if annotations.get("inject.istio.io/templates") == "gateway":
        return True
    containers = template.spec.get("containers")
    for container in containers if is_list(containers) else ():
        if not is_map(container):
            continue
        args = container.get("args")
        if container.get("name") == ISTIO_PROXY and is_list(args) and "router" in args:
            return True
    return False


def enrolled_meshes(namespace: Resource) -> frozenset[MeshName]:
    labels, annotations = namespace.labels, namespace.annotations
    found: set[MeshName] = set()
    injection = _text(labels.get(ISTIO_INJECTION))
    if injection == "enabled" or (ISTIO_REV in labels and injection != "disabled"):
        found.add("istio")
    if _text(labels.get(DATAPLANE_MODE)) == "ambient":
        found.add("istio")
    if _text(annotations.get(LINKERD_INJECT)) == "enabled":
        found.add("linkerd")
    return frozenset(found)


# -- installation -----------------------------------------------------------------------------------
def _is_istio_control_plane(resource: Resource) -> bool:
    kind, name = resource.kind, resource.name
    if kind == "Deployment":
        return name.startswith(_ISTIO_CONTROL_PLANE)
    if kind == "MutatingWebhookConfiguration":
        return name.startswith(_ISTIO_WEBHOOKS)
    if kind == "CustomResourceDefinition":
        return name.endswith(".istio.io")
    if kind == "IstioOperator":
        return resource.group == "install.istio.io"
    return (
        kind == "ConfigMap" and (name == "istio" or name.startswith("istio-")) and _mesh_document(resource) is not None
    )


def _is_linkerd_control_plane(resource: Resource) -> bool:
    kind, name = resource.kind, resource.name
    if kind == "Deployment":
        return name in _LINKERD_CONTROL_PLANE
    if kind == "MutatingWebhookConfiguration":
        return name.startswith("linkerd-proxy-injector")
    if kind == "CustomResourceDefinition":
        return name.endswith(".linkerd.io")
    return kind == "ConfigMap" and name == "linkerd-config"


def _load(document: object) -> Mapping[str, Any] | None:
    if not isinstance(document, str) or len(document) > _MAX_CONFIG:
        return None
    try:
        loaded = yaml.safe_load(document)
    except yaml.YAMLError:
        return None
    return loaded if is_map(loaded) else None


def _mesh_document(config_map: Resource) -> Mapping[str, Any] | None:
    data = config_map.raw.get("data")
    return _load(data.get("mesh")) if is_map(data) else None


def _istio_config(inventory: Inventory, evidence: Iterable[Resource]) -> Mapping[str, Any]:
    merged: dict[str, Any] = {}
    for resource in evidence:
        if resource.kind == "IstioOperator":
            spec = resource.raw.get("spec")
            mesh_config = spec.get("meshConfig") if is_map(spec) else None
            values = spec.get("values") if is_map(spec) else None
            global_values = values.get("global") if is_map(values) else None
            if is_map(global_values) and isinstance(global_values.get("istioNamespace"), str):
                merged.setdefault("rootNamespace", global_values["istioNamespace"])
            if is_map(mesh_config):
                merged.update({k: v for k, v in mesh_config.items() if v not in (None, "")})
        elif resource.kind == "ConfigMap":
            document = _mesh_document(resource)
            if document is not None:
                merged.update({k: v for k, v in document.items() if v not in (None, "")})
        elif resource.kind == "Deployment" and resource.name.startswith(_ISTIO_CONTROL_PLANE):
            merged.setdefault("rootNamespace", inventory.effective_namespace(resource) or DEFAULT_ROOT_NAMESPACE)
    return merged


def _linkerd_config(evidence: Iterable[Resource]) -> Mapping[str, Any]:
    for resource in evidence:
        if resource.kind == "ConfigMap" and resource.name == "linkerd-config":
            data = resource.raw.get("data")
            values = _load(data.get("values")) if is_map(data) else None
            if values is not None:
                return values
    return {}


_TRACES: Mapping[MeshName, Callable[[Resource], bool]] = {
    "istio": lambda r: r.group.endswith(".istio.io"),
    "linkerd": lambda r: r.group.endswith(".linkerd.io"),
}
MESHES: Mapping[MeshName, Callable[[Resource], bool]] = {
    "istio": _is_istio_control_plane,
    "linkerd": _is_linkerd_control_plane,
}


def _installed(inventory: Inventory, enrolled: Mapping[str, frozenset[MeshName]]) -> dict[MeshName, Installation]:
    evidence: dict[MeshName, list[Resource]] = {mesh: [] for mesh in MESHES}
    traced: set[MeshName] = {mesh for meshes in enrolled.values() for mesh in meshes}
    for resource in inventory.resources:
        for mesh, is_control_plane in MESHES.items():
            if is_control_plane(resource):
                evidence[mesh].append(resource)
            elif _TRACES[mesh](resource):
                traced.add(mesh)
    for template in inventory.pod_templates:
        proxies = _proxy_containers(template.spec)
        if ISTIO_PROXY in proxies:
            traced.add("istio")
        if LINKERD_PROXY in proxies:
            traced.add("linkerd")
    installed: dict[MeshName, Installation] = {}
    for mesh, found in evidence.items():
        if not found and mesh not in traced:
            continue
        # Report mesh-wide settings on the object that holds them, else on the control plane.
        found.sort(key=lambda r: (r.kind not in ("IstioOperator", "ConfigMap"), r.kind != "Deployment"))
        anchor = found[0] if found else None
        if mesh == "istio":
            config = _istio_config(inventory, found)
            root = config.get("rootNamespace")
            root = root if isinstance(root, str) and root else DEFAULT_ROOT_NAMESPACE
            installed[mesh] = Installation(mesh, anchor, config, root)
        else:
            installed[mesh] = Installation(mesh, anchor, _linkerd_config(found))
    return installed


def mesh_scan(inventory: Inventory) -> MeshScan:
    """The analysis every EW rule reads (``ctx.analyses.get(mesh_scan)``)."""
    namespaces = {ns.name: ns for ns in inventory.of_kind("Namespace")}
    enrolled = {name: enrolled_meshes(ns) for name, ns in namespaces.items()}
    installed = _installed(inventory, enrolled)
    workloads = []
    if installed:
        for template in inventory.pod_templates:
            namespace = inventory.effective_namespace(template.carrier) or DEFAULT_NAMESPACE
            labels = template.metadata.get("labels")
            annotations = template.metadata.get("annotations")
            labels = labels if is_map(labels) else {}
            annotations = annotations if is_map(annotations) else {}
            found = membership_of(installed, template, namespaces.get(namespace), labels, annotations)
            part = is_infrastructure(template, labels, annotations)
            workloads.append(MeshWorkload(template, namespace, labels, annotations, found, part))
    return MeshScan(installed, enrolled, namespaces, tuple(workloads))


# -- helpers for the rules ------------------------------------------------------------------------------
def oldest(resources: Iterable[Resource]) -> Resource | None:
    """Istio's tie-break between policies at one level: the oldest (by creationTimestamp, then name)."""
    ordered = sorted(resources, key=lambda r: (str(r.metadata.get("creationTimestamp") or "~"), r.name))
    return ordered[0] if ordered else None


def selector_labels(spec: Mapping[str, Any], key: str = "selector") -> Mapping[str, Any] | None:
    """An Istio workload selector's ``matchLabels`` (None: no selector; an empty selector is none)."""
    selector = spec.get(key)
    labels = selector.get("matchLabels") if is_map(selector) else None
    return labels if is_map(labels) and labels else None


def selects(match_labels: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    return all(labels.get(k) == v for k, v in match_labels.items())


def spec_of(resource: Resource) -> Mapping[str, Any]:
    spec = resource.raw.get("spec")
    return spec if is_map(spec) else {}


def names(workloads: Iterable[MeshWorkload], limit: int = 4) -> str:
    shown = sorted({f"{w.carrier.kind}/{w.namespace}/{w.carrier.name}" for w in workloads})
    more = f" and {len(shown) - limit} more" if len(shown) > limit else ""
    return ", ".join(shown[:limit]) + more
