"""The Inventory: every object of one scan, indexed for rules and the RBAC / path engines."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from functools import cached_property

from stockade.model.kinds import (
    BUILTIN_GROUPS,
    CLUSTER_SCOPED_KINDS,
    NAMESPACED_KINDS,
    WELL_KNOWN_CLUSTER_SCOPED,
    WELL_KNOWN_CLUSTER_SCOPED_GROUPS,
)
from stockade.model.podspec import (
    BUILTIN_TEMPLATE_PATHS,
    DEFAULT_EXTRA_TEMPLATE_PATHS,
    PodTemplate,
    UncheckedContainers,
    find_pod_template,
    find_unchecked_containers,
)
from stockade.model.resource import Origin, Resource, resource_from_raw

DEFAULT_NAMESPACE = "default"


class Inventory:
    """Objects indexed by kind, namespace and name. Built once, then read-only."""

    def __init__(
        self,
        resources: Iterable[Resource],
        template_paths: Mapping[tuple[str, str], tuple[str, ...]] = DEFAULT_EXTRA_TEMPLATE_PATHS,
    ) -> None:
        self._resources: tuple[Resource, ...] = tuple(resources)
        self.template_paths = template_paths
        by_kind: dict[str, list[Resource]] = defaultdict(list)
        for resource in self._resources:
            by_kind[resource.kind].append(resource)
        self._by_kind: dict[str, tuple[Resource, ...]] = {k: tuple(v) for k, v in by_kind.items()}
        self._scopes: dict[tuple[str, str], bool | None] = {}

    @property
    def resources(self) -> tuple[Resource, ...]:
        """Every object, in load order."""
        return self._resources

    def __len__(self) -> int:
        return len(self.resources)

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)

    # -- scope -------------------------------------------------------------------------------
    @cached_property
    def _declared_scopes(self) -> Mapping[str, bool]:
        """Kind → namespaced, as the CRDs in the inventory declare it (``spec.scope``)."""
        declared: dict[str, bool] = {}
        for crd in self.of_kind("CustomResourceDefinition"):
            spec = crd.raw.get("spec")
            if not isinstance(spec, Mapping) or spec.get("scope") not in ("Cluster", "Namespaced"):
                continue
            names = spec.get("names")
            if isinstance(names, Mapping) and isinstance(names.get("kind"), str):
                declared[names["kind"]] = spec["scope"] == "Namespaced"
        return declared

    def scope_of(self, resource: Resource) -> bool | None:
        """True when ``resource``'s kind is namespaced, False when cluster-scoped, None when unknown
        (a custom kind whose CRD is not in the scan and that is not a well-known cluster-scoped one)."""
        key = (resource.kind, resource.api_version)
        try:
            return self._scopes[key]
        except KeyError:
            scope = self._scopes[key] = self._find_scope(resource)
            return scope

    def _find_scope(self, resource: Resource) -> bool | None:
        kind = resource.kind
        if kind in CLUSTER_SCOPED_KINDS:
            return False
        group = resource.group
        if group in BUILTIN_GROUPS and kind in NAMESPACED_KINDS:
            return True
        declared = self._declared_scopes.get(kind)
        if declared is not None:
            return declared
        if (group, kind) in self.template_paths:  # it carries pods, and pods live in namespaces
            return True
        if kind in WELL_KNOWN_CLUSTER_SCOPED.get(group, ()) or group in WELL_KNOWN_CLUSTER_SCOPED_GROUPS:
            return False
        return None

    def is_namespaced(self, resource: Resource) -> bool:
        """Whether the object lives in a namespace (a kind of unknown scope: when it names one)."""
        scope = self.scope_of(resource)
        return resource.namespace is not None if scope is None else scope

    def effective_namespace(self, resource: Resource) -> str | None:
        """The namespace an object lands in: its own, ``default`` when unset, None when cluster-scoped.

        An object of unknown scope is placed only where it says: no namespace is invented for it.
        """
        scope = self.scope_of(resource)
        if scope is None:
            return resource.namespace
        if not scope:
            return None
        return resource.namespace or DEFAULT_NAMESPACE

    # -- indexes -----------------------------------------------------------------------------
    def of_kind(self, *kinds: str) -> tuple[Resource, ...]:
        if len(kinds) == 1:
            return self._by_kind.get(kinds[0], ())
        return tuple(r for kind in kinds for r in self._by_kind.get(kind, ()))

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._by_kind)

    @cached_property
    def _by_namespace(self) -> Mapping[str | None, tuple[Resource, ...]]:
        index: dict[str | None, list[Resource]] = defaultdict(list)
        for resource in self.resources:
            index[self.effective_namespace(resource)].append(resource)
        return {ns: tuple(items) for ns, items in index.items()}

    def in_namespace(self, namespace: str | None) -> tuple[Resource, ...]:
        return self._by_namespace.get(namespace, ())

    def namespace_origin(self, namespace: str) -> Origin | None:
        """Where the first object in ``namespace`` came from: a place to point at for a namespace
        that no Namespace object declares (None when nothing is there)."""
        members = self.in_namespace(namespace)
        return members[0].origin if members else None

    def namespace_resource(self, namespace: str) -> Resource | None:
        """The Namespace object to report on: the declared one, else one built from its name and
        placed where the namespace's first object came from (None when nothing is there)."""
        declared = self.get("Namespace", None, namespace)
        if declared is not None:
            return declared
        origin = self.namespace_origin(namespace)
        if origin is None:
            return None
        built = resource_from_raw({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}, origin)
        return built if isinstance(built, Resource) else None

    @cached_property
    def namespaces(self) -> frozenset[str]:
        """Namespaces declared as objects or used by any namespaced object."""
        declared = {r.name for r in self.of_kind("Namespace")}
        used = {ns for ns in self._by_namespace if ns is not None}
        return frozenset(declared | used)

    @cached_property
    def _by_name(self) -> Mapping[tuple[str, str | None, str], tuple[Resource, ...]]:
        found: dict[tuple[str, str | None, str], list[Resource]] = defaultdict(list)
        for r in self.resources:
            found[(r.kind, self.effective_namespace(r), r.name)].append(r)
        return {key: tuple(copies) for key, copies in found.items()}

    def get(self, kind: str, namespace: str | None, name: str) -> Resource | None:
        """The last object of that identity: the one a cluster keeps (see `duplicates` for the others)."""
        copies = self._by_name.get((kind, namespace, name))
        return copies[-1] if copies else None

    def get_all(self, kind: str, namespace: str | None, name: str) -> tuple[Resource, ...]:
        """Every object of that identity in load order (manifests may declare one more than once;
        a rule that depends on it should judge the worst of them)."""
        return self._by_name.get((kind, namespace, name), ())

    @cached_property
    def duplicates(self) -> tuple[tuple[Resource, ...], ...]:
        """Objects declared more than once (same group, kind, namespace and name), in load order.

        Manifests can hold several (two overlays, two environments); a cluster keeps one, but every
        one is checked, since which one is applied is not known here. Nameless objects are left out.
        """
        found: dict[tuple[str, str, str | None, str], list[Resource]] = defaultdict(list)
        for resource in self.resources:
            if resource.name:
                found[(resource.group, resource.kind, self.effective_namespace(resource), resource.name)].append(
                    resource
                )
        return tuple(tuple(group) for group in found.values() if len(group) > 1)

    def duplicate_notices(self) -> list[str]:
        """One notice per object declared more than once, naming where each definition is."""
        return [f"{group[0].display}: {duplicate_message([r.origin for r in group])}" for group in self.duplicates]

    # -- pods ------------------------------------------------------------------------------------
    @cached_property
    def pod_templates(self) -> tuple[PodTemplate, ...]:
        """Every pod template in the inventory, once each.

        Objects created by a controller (a ReplicaSet owned by a Deployment, a Pod owned by a
        ReplicaSet) are left out when their owner is also in the inventory: the owner carries the
        same template and is what a person fixes.
        """
        templates = []
        present = {(r.kind, self.effective_namespace(r), r.name) for r in self.resources}
        for resource in self.resources:
            template = find_pod_template(resource, self.template_paths)
            if template is None:
                continue
            if self._owner_present(resource, present):
                continue
            templates.append(template)
        return tuple(templates)

    @cached_property
    def unchecked_containers(self) -> tuple[UncheckedContainers, ...]:
        """``containers`` lists in custom kinds with no pod-template path: pods no rule sees."""
        found: list[UncheckedContainers] = []
        paths = self.template_paths
        for resource in self.resources:
            group = resource.group
            key = (group, resource.kind)
            if group in BUILTIN_GROUPS or key in paths or key in BUILTIN_TEMPLATE_PATHS:
                continue
            found.extend(find_unchecked_containers(resource))
        return tuple(found)

    def _owner_present(self, resource: Resource, present: Container[tuple[str, str | None, str]]) -> bool:
        owners = resource.metadata.get("ownerReferences")
        if not isinstance(owners, list):
            return False
        namespace = self.effective_namespace(resource)
        for owner in owners:
            if isinstance(owner, Mapping) and owner.get("controller") is True:
                key = (owner.get("kind"), namespace, owner.get("name"))
                if key in present:
                    return True
        return False


def placement_of(resource: Resource, template_paths: Mapping[tuple[str, str], tuple[str, ...]]) -> tuple[object, ...]:
    """What a rule declaring ``READS_PLACEMENT`` sees of an object besides its identity: where it
    came from, its ownerReferences (they decide whether its pod template counts, or its
    controller's), whether it carries a pod template, and the service account that template runs as."""
    template = find_pod_template(resource, template_paths)
    account = (
        None if template is None else (template.spec.get("serviceAccountName"), template.spec.get("serviceAccount"))
    )
    return (resource.origin, resource.metadata.get("ownerReferences"), template is not None, account)


def duplicate_message(origins: Sequence[Origin]) -> str:
    """``defined 2 times (a.yaml:1, b.yaml:7); ...``: the one wording for an object declared more than once."""
    return f"{defined_times(origins)}; a cluster keeps only one of them, so each one is checked"


def defined_times(origins: Sequence[Origin]) -> str:
    """``defined 2 times (a.yaml:1, b.yaml:7)``."""
    return f"defined {len(origins)} times ({', '.join(o.place for o in origins)})"
