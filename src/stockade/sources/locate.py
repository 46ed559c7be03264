"""Exact line numbers, found only when someone asks for them.

Loading records where each document starts (see :mod:`stockade.sources.documents`); the line of
a field inside an object is looked up lazily, for the objects that have findings: that one
document is read again through libyaml's event stream (positions only, no values built) into a
compact line index, kept for the next question about the same document. Files are re-read on
demand; one whose size or modification time changed is read again.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from stockade.model.resource import Origin
from stockade.sources.decode import DecodeProblem, decode_bytes
from stockade.sources.documents import Segment, split_documents
from stockade.sources.limits import ParseLimits

PathStep = str | int

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"
# Origins of rendered output name the directory and the renderer; there is no file to re-read.
RENDERED_SUFFIXES = (" (kustomize)", " (helm)")
STDIN = "<stdin>"


def compose(text: str, *, json: bool = False) -> yaml.Node | None:
    """The node tree of the single document in ``text``, or None when libyaml cannot read it."""
    if json:
        # A raw tab can only be whitespace in valid JSON; libyaml refuses tabs in some places.
        text = text.replace("\t", " ")
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=_Loader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    return node


def line_in_text(text: str, first_line: int, path: Sequence[PathStep], *, json: bool = False) -> int | None:
    """1-based file line of ``path`` in the document ``text`` that starts at ``first_line``."""
    indexed = index_document(text, json=json)
    if indexed is None:
        return None
    root_line, children, size = indexed
    return _DocumentIndex((0, 0), first_line, root_line, children, size).line(path)


def duplicate_key_line(text: str) -> int | None:
    """0-based line of the first repeated key in the document ``text`` (keys compared as YAML 1.2
    core-schema values, the way the loader compares them)."""
    root = compose(text)
    if root is None:
        return None
    best: int | None = None
    for mapping in _mappings(root):
        seen: set[object] = set()
        for key, _ in mapping.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            identity = _key_identity(key)
            if identity in seen:
                line: int = key.start_mark.line
                best = line if best is None else min(best, line)
                break
            seen.add(identity)
    return best


def _mappings(root: yaml.Node) -> Iterable[yaml.MappingNode]:
    stack = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            yield node
            for key, value in node.value:
                stack.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def is_plain(node: yaml.ScalarNode) -> bool:
    """Whether a scalar was written unquoted (libyaml says '' where pure-Python PyYAML says None)."""
    return not node.style


def _key_identity(key: yaml.ScalarNode) -> object:
    value: str = key.value
    return _core_value(value) if is_plain(key) else value


def _core_value(value: str) -> object:
    """A plain scalar as the YAML 1.2 core schema reads it (enough to compare keys)."""
    if value in ("", "~", "null", "Null", "NULL"):
        return None
    if value in ("true", "True", "TRUE"):
        return True
    if value in ("false", "False", "FALSE"):
        return False
    digits = value.replace("_", "")
    for base, prefix in ((16, "0x"), (8, "0o")):
        if digits.startswith(prefix):
            try:
                return int(digits[2:], base)
            except ValueError:
                return value
    try:
        return int(digits, 10)
    except ValueError:
        pass
    try:
        return float(digits)
    except ValueError:
        return value


@dataclass(frozen=True, slots=True)
class _Source:
    text: str
    json: bool
    segments: tuple[Segment, ...]
    stamp: tuple[int, int] = (0, 0)  # (mtime in ns, size) of the file when it was read


# A document's line index: for each mapping, key -> (line of the key, index of its value); for
# each sequence, [(line of the item, index of the item)]; None for scalars. Keys brought in by
# merge keys are found through _MERGED. A few tuples per node instead of libyaml's node objects
# with their marks, so many documents fit in the cache.
_Children = dict[object, Any] | list[tuple[int, Any]] | None
_MERGED = ("<<",)  # not a str, so never a real key


@dataclass(frozen=True, slots=True)
class _DocumentIndex:
    stamp: tuple[int, int]
    first_line: int
    root_line: int
    children: _Children
    size: int  # nodes, for the cache budget

    def line(self, path: Sequence[PathStep]) -> int:
        line, children = self.root_line, self.children
        for step in path:
            found = _lookup(children, step)
            if found is None:
                break
            line, children = found
        return self.first_line + line


def _lookup(children: _Children, step: PathStep) -> tuple[int, _Children] | None:
    if isinstance(children, dict) and isinstance(step, str):
        found: tuple[int, _Children] | None = children.get(step)
        if found is None:
            for source in children.get(_MERGED, ()):
                found = _lookup(source, step)
                if found is not None:
                    break
        return found
    if isinstance(children, list) and isinstance(step, int) and 0 <= step < len(children):
        item: tuple[int, _Children] = children[step]
        return item
    return None


@dataclass(slots=True)
class _Frame:
    """A collection being read from the event stream."""

    children: dict[object, Any] | list[tuple[int, Any]] | None  # None: a complex key, skipped
    line: int
    anchor: str | None
    key: object = None  # mapping: the key whose value comes next (None: a key comes next)
    key_line: int = 0
    merged: list[_Children] | None = None


def index_document(text: str, *, json: bool = False) -> tuple[int, _Children, int] | None:
    """(0-based line of the root, line index, size) of the single document in ``text``, read from
    libyaml's event stream (cheaper than composing nodes first); None when libyaml cannot read it."""
    if json:
        text = text.replace("\t", " ")  # see compose()
    builder = _IndexBuilder()
    try:
        for event in yaml.parse(text, Loader=_Loader):
            builder.feed(event)
    except (yaml.YAMLError, ValueError):
        return None
    if builder.root is None:
        return None
    line, children = builder.root
    return line, children, builder.size


