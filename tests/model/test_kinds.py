"""The one table of built-in kinds: the inventory, RBAC questions and the fake API server agree on it."""

from __future__ import annotations

from stockade.model.inventory import Inventory
from stockade.model.kinds import BUILTIN_TYPES, CLUSTER_SCOPED_KINDS, SHORT_NAMES
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.rbac.resources import parse_resource


def test_a_kind_has_one_scope_whatever_group_serves_it() -> None:
    scopes: dict[str, set[bool]] = {}
    for builtin in BUILTIN_TYPES:
        scopes.setdefault(builtin.kind, set()).add(builtin.namespaced)
    assert {kind for kind, seen in scopes.items() if len(seen) > 1} == set()
    assert {kind for kind, seen in scopes.items() if seen == {False}} == CLUSTER_SCOPED_KINDS


def test_inventory_and_rbac_read_the_same_scope() -> None:
    for builtin in BUILTIN_TYPES:
        raw = {"apiVersion": f"{builtin.group}/v1".lstrip("/"), "kind": builtin.kind, "metadata": {"name": "x"}}
        made = resource_from_raw(raw, Origin(file="t.yaml"))
        assert isinstance(made, Resource)
        assert Inventory([made]).is_namespaced(made) is builtin.namespaced, builtin.kind
        typed = f"{builtin.plural}.{builtin.group}" if builtin.group else builtin.plural
        assert parse_resource(typed).cluster_scoped is not builtin.namespaced, typed
        for short in builtin.short_names:
            assert SHORT_NAMES[short] == builtin.plural
