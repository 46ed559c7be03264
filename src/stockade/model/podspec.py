"""Pod-template discovery, and the one typed view of a pod and its containers.

Rules that look at pods and containers receive :class:`PodTemplate` and :class:`ContainerRef`
values, so a check written once covers Pods, Deployments, CronJobs and CRDs such as Argo Rollouts.

:class:`PodView` and :class:`ContainerView` read a pod spec once, as plain YAML/JSON values, and
never raise: a value of the wrong type is recorded as *malformed* instead of being read as unset.
The Pod Security evaluator and the rules read the same view, so a malformed shape (a
``securityContext`` written as a list, say) is judged alike by both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeGuard

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

# Widely used CRDs whose pod template is a real PodTemplateSpec (metadata + a pod spec); more with
# ``--pod-template KIND.GROUP=path.to.template``. Templates held in lists or maps (Volcano jobs,
# Kubeflow replica specs, Argo Workflows steps) cannot be named by a path and are left out.
DEFAULT_EXTRA_TEMPLATE_PATHS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("argoproj.io", "Rollout"): ("spec", "template"),
    ("apps.openshift.io", "DeploymentConfig"): ("spec", "template"),
    ("", "DeploymentConfig"): ("spec", "template"),  # OpenShift 3 served it in the core group
    ("serving.knative.dev", "Service"): ("spec", "template"),
    ("serving.knative.dev", "Configuration"): ("spec", "template"),
    ("sources.knative.dev", "ContainerSource"): ("spec", "template"),
    ("keda.sh", "ScaledJob"): ("spec", "jobTemplate", "spec", "template"),
    ("apps.kruise.io", "CloneSet"): ("spec", "template"),
    ("apps.kruise.io", "StatefulSet"): ("spec", "template"),
    ("apps.kruise.io", "DaemonSet"): ("spec", "template"),
    ("apps.kruise.io", "BroadcastJob"): ("spec", "template"),
}

CONTAINER_LISTS: Final = ("initContainers", "containers", "ephemeralContainers")
# Containers checked per pod template, all lists together. Every rule reads each container, and
# a hostile pod with 100k of them would cost minutes and gigabytes; the rest are reported as not
# checked (the API server itself rejects pods this large: they exceed its request size).
MAX_CHECKED_CONTAINERS: Final = 1000


def is_map(value: object) -> TypeGuard[Mapping[str, Any]]:
    return type(value) is dict or isinstance(value, Mapping)


def is_list(value: object) -> TypeGuard[Sequence[Any]]:
    return type(value) is list or isinstance(value, tuple)


class ContainerView:
    """One entry of a pod's container lists, in visiting order (init, regular, ephemeral).

    ``malformed``: the entry is not an object (``index`` is -1 when its whole list is not a list).
    ``security_context`` is None when unset or malformed; ``security_context_malformed`` says
    which (it is also true for a malformed entry, whose context cannot be read either).
    ``name`` is the name as written ("" when missing); ``named`` says whether it is a string.
    """

    __slots__ = (
        "_field",
        "index",
        "list_name",
        "malformed",
        "name",
        "named",
        "security_context",
        "security_context_malformed",
        "spec",
    )

    def __init__(self, list_name: str, index: int, item: object) -> None:
        self.list_name = list_name
        self.index = index
        self.malformed = index < 0 or not is_map(item)  # a whole list written as one object is malformed too
        self.spec: Mapping[str, Any] = EMPTY if self.malformed else item  # type: ignore[assignment]
        name = self.spec.get("name")
        self.named = isinstance(name, str)
        self.name: str = name if isinstance(name, str) else ("" if name is None else str(name))
        sc = self.spec.get("securityContext")
        self.security_context_malformed = self.malformed or not (sc is None or is_map(sc))
        self.security_context: Mapping[str, Any] | None = (
            sc if (sc is not None and not self.security_context_malformed) else None
        )
        self._field: str | None = None

    @property
    def field(self) -> str:
        """The entry's dotted path from the pod root: ``spec.containers[0]``."""
        text = self._field
        if text is None:
            index = f"[{self.index}]" if self.index >= 0 else ""
            text = self._field = f"spec.{self.list_name}{index}"
        return text

    def security_context_problem(self) -> tuple[str, str]:
        """The malformed value that hides this container's securityContext, and what it must be."""
        if self.malformed:
            return self.field, "a list of objects" if self.index < 0 else "an object"
        return self.field + ".securityContext", "an object"


