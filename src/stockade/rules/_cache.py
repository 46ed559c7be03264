"""Per-inventory memo for the indexes rules build once per scan (selectors, bindings, counts).

The Inventory is read-only and rules must not mutate it, so the memo lives beside it: a weak map
keyed by the Inventory object, dropped when the scan's inventory is collected.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar
from weakref import WeakKeyDictionary

from stockade.model.inventory import Inventory

T = TypeVar("T")


def per_inventory(build: Callable[[Inventory], T]) -> Callable[[Inventory], T]:
    """Wrap ``build`` so it runs once per Inventory object."""
    memo: WeakKeyDictionary[Inventory, T] = WeakKeyDictionary()

    @functools.wraps(build)
    def cached(inventory: Inventory) -> T:
        try:
            return memo[inventory]
        except KeyError:
            value = memo[inventory] = build(inventory)
            return value

    return cached
