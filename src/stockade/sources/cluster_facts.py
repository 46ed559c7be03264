"""Facts about a cluster that control-plane, node and authentication checks read.

Built from an Inventory (nodes and kube-system static pods) and the source's facts (server
version). Pure: a snapshot gives the same facts as the live cluster it was taken from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stockade.model.inventory import Inventory
from stockade.model.resource import Resource
from stockade.sources.component_flags import ParsedFlags, container_argv, parse_flags, parse_version

CONTROL_PLANE = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")


@dataclass(frozen=True, slots=True)
class NodeFacts:
    name: str
    kubelet_version: str
    os_image: str
    operating_system: str
    container_runtime: str
    ready: bool | None
    conditions: Mapping[str, str]  # type → status, e.g. {"Ready": "True", "DiskPressure": "False"}
    control_plane: bool


@dataclass(frozen=True, slots=True)
class ComponentFacts:
    component: str
    pod: Resource
    flags: ParsedFlags
    image: str


@dataclass(frozen=True, slots=True)
class ClusterFacts:
    server_version: str | None
    nodes: tuple[NodeFacts, ...]
    components: Mapping[str, tuple[ComponentFacts, ...]]  # one per control-plane node

    @property
    def version(self) -> tuple[int, int] | None:
        return parse_version(self.server_version) if self.server_version else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def node_facts(node: Resource) -> NodeFacts:
    status = _mapping(node.raw.get("status"))
    info = _mapping(status.get("nodeInfo"))
    conditions = {
        str(c.get("type")): str(c.get("status"))
        for c in status.get("conditions") or []
        if isinstance(c, Mapping) and c.get("type")
    }
    ready = {"True": True, "False": False}.get(conditions.get("Ready", ""))
    labels = node.labels
    return NodeFacts(
        name=node.name,
        kubelet_version=str(info.get("kubeletVersion", "")),
        os_image=str(info.get("osImage", "")),
        operating_system=str(info.get("operatingSystem", "")),
        container_runtime=str(info.get("containerRuntimeVersion", "")),
        ready=ready,
        conditions=conditions,
        control_plane="node-role.kubernetes.io/control-plane" in labels or "node-role.kubernetes.io/master" in labels,
    )


def _component_of(pod: Resource) -> str | None:
    labels = pod.labels
    for key in ("component", "k8s-app", "app"):
        value = labels.get(key)
        if value in CONTROL_PLANE:
            return str(value)
    for component in CONTROL_PLANE:
        if pod.name == component or pod.name.startswith(component + "-"):
            return component
    return None


def component_facts(pod: Resource) -> ComponentFacts | None:
    component = _component_of(pod)
    if component is None:
        return None
    containers = _mapping(pod.raw.get("spec")).get("containers")
    if not isinstance(containers, list):
        return None
    for container in containers:
        if not isinstance(container, Mapping):
            continue
        argv = container_argv(container)
        if any(component in part for part in argv[:1]) or container.get("name") == component:
            return ComponentFacts(component, pod, parse_flags(component, argv), str(container.get("image", "")))
    return None


def cluster_facts(inventory: Inventory, source_facts: Mapping[str, object]) -> ClusterFacts:
    components: dict[str, list[ComponentFacts]] = {}
    for pod in inventory.of_kind("Pod"):
        if inventory.effective_namespace(pod) != "kube-system":
            continue
        facts = component_facts(pod)
        if facts is not None:
            components.setdefault(facts.component, []).append(facts)
    version = source_facts.get("server_version")
    if isinstance(version, Mapping):
        version = version.get("gitVersion")
    return ClusterFacts(
        server_version=str(version) if version else None,
        nodes=tuple(node_facts(n) for n in inventory.of_kind("Node")),
        components={k: tuple(v) for k, v in components.items()},
    )