class _IndexBuilder:
    def __init__(self) -> None:
        self.stack: list[_Frame] = []
        self.anchors: dict[str, _Children] = {}
        self.root: tuple[int, _Children] | None = None
        self.size = 0

    def feed(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.ScalarEvent):
            self.size += 1
            if self._starting_key(event):
                return
            self._complete(None, _line(event), event.anchor)
        elif isinstance(event, yaml.AliasEvent):
            if self._starting_key(None):
                return
            self._complete(self.anchors.get(event.anchor or ""), _line(event), None)
        elif isinstance(event, yaml.CollectionStartEvent):
            self.size += 1
            top = self.stack[-1] if self.stack else None
            skipped = top is not None and (top.children is None or self._starting_key(None))
            line: int = _line(event)
            if skipped:
                children: dict[object, Any] | list[tuple[int, Any]] | None = None
            elif isinstance(event, yaml.MappingStartEvent):
                children = {}
            else:
                children = []
            self.stack.append(_Frame(children, line, event.anchor))
        elif isinstance(event, yaml.CollectionEndEvent):
            frame = self.stack.pop()
            if frame.children is None:
                return
            if frame.merged:
                assert isinstance(frame.children, dict)
                frame.children[_MERGED] = frame.merged
            self._complete(frame.children, frame.line, frame.anchor)

    def _starting_key(self, event: yaml.ScalarEvent | None) -> bool:
        """Whether the node now starting is a mapping key (then it is recorded, or marked for
        skipping when it is not a plain string: aliases and collections as keys)."""
        if not self.stack:
            return False
        top = self.stack[-1]
        if top.children is None:
            return True  # inside a skipped complex key
        if not isinstance(top.children, dict) or top.key is not None:
            return False
        if event is None:
            top.key = _SKIPPED
        else:
            top.key = _MERGE if event.value == "<<" and event.implicit[0] else event.value
            top.key_line = _line(event)
        return True

    def _complete(self, children: _Children, line: int, anchor: str | None) -> None:
        if anchor is not None:
            self.anchors[anchor] = children
        if not self.stack:
            self.root = (line, children)
            return
        top = self.stack[-1]
        if isinstance(top.children, list):
            top.children.append((line, children))
            return
        assert isinstance(top.children, dict)
        key, top.key = top.key, None
        if key is _MERGE:
            top.merged = top.merged or []
            if isinstance(children, dict):
                top.merged.append(children)
            elif isinstance(children, list):
                top.merged.extend(item for _, item in children)
        elif key is not _SKIPPED:
            top.children[key] = (top.key_line, children)


def _line(event: yaml.Event) -> int:
    mark = event.start_mark
    return mark.line if mark is not None else 0


_MERGE = object()  # the pending key is a merge key
_SKIPPED = object()  # the pending key was an alias or a collection


