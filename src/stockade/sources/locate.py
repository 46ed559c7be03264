"""Exact line numbers, found only when someone asks for them.

Loading records where each document starts (see :mod:`stockade.sources.documents`); the line of
a field inside an object is looked up lazily, for the objects that have findings: that one
document is read again through libyaml's event stream (positions only, no values built) into a
compact line index, kept for the next question about the same document. Files are re-read on
demand; one whose size or modification time changed is read again.
"""

from __future__ import annotations

import marshal
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from stockade.model.resource import Origin
from stockade.sources.bounded import NotRegularFile, open_regular
from stockade.sources.decode import DecodeProblem, decode_bytes
from stockade.sources.documents import Segment, split_documents
from stockade.sources.forking import start_forked, usable_cores
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
    loader = _Loader(text)
    try:
        return _build_index(loader.get_event)
    except (yaml.YAMLError, ValueError):
        return None
    finally:
        loader.dispose()


def _build_index(next_event: Callable[[], yaml.Event | None]) -> tuple[int, _Children, int] | None:
    """Fold the event stream into the line index. One loop with the event types compared by
    identity: this runs for every document that has a finding, event by event (a method call
    per event doubled its cost)."""
    stack: list[_Frame] = []
    anchors: dict[str, _Children] = {}
    root: tuple[int, _Children] | None = None
    size = 0
    while (event := next_event()) is not None:
        kind = type(event)
        children: _Children
        if kind is _SCALAR or kind is _ALIAS:
            top = stack[-1] if stack else None
            mark = event.start_mark
            line = mark.line if mark is not None else 0
            if kind is _SCALAR:
                size += 1
                if top is not None and top.key is None and type(top.children) is dict:
                    value = event.value  # type: ignore[attr-defined]
                    top.key = _MERGE if value == "<<" and event.implicit[0] else value  # type: ignore[attr-defined]
                    top.key_line = line
                    continue
                children, anchor = None, event.anchor  # type: ignore[attr-defined]
            else:
                if top is not None and top.key is None and type(top.children) is dict:
                    top.key = _SKIPPED  # an alias as a key
                    continue
                children, anchor = anchors.get(event.anchor or ""), None  # type: ignore[attr-defined]
            if top is not None and top.children is None:
                continue  # inside a skipped complex key
        elif kind is _MAPPING_START or kind is _SEQUENCE_START:
            size += 1
            top = stack[-1] if stack else None
            mark = event.start_mark
            line = mark.line if mark is not None else 0
            if top is not None and (top.children is None or (top.key is None and type(top.children) is dict)):
                if top.children is not None:
                    top.key = _SKIPPED  # a collection as a key: skipped with its contents
                stack.append(_Frame(None, line, event.anchor))  # type: ignore[attr-defined]
            else:
                stack.append(_Frame({} if kind is _MAPPING_START else [], line, event.anchor))  # type: ignore[attr-defined]
            continue
        elif kind is _MAPPING_END or kind is _SEQUENCE_END:
            frame = stack.pop()
            if frame.children is None:
                continue
            children, line, anchor = frame.children, frame.line, frame.anchor
            if frame.merged:
                assert type(children) is dict
                children[_MERGED] = frame.merged
        else:
            continue  # stream and document boundaries
        if anchor is not None:
            anchors[anchor] = children
        if not stack:
            root = (line, children)
            continue
        top = stack[-1]
        held = top.children
        if type(held) is list:
            held.append((line, children))
            continue
        assert type(held) is dict
        key, top.key = top.key, None
        if key is _MERGE:
            top.merged = top.merged or []
            if type(children) is dict:
                top.merged.append(children)
            elif type(children) is list:
                top.merged.extend(item for _, item in children)
        elif key is not _SKIPPED:
            held[key] = (top.key_line, children)
    if root is None:
        return None
    return root[0], root[1], size


_SCALAR, _ALIAS = yaml.ScalarEvent, yaml.AliasEvent
_MAPPING_START, _SEQUENCE_START = yaml.MappingStartEvent, yaml.SequenceStartEvent
_MAPPING_END, _SEQUENCE_END = yaml.MappingEndEvent, yaml.SequenceEndEvent
_MERGE = object()  # the pending key is a merge key
_SKIPPED = object()  # the pending key was an alias or a collection


