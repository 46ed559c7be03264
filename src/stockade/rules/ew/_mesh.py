"""What the EW rules share: the mesh view, and each workload's mesh membership, built once per scan."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stockade.model.inventory import DEFAULT_NAMESPACE, Inventory
from stockade.model.mesh import MeshView, mesh_view
from stockade.model.podspec import PodTemplate, is_map


@dataclass(frozen=True, slots=True)
class MeshedWorkload:
    template: PodTemplate
    namespace: str
    labels: Mapping[str, Any]
    annotations: Mapping[str, Any]
    mesh: str | None  # "istio", "linkerd", or None when outside every mesh


@dataclass(frozen=True, slots=True)
class MeshMembership:
    view: MeshView
    workloads: tuple[MeshedWorkload, ...]
    meshed_namespaces: frozenset[str]  # namespaces holding at least one meshed workload


def membership(inventory: Inventory) -> MeshMembership:
    view = mesh_view(inventory)
    found = []
    by_namespace: dict[str, set[str | None]] = defaultdict(set)
    for template in inventory.pod_templates:
        namespace = inventory.effective_namespace(template.carrier) or DEFAULT_NAMESPACE
        labels = template.metadata.get("labels")
        annotations = template.metadata.get("annotations")
        labels = labels if is_map(labels) else {}
        annotations = annotations if is_map(annotations) else {}
        mesh = view.mesh_of(namespace, labels, annotations) if view else None
        found.append(MeshedWorkload(template, namespace, labels, annotations, mesh))
        by_namespace[namespace].add(mesh)
    meshed = frozenset(ns for ns, meshes in by_namespace.items() if meshes - {None})
    return MeshMembership(view, tuple(found), meshed)
