"""The patch formats the fake API server accepts: JSON merge patch (RFC 7386) and JSON patch
(RFC 6902). A strategic merge patch is applied as a merge patch (lists are replaced whole, which
is what the API server does for every list without a patch strategy)."""

from __future__ import annotations

import copy
from typing import Any


class PatchError(ValueError):
    """The patch cannot apply (HTTP 422), or a ``test`` operation failed."""


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, ``null`` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902: add, remove, replace, move, copy and test, applied in order to a copy."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch is a list of operations")
    document = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or not isinstance(operation.get("path"), str):
            raise PatchError(f"not a JSON patch operation: {operation!r}")
        op, path = operation.get("op"), _pointer(operation["path"])
        if op == "test":
            if _get(document, path) != operation.get("value"):
                raise PatchError(f"test operation failed at {operation['path']}")
        elif op == "remove":
            document = _remove(document, path)[0]
        elif op in ("add", "replace"):
            if "value" not in operation:
                raise PatchError(f"{op} needs a value")
            if op == "replace":
                _get(document, path)  # must exist
                document = _remove(document, path)[0]
            document = _add(document, path, copy.deepcopy(operation["value"]))
        elif op in ("move", "copy"):
            source = operation.get("from")
            if not isinstance(source, str):
                raise PatchError(f"{op} needs from")
            if op == "move":
                document, value = _remove(document, _pointer(source))
            else:
                value = copy.deepcopy(_get(document, _pointer(source)))
            document = _add(document, path, value)
        else:
            raise PatchError(f"unknown JSON patch operation {op!r}")
    return document


def _pointer(text: str) -> list[str]:
    if text == "":
        return []
    if not text.startswith("/"):
        raise PatchError(f"a JSON pointer starts with '/': {text!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in text[1:].split("/")]


def _index(container: list[Any], part: str, *, adding: bool = False) -> int:
    if adding and part == "-":
        return len(container)
    if not part.isdigit():
        raise PatchError(f"not a list index: {part!r}")
    index = int(part)
    if index > len(container) or (index == len(container) and not adding):
        raise PatchError(f"list index {index} out of range")
    return index


def _get(document: Any, path: list[str]) -> Any:
    for token in path:
        if isinstance(document, dict) and token in document:
            document = document[token]
        elif isinstance(document, list):
            document = document[_index(document, token)]
        else:
            raise PatchError(f"no value at /{'/'.join(path)}")
    return document


def _add(document: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent = _get(document, path[:-1])
    last = path[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, adding=True), value)
    else:
        raise PatchError(f"cannot add below a scalar at /{'/'.join(path)}")
    return document


def _remove(document: Any, path: list[str]) -> tuple[Any, Any]:
    if not path:
        return None, document
    parent = _get(document, path[:-1])
    last = path[-1]
    if isinstance(parent, dict) and last in parent:
        return document, parent.pop(last)
    if isinstance(parent, list):
        return document, parent.pop(_index(parent, last))
    raise PatchError(f"no value at /{'/'.join(path)}")
