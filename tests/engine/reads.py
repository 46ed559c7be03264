"""What a rule reads: an Inventory that notes every kind asked of it, and a run of one rule over
every target it judges with a context of its own (so the analyses it uses are built, and their
reads noted, on its behalf)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import cast

from stockade.model.inventory import Inventory
from stockade.model.podspec import DEFAULT_EXTRA_TEMPLATE_PATHS, PodTemplate, UncheckedContainers
from stockade.model.resource import Origin, Resource
from stockade.model.rule import READS_ANY, READS_PLACEMENT, Scope
from stockade.rules.base import (
    ContainerCheck,
    InventoryCheck,
    ObjectCheck,
    PodCheck,
    Rule,
    RuleConfig,
    RuleContext,
)

CRD = "CustomResourceDefinition"  # every rule may read it: it decides an object's namespace


class RecordingInventory(Inventory):
    """An Inventory noting which kinds are read; whatever spans every kind is noted as READS_ANY,
    or READS_PLACEMENT when it gives only where objects are and their pod templates (a test
    checks apart that rules read nothing of those templates but their service account)."""

    def __init__(
        self,
        resources: Sequence[Resource],
        template_paths: Mapping[tuple[str, str], tuple[str, ...]] = DEFAULT_EXTRA_TEMPLATE_PATHS,
    ) -> None:
        super().__init__(resources, template_paths)
        self.read: set[str] = set()
        self.owner_lookups: set[tuple[str, str]] = set()
        self.judging: Resource | None = None
        self._quiet = 0

    @contextmanager
    def _inside(self) -> Iterator[None]:
        """The base class's own work (indexes built over every object) is not a rule's read."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    def _note(self, *kinds: str) -> None:
        if not self._quiet:
            self.read.update(kinds)

    @property
    def resources(self) -> tuple[Resource, ...]:
        self._note(READS_ANY)
        return super().resources

    def __len__(self) -> int:
        self._note(READS_ANY)
        with self._inside():
            return super().__len__()

    def __iter__(self) -> Iterator[Resource]:
        self._note(READS_ANY)
        with self._inside():
            return super().__iter__()

    def of_kind(self, *kinds: str) -> tuple[Resource, ...]:
        self._note(*kinds)
        return super().of_kind(*kinds)

    @property
    def kinds(self) -> frozenset[str]:
        self._note(READS_ANY)
        return super().kinds

    def in_namespace(self, namespace: str | None) -> tuple[Resource, ...]:
        self._note(READS_ANY)
        with self._inside():
            return super().in_namespace(namespace)

    def namespace_origin(self, namespace: str) -> Origin | None:
        self._note(READS_PLACEMENT)
        with self._inside():
            return super().namespace_origin(namespace)

    @property
    def namespaces(self) -> frozenset[str]:
        self._note(READS_PLACEMENT)
        with self._inside():
            return super().namespaces

    def get(self, kind: str, namespace: str | None, name: str) -> Resource | None:
        if (kind, name) in self._controllers():
            self.owner_lookups.add((kind, name))
        else:
            self._note(kind)
        with self._inside():
            return super().get(kind, namespace, name)

    def get_all(self, kind: str, namespace: str | None, name: str) -> tuple[Resource, ...]:
        self._note(kind)
        with self._inside():
            return super().get_all(kind, namespace, name)

    @property
    def duplicates(self) -> tuple[tuple[Resource, ...], ...]:
        self._note(READS_ANY)
        with self._inside():
            return super().duplicates

    @property
    def pod_templates(self) -> tuple[PodTemplate, ...]:
        # Which templates count depends on the owners present, of any kind.
        self._note(READS_PLACEMENT)
        with self._inside():
            return super().pod_templates

    @property
    def unchecked_containers(self) -> tuple[UncheckedContainers, ...]:
        self._note(READS_ANY)
        with self._inside():
            return super().unchecked_containers

    def scope_of(self, resource: Resource) -> bool | None:
        with self._inside():  # reads the CRDs only, which every rule may
            return super().scope_of(resource)

    def _controllers(self) -> set[tuple[str, str]]:
        """(kind, name) of each controller the judged object's ownerReferences name."""
        if self.judging is None:
            return set()
        owners = self.judging.metadata.get("ownerReferences")
        if not isinstance(owners, list):
            return set()
        return {
            (owner["kind"], owner["name"])
            for owner in owners
            if isinstance(owner, Mapping)
            and owner.get("controller")
            and isinstance(owner.get("kind"), str)
            and isinstance(owner.get("name"), str)
        }


def record_reads(rule: Rule, resources: Sequence[Resource], config: RuleConfig) -> RecordingInventory:
    """Run ``rule`` over every target in ``resources`` with a context of its own; what it read."""
    inventory = RecordingInventory(resources)
    ctx = RuleContext.of(inventory, config)
    plain = Inventory(resources)
    if rule.scope is Scope.INVENTORY:
        _consume(partial(cast(InventoryCheck, rule.check), ctx))
    elif rule.scope is Scope.OBJECT:
        assert rule.kinds is not None
        for resource in plain.of_kind(*sorted(rule.kinds)):
            inventory.judging = resource
            _consume(partial(cast(ObjectCheck, rule.check), ctx, resource))
    else:
        for pod in plain.pod_templates:
            inventory.judging = pod.carrier
            if rule.scope is Scope.POD:
                _consume(partial(cast(PodCheck, rule.check), ctx, pod))
            else:
                for container in pod.containers():
                    _consume(partial(cast(ContainerCheck, rule.check), ctx, container))
    inventory.judging = None
    return inventory


def _consume(run: partial[object]) -> None:
    try:
        for _ in cast(Iterator[object], run()):
            pass
    except Exception:
        pass
