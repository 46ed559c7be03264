"""Exact line numbers, found only when someone asks for them.

Loading records where each document starts (see :mod:`stockade.sources.documents`); the line of
a field inside an object is looked up lazily, for the few objects that have findings: the one
document is composed again with libyaml (node tree with positions, no Python objects built) and
walked along the path. Files are re-read on demand; the last few files and documents are kept
(a file whose size or modification time changed is read again).
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


def node_line(root: yaml.Node, path: Sequence[PathStep]) -> int:
    """0-based line of the deepest node along ``path`` (a mapping key's line for mapping steps)."""
    node = root
    line: int = root.start_mark.line
    for step in path:
        found = _child(node, step)
        if found is None:
            break
        line, node = found
    return line


def _child(node: yaml.Node, step: PathStep) -> tuple[int, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == step and key.tag != _MERGE_TAG:
                return key.start_mark.line, value
        # Keys brought in by a YAML merge key ("<<: *defaults") live in the merged mappings.
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag == _MERGE_TAG:
                sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
                for source in sources:
                    found = _child(source, step)
                    if found is not None:
                        return found
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        item: yaml.Node = node.value[step]
        return item.start_mark.line, item
    return None


def line_in_text(text: str, first_line: int, path: Sequence[PathStep], *, json: bool = False) -> int | None:
    """1-based file line of ``path`` in the document ``text`` that starts at ``first_line``."""
    root = compose(text, json=json)
    if root is None:
        return None
    return first_line + node_line(root, path)


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


class LineLocator:
    """Finds field lines in files (re-read on demand) and in registered in-memory inputs."""

    def __init__(self, *, max_files: int = 8, max_documents: int = 32) -> None:
        self._lock = threading.Lock()
        self._registered: dict[str, _Source] = {}
        self._files: OrderedDict[str, _Source] = OrderedDict()
        self._nodes: OrderedDict[tuple[str, int], yaml.Node | None] = OrderedDict()
        self._max_files = max_files
        self._max_documents = max_documents

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
            self._nodes.clear()

    def invalidate(self, file: str) -> None:
        """Forget what is cached for ``file`` (changes on disk are also noticed by size and mtime)."""
        with self._lock:
            self._forget(file)

    def _forget(self, file: str) -> None:
        self._files.pop(file, None)
        for key in [key for key in self._nodes if key[0] == file]:
            del self._nodes[key]

    def locate(self, origin: Origin, path: Sequence[PathStep]) -> int:
        if origin.file.endswith(RENDERED_SUFFIXES):
            return origin.line
        source = self._source(origin.file)
        if source is None or origin.document >= len(source.segments) or origin.document < 0:
            return origin.line
        segment = source.segments[origin.document]
        if segment.empty:
            return origin.line
        root = self._node(origin.file, origin.document, source, segment)
        if root is None:
            return origin.line
        full_path: tuple[PathStep, ...] = tuple(path)
        if origin.item >= 0:
            full_path = ("items", origin.item, *full_path)
        return segment.first_line + node_line(root, full_path)

    def _source(self, file: str) -> _Source | None:
        with self._lock:
            if file in self._registered:
                return self._registered[file]
        try:
            info = os.stat(file)
        except OSError:
            return None
        stamp = (info.st_mtime_ns, info.st_size)
        with self._lock:
            cached = self._files.get(file)
            if cached is not None and cached.stamp == stamp:
                self._files.move_to_end(file)
                return cached
            self._forget(file)  # changed on disk (or never read): its documents are stale too
        source = _read_source(file, stamp)
        if source is None:
            return None
        with self._lock:
            self._files[file] = source
            while len(self._files) > self._max_files:
                self._files.popitem(last=False)
        return source

    def _node(self, file: str, document: int, source: _Source, segment: Segment) -> yaml.Node | None:
        key = (file, document)
        with self._lock:
            if key in self._nodes:
                self._nodes.move_to_end(key)
                return self._nodes[key]
        root = compose(source.text[segment.start : segment.end], json=source.json)
        with self._lock:
            self._nodes[key] = root
            while len(self._nodes) > self._max_documents:
                self._nodes.popitem(last=False)
        return root


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
