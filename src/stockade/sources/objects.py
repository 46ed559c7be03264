"""From parsed documents to Resources, skipped inputs and errors.

A document that is a mapping with ``apiVersion`` and ``kind`` is an object; ``kind: List`` and
typed lists (``PodList`` …) give one object per item, and a List among the items gives its own
(as kubectl reads it). A document without ``apiVersion``/``kind``, or one that is a list or a
scalar, is not a Kubernetes object: it is reported as skipped with the reason, never dropped in
silence. An object whose identity fields have the wrong type (``kind: 5``, ``metadata: []``), or
that has no name (no metadata, or neither ``name`` nor ``generateName``), is an error that names
the line and the object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stockade.model.finding import InputProblem, SkippedInput
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.sources.base import SourceResult
from stockade.sources.locate import PathStep, line_in_text
from stockade.sources.yamlload import Document

# Lists inside Lists read; deeper ones are an error (the parser's depth limit bounds them anyway).
MAX_LIST_NESTING = 8
# Reasons resource_from_raw gives for a mapping that is not an object at all.
_NOT_AN_OBJECT = frozenset({"no apiVersion", "no kind"})
# The field each of its other reasons is about, to find the line.
_FIELD_OF_REASON: dict[str, tuple[PathStep, ...]] = {
    "apiVersion is not a string": ("apiVersion",),
    "kind is not a string": ("kind",),
    "metadata is missing or null (the object has no name)": ("metadata",),
    "metadata has no name (nor generateName)": ("metadata",),
    "metadata is not a mapping": ("metadata",),
    "metadata.name is not a string": ("metadata", "name"),
    "metadata.namespace is not a string": ("metadata", "namespace"),
}


def add_documents(result: SourceResult, documents: list[Document], source: str, *, rendered: bool = False) -> None:
    """Turn ``documents`` read from ``source`` into resources, skipped inputs and errors.

    ``rendered`` output (kustomize, helm) has no file a user could open, so its origins carry
    line 0 and its errors no line.
    """
    for document in documents:
        _Builder(result, document, source, rendered).run()


class _Builder:
    def __init__(self, result: SourceResult, document: Document, source: str, rendered: bool) -> None:
        self.result = result
        self.document = document
        self.source = source
        self.rendered = rendered
        self.line = 0 if rendered else document.line

    def run(self) -> None:
        value = self.document.value
        where = f"document {self.document.index}"
        if value is None:
            return
        if not isinstance(value, dict):
            self._skip(f"{where}: {_describe(value)}, not a Kubernetes object")
            return
        if _is_list(value):
            self._list(value, ())
            return
        self._object(value, (), where, ())

    def _list(self, value: Mapping[str, Any], at: tuple[int, ...]) -> None:
        """The items of a List (``at``: where it sits, as item indexes, when it is an item itself)."""
        kind: str = value["kind"]
        items = value.get("items")
        prefix = _items_path(at)
        where = f"document {self.document.index}" + "".join(f" item {index}" for index in at)
        if items is None:
            self._skip(f"{where}: a {kind} with no items", prefix)
            return
        if not isinstance(items, list):
            self._error(f"{where}: {kind}.items is not a list", (*prefix, "items"), kind)
            return
        list_version = value.get("apiVersion")
        item_kind = kind[: -len("List")] if kind != "List" else None
        for index, item in enumerate(items):
            chain = (*at, index)
            item_where = f"{where} item {index}"
            if not isinstance(item, dict):
                self._skip(f"{item_where}: {_describe(item)}, not a Kubernetes object", _items_path(chain))
                continue
            if _is_list(item):
                # kubectl reads a List inside a List; past a few levels it is only a way to hide objects.
                if len(chain) < MAX_LIST_NESTING:
                    self._list(item, chain)
                else:
                    message = f"{item_where}: Lists nested more than {MAX_LIST_NESTING} deep are not read"
                    self._error(message, _items_path(chain), item["kind"])
                continue
            if item_kind is not None and ("kind" not in item or "apiVersion" not in item):
                # The API server leaves kind and apiVersion out of the items of a typed list.
                item = {"apiVersion": list_version, "kind": item_kind, **item}
            self._object(item, _items_path(chain), item_where, chain)

    def _object(self, raw: dict[str, Any], prefix: tuple[PathStep, ...], where: str, at: tuple[int, ...]) -> None:
        origin = Origin(self.source, self.document.index, self.line, at[0] if at else -1, at[1:])
        built = resource_from_raw(raw, origin)
        if isinstance(built, Resource):
            self.result.resources.append(built)
        elif built in _NOT_AN_OBJECT:
            self._skip(f"{where}: {built} (not a Kubernetes object)", prefix)
        else:
            field = ("apiVersion",) if built.startswith("apiVersion") else _FIELD_OF_REASON.get(built, ())
            path = (*prefix, *field)
            self._error(f"{where}: {built}", path, _display(raw))

    def _skip(self, reason: str, path: tuple[PathStep, ...] = ()) -> None:
        self.result.skipped.append(SkippedInput(self.source, reason, self._line(path)))

    def _error(self, message: str, path: tuple[PathStep, ...], obj: str) -> None:
        self.result.errors.append(InputProblem(self.source, message, self._line(path), object=obj, kind="parse"))

    def _line(self, path: tuple[PathStep, ...]) -> int | None:
        """The line of ``path`` (looked up only for the rare document that is skipped or wrong)."""
        if self.rendered:
            return None
        if not path:
            return self.line
        document = self.document
        found = line_in_text(document.text, document.first_line, path, json=document.json)
        return found or document.line


def _is_list(value: Mapping[str, Any]) -> bool:
    """``kind: List``, or a typed list (``PodList``) that holds its items in a list."""
    kind = value.get("kind")
    if not isinstance(kind, str):
        return False
    return kind == "List" or (kind.endswith("List") and isinstance(value.get("items"), list))


def _items_path(at: tuple[int, ...]) -> tuple[PathStep, ...]:
    return tuple(step for index in at for step in ("items", index))


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return f"a {type(value).__name__}"


def _display(raw: Mapping[str, Any]) -> str:
    """Best-effort ``Kind/namespace/name`` for an object whose fields may have the wrong types."""
    kind = raw.get("kind")
    meta = raw.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    namespace = meta.get("namespace") if isinstance(meta, dict) else None
    parts = [kind if isinstance(kind, str) and kind else "?"]
    if isinstance(namespace, str) and namespace:
        parts.append(namespace)
    parts.append(name if isinstance(name, str) and name else "?")
    return "/".join(parts)
