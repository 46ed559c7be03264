"""Objects as flat maps of leaf paths, and which of a live object's fields someone set.

A path is a tuple of map keys and list items (:class:`Item`). Lists that Kubernetes merges by a key
(containers by name, volume mounts by mount path…) are keyed by it, so a container added by hand is
one new item, not every later item moved. Empty maps, empty lists and nulls are no value at all: a
manifest's ``resources: {}`` and a live object without ``resources`` agree.

``managedFields`` (server-side field management) records, per manager, the fields each one set.
Fields the API server filled in as defaults belong to no manager, which is what lets drift tell a
field someone set by hand from a default.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from stockade.model.quantity import parse_quantity

# The field that identifies an item of each list Kubernetes merges by key (strategic merge patch).
MERGE_KEYS: Mapping[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "ports": ("containerPort", "port"),  # a container's ports, a Service's ports
    "imagePullSecrets": ("name",),
    "hostAliases": ("ip",),
    "resourceClaims": ("name",),
    "topologySpreadConstraints": ("topologyKey",),
}
# Keys under which amounts are quantities the API server rewrites in canonical form (0.5 → 500m).
QUANTITY_PARENTS = frozenset({"limits", "requests", "overhead", "hard", "capacity", "allocatable", "sizeLimit"})


@dataclass(frozen=True, slots=True, order=True)
class Item:
    """One item of a list: ``name=web`` for a list merged by key, its index otherwise."""

    label: str

    def __str__(self) -> str:
        return f"[{self.label}]"


Element = str | Item
Path = tuple[Element, ...]


def show(path: Path) -> str:
    """``spec.template.spec.containers[name=web].image``."""
    text = ""
    for element in path:
        text += str(element) if isinstance(element, Item) else ("." if text else "") + element
    return text


def _merge_key(field: Element | None, item: Mapping[str, Any]) -> str | None:
    for key in MERGE_KEYS.get(field, ()) if isinstance(field, str) else ():
        if key in item and isinstance(item[key], str | int) and not isinstance(item[key], bool):
            return f"{key}={item[key]}"
    return None


def flatten(value: Any, path: Path = ()) -> dict[Path, Any]:
    """Every leaf (scalar) of ``value`` by its path; empty maps, lists and nulls leave nothing."""
    leaves: dict[Path, Any] = {}
    _flatten(value, path, leaves, 0)
    return leaves


def _flatten(value: Any, path: Path, leaves: dict[Path, Any], depth: int) -> None:
    if depth > 100:  # sources already refuse deeper documents; stay safe if handed one
        leaves[path] = "…"
        return
    if isinstance(value, Mapping):
        for key, child in value.items():
            _flatten(child, (*path, str(key)), leaves, depth + 1)
    elif isinstance(value, list):
        field = path[-1] if path else None
        keys = [_merge_key(field, item) if isinstance(item, Mapping) else None for item in value]
        keyed = all(keys) and len(set(keys)) == len(keys)
        for index, child in enumerate(value):
            label = keys[index] if keyed else str(index)
            _flatten(child, (*path, Item(str(label))), leaves, depth + 1)
    elif value is not None:
        leaves[path] = value


def same(path: Path, left: Any, right: Any) -> bool:
    """Equal, with quantities compared by amount (the API server writes ``0.5`` back as ``500m``)."""
    if left == right and type(left) is type(right):
        return True
    if (len(path) >= 2 and path[-2] in QUANTITY_PARENTS) or (path and path[-1] in QUANTITY_PARENTS):
        amount_left, amount_right = _amount(left), _amount(right)
        return amount_left is not None and amount_left == amount_right
    return False


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        return parse_quantity(str(value))
    except (ValueError, ArithmeticError):
        return None


# -- managedFields ---------------------------------------------------------------------------
def owned_fields(fields: Any) -> list[Path]:
    """The paths one ``fieldsV1`` entry owns: each is a field, or a whole list or map."""
    owned: list[Path] = []
    _owned(fields, (), owned, 0)
    return owned


def _owned(node: Any, path: Path, owned: list[Path], depth: int) -> None:
    if not isinstance(node, Mapping) or depth > 100:
        return
    children = [key for key in node if key != "."]
    if not children:
        if path:
            owned.append(path)
        return
    for key in children:
        prefix, _, rest = str(key).partition(":")
        if prefix == "f":
            _owned(node[key], (*path, rest), owned, depth + 1)
        elif prefix == "i":
            _owned(node[key], (*path, Item(rest)), owned, depth + 1)
        elif prefix == "k":
            label = _item_label(path[-1] if path else None, rest)
            if label is None:  # a key this view does not index by: own the whole list
                owned.append(path)
            else:
                _owned(node[key], (*path, Item(label)), owned, depth + 1)
        elif path:  # "v:" (an item of a set) and anything newer: own the whole list
            owned.append(path)


def _item_label(field: Element | None, text: str) -> str | None:
    try:
        keys = json.loads(text)
    except ValueError:
        return None
    return _merge_key(field, keys) if isinstance(keys, Mapping) else None


class Ownership:
    """Who set which fields of one live object, by path prefix."""

    def __init__(self, entries: Iterable[tuple[str, list[Path]]]) -> None:
        self._owners: dict[Path, set[str]] = {}
        for manager, paths in entries:
            for path in paths:
                self._owners.setdefault(path, set()).add(manager)

    def __bool__(self) -> bool:
        return bool(self._owners)

    def owners(self, path: Path) -> set[str]:
        """Managers owning ``path`` or a list or map that holds it."""
        found: set[str] = set()
        for end in range(len(path), 0, -1):
            found |= self._owners.get(path[:end], set())
        return found