class LineLocator:
    """Finds field lines in files (re-read on demand) and in registered in-memory inputs.

    Documents asked about are indexed once and kept while they fit in ``node_budget`` nodes, so
    asking in any order (rule by rule over every object) does not compose a document again and
    again. A file that changed on disk (size or modification time) is read again.
    """

    def __init__(self, *, max_files: int = 4096, max_bytes: int = 64 << 20, node_budget: int = 500_000) -> None:
        self._lock = threading.Lock()
        self._registered: dict[str, _Source] = {}
        self._files: OrderedDict[str, _Source] = OrderedDict()
        self._documents: OrderedDict[tuple[str, int], _DocumentIndex | None] = OrderedDict()
        self._nodes = 0
        self._max_files = max_files
        # Rules ask about objects in rule order, not file order, so a handful of files is not
        # enough: with 8, a 10,000-object scan read its files 2.5 times each.
        self._max_bytes = max_bytes
        self._bytes = 0
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
            self._bytes = 0
            self._documents.clear()
            self._nodes = 0

    def invalidate(self, file: str) -> None:
        """Forget what is cached for ``file`` (changes on disk are also noticed by size and mtime)."""
        with self._lock:
            self._forget(file)

    def _forget(self, file: str) -> None:
        self._drop_file(file)
        for key in [key for key in self._documents if key[0] == file]:
            self._drop(key)

    def _drop(self, key: tuple[str, int]) -> None:
        index = self._documents.pop(key)
        if index is not None:
            self._nodes -= index.size

    def locate(self, origin: Origin, path: Sequence[PathStep]) -> int:
        if _at_start(origin, path):
            return origin.line
        index = self._index(origin.file, origin.document)
        if index is None:
            return origin.line
        if origin.item >= 0:
            path = (*(step for index in (origin.item, *origin.nested) for step in ("items", index)), *path)
        return index.line(path)

    def locate_all(
        self, requests: Sequence[tuple[Origin, Sequence[PathStep]]], *, parallel: bool | None = None
    ) -> list[int]:
        """The lines of many ``(origin, path)`` requests, in order.

        A large batch is split by document over two processes: each document is read and indexed
        by one of them (the forked child answers with its lines only). ``parallel`` None decides
        by the number of documents not indexed yet and the cores this process may use.
        """
        lines = [origin.line for origin, _ in requests]
        by_document: dict[tuple[str, int], list[int]] = {}
        for position, (origin, path) in enumerate(requests):
            if not _at_start(origin, path):
                by_document.setdefault((origin.file, origin.document), []).append(position)
        documents = list(by_document)
        if parallel is None:
            fresh = sum(1 for key in documents if key not in self._documents)
            parallel = fresh >= PARALLEL_MIN_DOCUMENTS and usable_cores() > 1
        share = documents[len(documents) // 2 :] if parallel else []
        theirs = [position for key in share for position in by_document[key]]

        def answer() -> bytes:
            return marshal.dumps([self.locate(*requests[position]) for position in theirs])

        wait = start_forked(answer) if theirs else None
        mine = documents if wait is None else documents[: len(documents) // 2]
        for key in mine:
            for position in by_document[key]:
                lines[position] = self.locate(*requests[position])
        if wait is not None:
            blob = wait()
            found = marshal.loads(blob) if blob is not None else None  # noqa: S302 - our own child's bytes
            if not isinstance(found, list) or len(found) != len(theirs):
                found = [self.locate(*requests[position]) for position in theirs]  # the child failed
            for position, line in zip(theirs, found, strict=True):
                lines[position] = line
        return lines

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
            self._drop_file(file)
            self._files[file] = source
            self._bytes += len(source.text)
            while len(self._files) > 1 and (len(self._files) > self._max_files or self._bytes > self._max_bytes):
                self._drop_file(next(iter(self._files)))
        return source

    def _drop_file(self, file: str) -> None:
        dropped = self._files.pop(file, None)
        if dropped is not None:
            self._bytes -= len(dropped.text)


def _at_start(origin: Origin, path: Sequence[PathStep]) -> bool:
    """Whether the answer is the document's first line without reading anything: rendered output
    has no file to re-read, and the object itself starts where its document starts."""
    if origin.file.endswith(RENDERED_SUFFIXES) or origin.document < 0:
        return True
    return not path and origin.item < 0


# Reading and indexing documents in a forked child pays for the fork (a few milliseconds) once
# a batch holds this many documents not indexed yet (each costs about a tenth of a millisecond).
PARALLEL_MIN_DOCUMENTS = 400


def _make_source(text: str, *, json: bool, stamp: tuple[int, int] = (0, 0)) -> _Source:
    if json:
        return _Source(text, True, (Segment(0, len(text), 1, 1, False),), stamp)
    return _Source(text, False, tuple(split_documents(text)), stamp)


def _read_source(file: str, stamp: tuple[int, int]) -> _Source | None:
    limit = ParseLimits().max_file_bytes
    try:
        # Never a FIFO or device: an input read once (a pipe) cannot be read again for its lines,
        # and opening a FIFO with no writer would block the scan.
        handle, _ = open_regular(file)
        with handle:
            data = handle.read(limit + 1)
    except (NotRegularFile, OSError):
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


def locate_lines(requests: Sequence[tuple[Origin, Sequence[PathStep]]]) -> list[int]:
    """:func:`locate_line` for many requests at once (large batches use two cores)."""
    return _LOCATOR.locate_all(requests)


def locate_line(origin: Origin, path: tuple[str | int, ...]) -> int:
    """The 1-based line of ``path`` inside the object at ``origin``.

    ``path`` is relative to the object (for an item of a ``kind: List`` the ``items`` step is
    added here). The line of the deepest node on the path that exists is returned: the key's line
    for a mapping step, the item's line for a list index. When the file is gone, unreadable or is
    rendered output, the document's start line (``origin.line``) is returned.
    """
    return _LOCATOR.locate(origin, path)
