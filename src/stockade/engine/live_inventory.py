"""An Inventory kept current one object at a time, for incremental evaluation.

It answers every question an :class:`~stockade.model.inventory.Inventory` answers, as a fresh
Inventory of the same objects (in the same order) would. Lookups by kind, by name and by namespace
are kept as indexes, so a change costs O(1); views that span every object (``resources``,
``pod_templates``, ``duplicates``) are built on first use after a change, which only rules over the
whole inventory ask for. A CustomResourceDefinition change can move objects between namespaces
(it decides a custom kind's scope), so the name and namespace indexes are then rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from stockade.model.inventory import Inventory
from stockade.model.podspec import (
    DEFAULT_EXTRA_TEMPLATE_PATHS,
    PodTemplate,
    UncheckedContainers,
    find_pod_template,
)
from stockade.model.resource import Resource

# (API group, kind, namespace as the object states it, name): one object of a cluster.
Identity = tuple[str, str, str | None, str]
# (kind, effective namespace, name): how rules look objects up (Inventory.get).
NameKey = tuple[str, str | None, str]

CRD_KIND = "CustomResourceDefinition"


def identity_of(resource: Resource) -> Identity:
    return (resource.group, resource.kind, resource.namespace, resource.name)


class LiveInventory(Inventory):
    """The objects of a cluster as they are now; ``put`` and ``remove`` keep it so."""

    def __init__(
        self, template_paths: Mapping[tuple[str, str], tuple[str, ...]] = DEFAULT_EXTRA_TEMPLATE_PATHS
    ) -> None:
        super().__init__((), template_paths)
        self._objects: dict[Identity, Resource] = {}
        self._of_kind: dict[str, dict[Identity, Resource]] = {}
        self._kind_views: dict[str, tuple[Resource, ...]] = {}
        # Indexes that depend on effective namespaces, hence on the CRDs: rebuilt when those change.
        self._names: dict[NameKey, dict[Identity, Resource]] = {}
        self._spaces: dict[str | None, dict[Identity, Resource]] = {}
        self._dependents: dict[NameKey, set[Identity]] = {}  # controller named -> objects naming it
        self._placed: dict[Identity, NameKey] = {}
        self._placement_stale = False
        self._templates: dict[Identity, tuple[Resource, PodTemplate | None]] = {}
        self._views: dict[str, Any] = {}  # whole-inventory views, dropped on any change

    # -- changing ----------------------------------------------------------------------------
    def put(self, resource: Resource) -> Resource | None:
        """Add ``resource``, or replace the object of its identity (keeping its place); the old one."""
        identity = identity_of(resource)
        old = self._objects.get(identity)
        if old is not None:
            # Out of the dependents index now; the name and namespace buckets keep its place.
            self._unplace(identity, old, keep_order=resource.kind != CRD_KIND)
        self._objects[identity] = resource
        self._of_kind.setdefault(resource.kind, {})[identity] = resource
        self._kind_views.pop(resource.kind, None)
        self._views.clear()
        if resource.kind == CRD_KIND:
            self._scopes_changed()
        elif not self._placement_stale:
            self._place(identity, resource)
        return old

    def remove(self, identity: Identity) -> Resource | None:
        """Remove the object of ``identity``; the removed one (None when there was none)."""
        old = self._objects.pop(identity, None)
        if old is None:
            return None
        self._unplace(identity, old)
        del self._of_kind[old.kind][identity]
        self._kind_views.pop(old.kind, None)
        self._templates.pop(identity, None)
        self._views.clear()
        if old.kind == CRD_KIND:
            self._scopes_changed()
        return old

    def _scopes_changed(self) -> None:
        self._scopes.clear()
        self.__dict__.pop("_declared_scopes", None)
        self._placement_stale = True

    def _place(self, identity: Identity, resource: Resource) -> None:
        namespace = self.effective_namespace(resource)
        key = (resource.kind, namespace, resource.name)
        self._placed[identity] = key
        self._names.setdefault(key, {})[identity] = resource
        self._spaces.setdefault(namespace, {})[identity] = resource
        for owner in _controllers(resource):
            self._dependents.setdefault((owner[0], namespace, owner[1]), set()).add(identity)

    def _unplace(self, identity: Identity, resource: Resource, *, keep_order: bool = False) -> None:
        """Take the object out of the indexes; ``keep_order``: leave its place in the name and
        namespace buckets for the replacement (``_place`` writes it there, as a fresh Inventory
        of the objects in the same order would list it)."""
        key = self._placed.pop(identity, None)
        if key is None:
            return
        if not keep_order:
            _discard(self._names, key, identity)
            _discard(self._spaces, key[1], identity)
        for owner in _controllers(resource):
            owner_key = (owner[0], key[1], owner[1])
            dependents = self._dependents.get(owner_key)
            if dependents is not None:
                dependents.discard(identity)
                if not dependents:
                    del self._dependents[owner_key]

    def _placement(self) -> None:
        """Rebuild the namespace-dependent indexes after a CRD change (on first use)."""
        if not self._placement_stale:
            return
        self._placement_stale = False
        self._names, self._spaces, self._dependents, self._placed = {}, {}, {}, {}
        for identity, resource in self._objects.items():
            self._place(identity, resource)

    # -- what the incremental evaluator asks -------------------------------------------------
    def lookup(self, identity: Identity) -> Resource | None:
        return self._objects.get(identity)

    @property
    def identities(self) -> Mapping[Identity, Resource]:
        return self._objects

    def identities_of_kind(self, kind: str) -> Mapping[Identity, Resource]:
        return self._of_kind.get(kind, {})

    def name_key(self, resource: Resource) -> NameKey:
        return (resource.kind, self.effective_namespace(resource), resource.name)

    def dependents(self, key: NameKey) -> frozenset[Identity]:
        """The objects whose controller ownerReference names ``key``."""
        self._placement()
        return frozenset(self._dependents.get(key, ()))

    def template(self, identity: Identity) -> PodTemplate | None:
        """The pod template the object carries (whether or not its owner is present), kept per object."""
        resource = self._objects[identity]
        known = self._templates.get(identity)
        if known is not None and known[0] is resource:
            return known[1]
        template = find_pod_template(resource, self.template_paths)
        self._templates[identity] = (resource, template)
        return template

    def owner_present(self, resource: Resource) -> bool:
        """Whether a controller named in ``resource``'s ownerReferences is here (its pods are then
        judged on the owner, as :attr:`Inventory.pod_templates` says)."""
        self._placement()
        return self._owner_present(resource, self._names)

    def evaluated_template(self, identity: Identity) -> PodTemplate | None:
        """The object's pod template when pod rules judge it (no controller of it is present)."""
        template = self.template(identity)
        if template is None or self.owner_present(self._objects[identity]):
            return None
        return template

    # -- the Inventory interface -------------------------------------------------------------
    @property
    def resources(self) -> tuple[Resource, ...]:
        found: tuple[Resource, ...] | None = self._views.get("resources")
        if found is None:
            found = self._views["resources"] = tuple(self._objects.values())
        return found

    def __len__(self) -> int:
        return len(self._objects)

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)

    def of_kind(self, *kinds: str) -> tuple[Resource, ...]:
        if len(kinds) != 1:
            return tuple(r for kind in kinds for r in self.of_kind(kind))
        kind = kinds[0]
        found = self._kind_views.get(kind)
        if found is None:
            found = self._kind_views[kind] = tuple(self._of_kind.get(kind, {}).values())
        return found

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(kind for kind, objects in self._of_kind.items() if objects)

    def in_namespace(self, namespace: str | None) -> tuple[Resource, ...]:
        self._placement()
        return tuple(self._spaces.get(namespace, {}).values())

    @property
    def namespaces(self) -> frozenset[str]:
        self._placement()
        declared = {r.name for r in self.of_kind("Namespace")}
        return frozenset(declared | {ns for ns, objects in self._spaces.items() if ns is not None and objects})

    def get(self, kind: str, namespace: str | None, name: str) -> Resource | None:
        self._placement()
        copies = self._names.get((kind, namespace, name))
        return next(reversed(copies.values())) if copies else None

    def get_all(self, kind: str, namespace: str | None, name: str) -> tuple[Resource, ...]:
        self._placement()
        return tuple(self._names.get((kind, namespace, name), {}).values())

    @property
    def duplicates(self) -> tuple[tuple[Resource, ...], ...]:
        return self.snapshot().duplicates

    @property
    def unchecked_containers(self) -> tuple[UncheckedContainers, ...]:
        return self.snapshot().unchecked_containers

    @property
    def pod_templates(self) -> tuple[PodTemplate, ...]:
        found: tuple[PodTemplate, ...] | None = self._views.get("pod_templates")
        if found is None:
            templates = (self.evaluated_template(identity) for identity in self._objects)
            found = self._views["pod_templates"] = tuple(t for t in templates if t is not None)
        return found

    def snapshot(self) -> Inventory:
        """A plain Inventory of the objects as they are now (kept until the next change)."""
        found: Inventory | None = self._views.get("snapshot")
        if found is None:
            found = self._views["snapshot"] = Inventory(self.resources, self.template_paths)
        return found


def _controllers(resource: Resource) -> Iterator[tuple[str, str]]:
    """(kind, name) of every controller the object's ownerReferences name. Entries whose controller
    flag is truthy but not ``true`` are kept too: a rule may read them, so they are dependencies."""
    owners = resource.metadata.get("ownerReferences")
    if not isinstance(owners, list):
        return
    for owner in owners:
        if isinstance(owner, Mapping) and owner.get("controller"):
            kind, name = owner.get("kind"), owner.get("name")
            if isinstance(kind, str) and isinstance(name, str):
                yield kind, name


def _discard(index: dict[Any, dict[Identity, Resource]], key: Any, identity: Identity) -> None:
    bucket = index.get(key)
    if bucket is not None:
        bucket.pop(identity, None)
        if not bucket:
            del index[key]
