"""LiveInventory answers every Inventory question as a fresh Inventory of the same objects does,
after any puts and removes (CRD changes included, which move custom objects between namespaces)."""

from __future__ import annotations

import random

from stockade.engine.live_inventory import LiveInventory, identity_of
from stockade.model.inventory import Inventory
from stockade.model.resource import Resource
from tests.engine.pool import pool, resource

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Widget", "plural": "widgets"}},
}
WIDGET = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
OWNED_WIDGET = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "by-widget", "ownerReferences": [{"kind": "Widget", "name": "w", "controller": True}]},
    "spec": {"containers": [{"name": "a", "image": "a"}]},
}


def same_answers(live: LiveInventory, held: list[Resource]) -> None:
    fresh = Inventory(held)
    assert len(live) == len(fresh) and live.resources == fresh.resources
    assert live.kinds == fresh.kinds
    assert live.namespaces == fresh.namespaces
    for kind in fresh.kinds | {"Nothing"}:
        assert live.of_kind(kind) == fresh.of_kind(kind)
    assert live.of_kind("Pod", "Namespace") == fresh.of_kind("Pod", "Namespace")
    for namespace in fresh.namespaces | {None, "nowhere"}:
        assert live.in_namespace(namespace) == fresh.in_namespace(namespace)
    for r in held:
        key = (r.kind, fresh.effective_namespace(r), r.name)
        assert live.effective_namespace(r) == key[1]
        assert live.get(*key) is fresh.get(*key)
        assert live.get_all(*key) == fresh.get_all(*key)
    assert [t.carrier for t in live.pod_templates] == [t.carrier for t in fresh.pod_templates]
    assert live.duplicates == fresh.duplicates


def test_a_live_inventory_answers_as_a_fresh_one_after_any_changes() -> None:
    rng = random.Random(7)
    slots = [*pool(), [CRD], [WIDGET], [OWNED_WIDGET]]
    live = LiveInventory()
    held: dict[int, Resource] = {}
    for step in range(300):
        slot = rng.randrange(len(slots))
        if rng.random() < 0.3:
            gone = held.pop(slot, None)
            if gone is not None:
                assert live.remove(identity_of(gone)) is gone
        else:
            new = resource(rng.choice(slots[slot]))
            old = live.put(new)
            assert old is held.get(slot)
            held[slot] = new
        if step % 10 == 0:
            # The live order: an object keeps its place when replaced, a new one goes last.
            same_answers(live, list(live.resources))
            assert {identity_of(r) for r in live.resources} == {identity_of(r) for r in held.values()}


def test_a_crd_moves_custom_objects_and_what_they_control() -> None:
    live = LiveInventory()
    widget, pod = resource(WIDGET), resource(OWNED_WIDGET)
    live.put(widget)
    live.put(pod)
    assert live.effective_namespace(widget) is None  # unknown scope, no namespace written
    assert [t.carrier for t in live.pod_templates] == [pod]
    live.put(resource(CRD))
    assert live.effective_namespace(widget) == "default"
    assert live.get("Widget", "default", "w") is widget
    assert live.pod_templates == ()  # its controller is in the same namespace now
    assert live.dependents(live.name_key(widget)) == {identity_of(pod)}
    live.remove(identity_of(resource(CRD)))
    assert live.get("Widget", "default", "w") is None
    assert [t.carrier for t in live.pod_templates] == [pod]