class PodView:
    """A pod's annotations, pod securityContext and containers, read once from its metadata and spec.

    ``windows`` (``spec.os.name: windows``) and ``user_namespace`` (``spec.hostUsers: false``) are
    the facts that relax some checks; only an explicit value counts, a malformed one earns nothing.
    ``containers`` holds at most ``max_containers`` entries (all lists together, in visiting
    order); ``not_checked`` counts the entries left out.
    """

    __slots__ = (
        "annotations",
        "annotations_malformed",
        "containers",
        "not_checked",
        "security_context",
        "security_context_malformed",
        "spec",
        "user_namespace",
        "windows",
    )

    def __init__(self, metadata: object, spec: Mapping[str, Any], max_containers: int | None = None) -> None:
        self.spec = spec
        annotations: object = None
        if is_map(metadata):
            annotations = metadata.get("annotations")
            self.annotations_malformed = not (annotations is None or is_map(annotations))
        else:
            self.annotations_malformed = metadata is not None
        self.annotations: Mapping[str, Any] = (
            annotations if (annotations is not None and not self.annotations_malformed) else EMPTY  # type: ignore[assignment]
        )
        sc = spec.get("securityContext")
        self.security_context_malformed = not (sc is None or is_map(sc))
        self.security_context: Mapping[str, Any] = EMPTY if (sc is None or self.security_context_malformed) else sc
        containers: list[ContainerView] = []
        self.not_checked = 0
        for list_name, items in _container_lists(spec):
            if is_list(items):
                room = len(items) if max_containers is None else max(max_containers - len(containers), 0)
                for index, item in enumerate(items[:room]):
                    containers.append(ContainerView(list_name, index, item))
                self.not_checked += max(len(items) - room, 0)
            else:
                containers.append(ContainerView(list_name, -1, items))
        self.containers = containers
        self.user_namespace = spec.get("hostUsers") is False
        os_ = spec.get("os")
        self.windows = is_map(os_) and os_.get("name") == "windows"


@dataclass(frozen=True, slots=True)
class PodTemplate:
    """A pod spec found inside ``carrier``; ``path`` leads from the carrier's root to the template."""

    carrier: Resource
    path: tuple[str, ...]
    metadata: Mapping[str, Any]
    spec: Mapping[str, Any]
    _view: PodView | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def view(self) -> PodView:
        """The typed view of this pod, built on first use and shared by every rule and the evaluator."""
        view = self._view
        if view is None:
            view = PodView(self.metadata, self.spec, MAX_CHECKED_CONTAINERS)
            object.__setattr__(self, "_view", view)
        return view

    def forget_view(self) -> None:
        """Drop the typed view (rebuilt on next use): a watcher keeps templates of every object,
        and their views only while the object is judged."""
        object.__setattr__(self, "_view", None)

    @property
    def spec_path(self) -> tuple[str | int, ...]:
        return (*self.path, "spec")

    def containers(self) -> Iterator[ContainerRef]:
        """The containers that are objects (a malformed entry has nothing a container rule can read)."""
        for view in self.view.containers:
            if not view.malformed:
                yield ContainerRef(self, view)

    @property
    def annotations(self) -> Mapping[str, Any]:
        return self.view.annotations