class LineLocator:
    """Finds field lines in files (re-read on demand) and in registered in-memory inputs.

    Documents asked about are indexed once and kept while they fit in ``node_budget`` nodes, so
    asking in any order (rule by rule over every object) does not compose a document again and
    again. A file that changed on disk (size or modification time) is read again.
    """

    def __init__(self, *, max_files: int = 8, node_budget: int = 500_000) -> None:
        self._lock = threading.Lock()
        self._registered: dict[str, _Source] = {}
        self._files: OrderedDict[str, _Source] = OrderedDict()
        self._documents: OrderedDict[tuple[str, int], _DocumentIndex | None] = OrderedDict()
        self._nodes = 0
        self._max_files = max_files
        self._node_budget = node_budget

    def register(self, name: str, text: str, *, json: bool) -> None:
        """Keep an input that cannot be re-read (stdin) so its lines can still be found."""
        source = _make_source(text, json=json)
        with self._lock:
            self._registered[name] = source
            self._forget(name)

    def clear(self) -> None:
        with self._lock:
            self._registered.clear()
            self._files.clear()
            self._documents.clear()
            self._nodes = 0

    def invalidate(self, file: str) -> None:
        """Forget what is cached for ``file`` (changes on disk are also noticed by size and mtime)."""
        with self._lock:
            self._forget(file)

    def _forget(self, file: str) -> None:
        self._files.pop(file, None)
        for key in [key for key in self._documents if key[0] == file]:
            self._drop(key)

    def _drop(self, key: tuple[str, int]) -> None:
        index = self._documents.pop(key)
        if index is not None:
            self._nodes -= index.size

    def locate(self, origin: Origin, path: Sequence[PathStep]) -> int:
        if origin.file.endswith(RENDERED_SUFFIXES) or origin.document < 0:
            return origin.line
        if not path and origin.item < 0:
            return origin.line  # the object itself starts where its document starts
        index = self._index(origin.file, origin.document)
        if index is None:
            return origin.line
        if origin.item >= 0:
            path = ("items", origin.item, *path)
        return index.line(path)

    def _stamp(self, file: str) -> tuple[int, int] | None:
        if file in self._registered:
            return (0, 0)
        try:
            info = os.stat(file)
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size)

    def _index(self, file: str, document: int) -> _DocumentIndex | None:
        stamp = self._stamp(file)
        if stamp is None:
            return None
        key = (file, document)
        with self._lock:
            if key in self._documents:
                cached = self._documents[key]
                if cached is None or cached.stamp == stamp:
                    self._documents.move_to_end(key)
                    return cached
                self._forget(file)  # changed on disk: every document of it is stale
        source = self._source(file, stamp)
        if source is None or document >= len(source.segments) or source.segments[document].empty:
            return None
        segment = source.segments[document]
        indexed = index_document(source.text[segment.start : segment.end], json=source.json)
        index = None
        if indexed is not None:
            root_line, children, size = indexed
            index = _DocumentIndex(stamp, segment.first_line, root_line, children, size)
        with self._lock:
            if key in self._documents:
                self._drop(key)
            self._documents[key] = index
            self._nodes += index.size if index is not None else 0
            while self._nodes > self._node_budget and len(self._documents) > 1:
                self._drop(next(iter(self._documents)))
        return index

    def _source(self, file: str, stamp: tuple[int, int]) -> _Source | None:
        with self._lock:
            if file in self._registered:
                return self._registered[file]
            cached = self._files.get(file)
            if cached is not None and cached.stamp == stamp:
                self._files.move_to_end(file)
                return cached
        source = _read_source(file, stamp)
        if source is None:
            return None
        with self._lock:
            self._files[file] = source
            while len(self._files) > self._max_files:
                self._files.popitem(last=False)
        return source


def _make_source(text: str, *, json: bool, stamp: tuple[int, int] = (0, 0)) -> _Source:
    if json:
        return _Source(text, True, (Segment(0, len(text), 1, 1, False),), stamp)
    return _Source(text, False, tuple(split_documents(text)), stamp)


def _read_source(file: str, stamp: tuple[int, int]) -> _Source | None:
    limit = ParseLimits().max_file_bytes
    try:
        with open(file, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError:
        return None
    if len(data) > limit:
        return None
    try:
        text = decode_bytes(data)
    except DecodeProblem:
        return None
    return _make_source(text, json=os.path.splitext(file)[1].lower() == ".json", stamp=stamp)


_LOCATOR = LineLocator()


def default_locator() -> LineLocator:
    """The process-wide locator behind :func:`locate_line`."""
    return _LOCATOR


def locate_line(origin: Origin, path: tuple[str | int, ...]) -> int:
    """The 1-based line of ``path`` inside the object at ``origin``.

    ``path`` is relative to the object (for an item of a ``kind: List`` the ``items`` step is
    added here). The line of the deepest node on the path that exists is returned: the key's line
    for a mapping step, the item's line for a list index. When the file is gone, unreadable or is
    rendered output, the document's start line (``origin.line``) is returned.
    """
    return _LOCATOR.locate(origin, path)
