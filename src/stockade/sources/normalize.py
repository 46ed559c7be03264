"""Making a parsed document safe and faithful before anything else sees it.

Three jobs, all cheap for ordinary documents:

* nesting is capped (``ParseLimits.max_depth``) so no later recursive code can overflow;
* mapping keys become strings the way Kubernetes tooling makes them (``8080:`` → ``"8080"``,
  ``true:`` → ``"true"``); null keys and keys that are themselves mappings or lists (what an
  unrendered ``{{ .Values.x }}`` turns into) are refused;
* YAML merge keys (``<<: *defaults``) are applied, as kubectl applies them, so Stockade checks the
  fields the cluster will get.

The fast path serialises the document once with orjson (native code): that fails on any
non-string key and its indented output shows the nesting depth. Only documents that fail it, or
whose text has ``<<``, are walked in Python (iteratively: no recursion, whatever the depth).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from stockade.sources.locate import PathStep

# More merge levels than this means something odd; stop rather than spin.
_MAX_MERGE_ROUNDS = 64


@dataclass(frozen=True, slots=True)
class ShapeProblem:
    """Why a parsed document cannot be used: where (path) and what."""

    path: tuple[PathStep, ...]
    message: str
    kind: str  # "limit" or "parse"


def normalize(value: Any, max_depth: int, *, merges: bool) -> tuple[Any, ShapeProblem | None]:
    """``value`` made safe (possibly a new object), or the first problem found in document order.

    ``merges``: the text may hold ``<<`` merge keys (see :func:`has_merge_key`), so apply them.
    """
    if not isinstance(value, dict | list):
        return value, None
    if not merges and _quick_ok(value, max_depth):
        return value, None
    return _walk(value, max_depth, merges=merges)


def has_merge_key(text: str) -> bool:
    """Whether ``text`` may use a YAML merge key: ``<<`` anywhere (``<`` is rare, so the search
    mostly runs in memchr)."""
    found = text.find("<")
    while found >= 0:
        if text.startswith("<", found + 1):
            return True
        found = text.find("<", found + 2)
    return False


def _quick_ok(value: Any, max_depth: int) -> bool:
    """True when every key is a string and no collection is nested deeper than ``max_depth``.

    With two-space indentation a value inside k collections is printed 2k spaces in, so no line
    indented 2*max_depth spaces means no collection below level max_depth. (A scalar at exactly
    that indentation is fine, so a hit only sends the document to the exact walk.)
    """
    try:
        out = orjson.dumps(value, option=orjson.OPT_INDENT_2)
    except (TypeError, ValueError):  # non-string key, integer beyond 64 bits, depth past 254
        return False
    return b"\n" + b" " * (2 * max_depth) not in out


def _walk(root: Any, max_depth: int, *, merges: bool) -> tuple[Any, ShapeProblem | None]:
    holder: list[Any] = [root]
    # (container holding the node, its key there, node, nesting level, path)
    stack: list[tuple[Any, Any, Any, int, tuple[PathStep, ...]]] = [(holder, 0, root, 1, ())]
    while stack:
        parent, slot, node, level, path = stack.pop()
        if level > max_depth:
            return holder[0], ShapeProblem(path, f"nesting deeper than {max_depth} levels", "limit")
        if isinstance(node, dict):
            fixed = node
            if merges and "<<" in fixed:
                fixed = _merge(fixed)
            if any(type(key) is not str for key in fixed):
                fixed, problem = _string_keys(fixed, path)
                if problem is not None:
                    return holder[0], problem
            if fixed is not node:
                parent[slot] = fixed
            children = [(key, child) for key, child in fixed.items() if isinstance(child, dict | list)]
            for key, child in reversed(children):
                stack.append((fixed, key, child, level + 1, (*path, key)))
        else:
            for index in range(len(node) - 1, -1, -1):
                child = node[index]
                if isinstance(child, dict | list):
                    stack.append((node, index, child, level + 1, (*path, index)))
    return holder[0], None


def _merge(node: dict[Any, Any]) -> dict[Any, Any]:
    """Apply ``<<`` merge keys: the mapping's own keys win, then earlier merged mappings."""
    for _ in range(_MAX_MERGE_ROUNDS):
        source = node.get("<<")
        if isinstance(source, dict):
            sources = [source]
        elif isinstance(source, list) and source and all(isinstance(item, dict) for item in source):
            sources = source
        else:
            return node  # a literal "<<" key, not a merge
        merged: dict[Any, Any] = {}
        for item in reversed(sources):
            merged.update(item)
        merged.pop("<<", None)
        nested = next((item["<<"] for item in sources if "<<" in item), None)
        if nested is not None:
            merged["<<"] = nested
        for key, child in node.items():
            if key != "<<":
                merged[key] = child
        node = merged
    return node


def _string_keys(node: dict[Any, Any], path: tuple[PathStep, ...]) -> tuple[dict[Any, Any], ShapeProblem | None]:
    fixed: dict[str, Any] = {}
    for key, child in node.items():
        if isinstance(key, str):
            name = key
        elif isinstance(key, bool):
            name = "true" if key else "false"
        elif isinstance(key, int):
            name = str(key)
        elif isinstance(key, float):
            name = repr(key).removesuffix(".0")
        elif key is None:
            return node, ShapeProblem(path, "a mapping key is null", "parse")
        else:
            return node, ShapeProblem(path, "a mapping key is itself a mapping or a list", "parse")
        if name in fixed:
            return node, ShapeProblem(path, f"duplicate key {name!r} once keys are read as strings", "parse")
        fixed[name] = child
    return fixed, None