@dataclass(frozen=True, slots=True)
class ContainerRef:
    """One container (init, regular or ephemeral) of a pod template: its view, placed in its carrier.

    Its securityContext is read through ``view`` (which tells unset from malformed), never as an
    empty mapping standing in for a value of the wrong type.
    """

    pod: PodTemplate
    view: ContainerView

    @property
    def name(self) -> str:
        """The container's name, or its place (``containers[1]``) when it has none."""
        view = self.view
        return view.name if view.named else f"{view.list_name}[{view.index}]"

    @property
    def list_name(self) -> str:
        return self.view.list_name

    @property
    def index(self) -> int:
        return self.view.index

    @property
    def spec(self) -> Mapping[str, Any]:
        return self.view.spec

    @property
    def path(self) -> tuple[str | int, ...]:
        """The container's path from the carrier's root."""
        return (*self.pod.spec_path, self.view.list_name, self.view.index)


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


@dataclass(frozen=True, slots=True)
class UncheckedContainers:
    """A ``containers`` list in an object whose kind has no known pod template.

    ``path`` leads to the mapping that holds the list; ``template`` is what ``--pod-template``
    must name to check it, or None when no path can (the list is under a list, at the object's
    own spec, or in a mapping that is not a template's ``spec``).
    """

    resource: Resource
    path: tuple[str | int, ...]
    template: tuple[str, ...] | None


# Deep enough for every known CRD layout (a ScaledJob's list is 5 keys down), bounded for big objects.
_SEARCH_DEPTH: Final = 8


def find_unchecked_containers(resource: Resource) -> Iterator[UncheckedContainers]:
    """Every ``containers`` list of objects inside ``resource`` (call it for kinds with no template path)."""
    for path in _container_holders(resource.raw, (), 0):
        template: tuple[str, ...] | None = None
        if len(path) >= 2 and path[-1] == "spec" and all(isinstance(step, str) for step in path):
            template = tuple(str(step) for step in path[:-1])
        yield UncheckedContainers(resource, path, template)


def _container_holders(node: object, path: tuple[str | int, ...], depth: int) -> Iterator[tuple[str | int, ...]]:
    if depth > _SEARCH_DEPTH:
        return
    if is_map(node):
        items = node.get("containers")
        if is_list(items) and any(is_map(item) for item in items):
            yield path
        for key, value in node.items():
            if isinstance(value, dict | list) and key != "containers":
                yield from _container_holders(value, (*path, key), depth + 1)
    elif is_list(node):
        for index, value in enumerate(node):
            if isinstance(value, dict | list):
                yield from _container_holders(value, (*path, index), depth + 1)


@dataclass(frozen=True, slots=True)
class ShapeProblem:
    """A value of the wrong type on the way to a pod's containers (the API server rejects it)."""

    path: tuple[str | int, ...]  # from the object's root
    expected: str
    value: object


def pod_shape_problems(
    resource: Resource, extra: Mapping[tuple[str, str], tuple[str, ...]] = DEFAULT_EXTRA_TEMPLATE_PATHS
) -> Iterator[ShapeProblem]:
    """What hides the containers of ``resource``'s pod template from every rule: a template or pod
    spec that is not an object, a container list that is not a list, an entry that is not an object.
    A missing value is no problem here (there is simply nothing to check)."""
    path = template_path_for(resource, extra)
    if path is None:
        return
    node: Any = resource.raw
    walked: tuple[str | int, ...] = ()
    for key in (*path, "spec"):
        node = node.get(key)
        walked = (*walked, key)
        if node is None:
            return
        if not is_map(node):
            yield ShapeProblem(walked, "an object", node)
            return
    room = MAX_CHECKED_CONTAINERS  # entries past it are reported as not checked, not one by one
    for list_name, items in _container_lists(node):
        if not is_list(items):
            yield ShapeProblem((*walked, list_name), "a list of objects", items)
            continue
        for index, item in enumerate(items[:room]):
            if not is_map(item):
                yield ShapeProblem((*walked, list_name, index), "an object", item)
        room = max(room - len(items), 0)


def _container_lists(spec: Mapping[str, Any]) -> Iterator[tuple[str, object]]:
    """The container lists a pod spec sets, in visiting order."""
    for list_name in CONTAINER_LISTS:
        items = spec.get(list_name)
        if items is not None:
            yield list_name, items
