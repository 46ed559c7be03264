"""Pod-template discovery: every kind that carries a pod spec, seen once, whatever the carrier.

Rules that look at pods and containers receive :class:`PodTemplate` and :class:`ContainerRef`
values, so a check written once covers Pods, Deployments, CronJobs and CRDs such as Argo Rollouts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from stockade.model.resource import EMPTY, Resource

# Path (in keys) from the object root to the pod *template* (the object with metadata + spec).
# A bare Pod is its own template: the empty path.
BUILTIN_TEMPLATE_PATHS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("", "Pod"): (),
    ("", "PodTemplate"): ("template",),
    ("", "ReplicationController"): ("spec", "template"),
    ("apps", "Deployment"): ("spec", "template"),
    ("apps", "StatefulSet"): ("spec", "template"),
    ("apps", "DaemonSet"): ("spec", "template"),
    ("apps", "ReplicaSet"): ("spec", "template"),
    ("batch", "Job"): ("spec", "template"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template"),
    # Old API groups still found in manifests.
    ("extensions", "Deployment"): ("spec", "template"),
    ("extensions", "DaemonSet"): ("spec", "template"),
    ("extensions", "ReplicaSet"): ("spec", "template"),
    ("batch", "CronJobV2alpha1"): ("spec", "jobTemplate", "spec", "template"),
}

# CRDs with a pod template, configurable with ``--pod-template KIND.GROUP=path.to.template``.
DEFAULT_EXTRA_TEMPLATE_PATHS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("argoproj.io", "Rollout"): ("spec", "template"),
}

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


@dataclass(frozen=True, slots=True)
class PodTemplate:
    """A pod spec found inside ``carrier``; ``path`` leads from the carrier's root to the template."""

    carrier: Resource
    path: tuple[str, ...]
    metadata: Mapping[str, Any]
    spec: Mapping[str, Any]

    @property
    def spec_path(self) -> tuple[str | int, ...]:
        return (*self.path, "spec")

    def containers(self) -> Iterator[ContainerRef]:
        for list_name in CONTAINER_LISTS:
            items = self.spec.get(list_name)
            if not isinstance(items, list):
                continue
            for index, container in enumerate(items):
                if isinstance(container, Mapping):
                    yield ContainerRef(self, list_name, index, container)

    @property
    def annotations(self) -> Mapping[str, Any]:
        annotations = self.metadata.get("annotations")
        return annotations if isinstance(annotations, Mapping) else EMPTY


@dataclass(frozen=True, slots=True)
class ContainerRef:
    """One container (init, regular or ephemeral) of a pod template."""

    pod: PodTemplate
    list_name: str
    index: int
    spec: Mapping[str, Any]

    @property
    def name(self) -> str:
        name = self.spec.get("name")
        return name if isinstance(name, str) else f"{self.list_name}[{self.index}]"

    @property
    def path(self) -> tuple[str | int, ...]:
        return (*self.pod.spec_path, self.list_name, self.index)

    @property
    def security_context(self) -> Mapping[str, Any]:
        sc = self.spec.get("securityContext")
        return sc if isinstance(sc, Mapping) else EMPTY


def template_path_for(
    resource: Resource, extra: Mapping[tuple[str, str], tuple[str, ...]] = DEFAULT_EXTRA_TEMPLATE_PATHS
) -> tuple[str, ...] | None:
    key = (resource.group, resource.kind)
    path = BUILTIN_TEMPLATE_PATHS.get(key)
    if path is None:
        path = extra.get(key)
    return path


def find_pod_template(
    resource: Resource, extra: Mapping[tuple[str, str], tuple[str, ...]] = DEFAULT_EXTRA_TEMPLATE_PATHS
) -> PodTemplate | None:
    """The pod template carried by ``resource``, or None when its kind carries none (or it is malformed)."""
    path = template_path_for(resource, extra)
    if path is None:
        return None
    node: Any = resource.raw
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    if not isinstance(node, Mapping):
        return None
    spec = node.get("spec")
    if not isinstance(spec, Mapping):
        return None
    metadata = node.get("metadata")
    return PodTemplate(resource, path, metadata if isinstance(metadata, Mapping) else EMPTY, spec)


def parse_template_path_option(value: str) -> tuple[tuple[str, str], tuple[str, ...]]:
    """Parse ``Kind.group=spec.template`` (as given to ``--pod-template``)."""
    target, sep, path = value.partition("=")
    kind, dot, group = target.partition(".")
    if not sep or not kind or not path:
        raise ValueError(f"expected KIND.GROUP=path.to.template, got {value!r}")
    return (group if dot else "", kind), tuple(part for part in path.split(".") if part)
