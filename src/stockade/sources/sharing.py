"""One copy of what many cluster objects repeat, for a watcher that holds them all.

Parsed from JSON, every object has its own copy of every string and of every small mapping, though
a cluster repeats them endlessly: image names, label values, resource quantities, the
``securityContext`` and ``resources`` of every replica's template, and the Deployment, ReplicaSet
and Pods that carry the same pod spec. `ValueSharer` replaces each string, and each mapping
holding only scalars, by the first equal one it saw. Objects are never mutated once made
(`stockade.model.resource.Resource`), so sharing parts between them is safe; an object equal in
content judges the same whichever copy it holds.

The tables are bounded: past ``max_entries`` they start again, so a long watch over a churning
cluster keeps at most that many values alive for sharing's sake.
"""

from __future__ import annotations

from typing import Any

_Scalar = str | int | float | bool | None
# A mapping of scalars with more keys than this is rarely repeated; not worth its key in the table.
_MAX_SHARED_KEYS = 8
# Values that differ in every object or version: kept out of the tables, which they would only fill.
_UNIQUE = frozenset({"resourceVersion", "uid", "creationTimestamp", "generation", "lastTransitionTime", "time"})


class ValueSharer:
    """Shares strings and small scalar mappings between the objects passed to :meth:`share`."""

    def __init__(self, max_entries: int = 500_000) -> None:
        self.max_entries = max_entries
        self._strings: dict[str, str] = {}
        # (key, type, value) triples: True and 1 are equal in Python but not in a manifest.
        self._mappings: dict[tuple[tuple[str, type, _Scalar], ...], dict[str, Any]] = {}

    def share(self, raw: dict[str, Any]) -> dict[str, Any]:
        """``raw`` with its repeated parts replaced by shared copies (changed in place; call it
        before the object is made, while ``raw`` is still the caller's own)."""
        if len(self._strings) + len(self._mappings) > self.max_entries:
            self._strings.clear()
            self._mappings.clear()
        self._walk(raw)
        return raw

    def _walk(self, node: dict[str, Any] | list[Any]) -> bool:
        """Share what ``node`` holds; whether it holds scalars only."""
        strings = self._strings
        scalars = True
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if type(value) is str:
                if key not in _UNIQUE:
                    node[key] = strings.setdefault(value, value)  # type: ignore[index]
            elif type(value) is dict:
                if self._walk(value) and len(value) <= _MAX_SHARED_KEYS and _UNIQUE.isdisjoint(value):
                    node[key] = self._shared_mapping(value)  # type: ignore[index]
                scalars = False
            elif type(value) is list:
                self._walk(value)
                scalars = False
        return scalars

    def _shared_mapping(self, mapping: dict[str, Any]) -> dict[str, Any]:
        key = tuple((name, type(value), value) for name, value in mapping.items())
        return self._mappings.setdefault(key, mapping)
