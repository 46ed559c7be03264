"""A fast line index for block-style YAML, the way almost every Kubernetes manifest is written.

libyaml's event stream costs a Python object per event; on a 10,000-object scan that is most of the
time spent finding lines. This scanner reads the lines of one document once, tracking indentation,
and builds the same index as :func:`stockade.sources.locate.index_document` (for each mapping,
key → (line, children); for each sequence, [(line, children)]).

It gives up (returns None) on anything it does not fully understand — flow collections that span
lines, anchors, aliases, tags, merge keys, complex or escaped keys, tabs, JSON — and the caller
falls back to libyaml. A wrong line is worse than a slow one, so the rule is: recognise or refuse.
"""

from __future__ import annotations

import re
from typing import Any

Children = dict[object, Any] | list[tuple[int, Any]] | None

# A mapping key at the start of the content: plain (no ": " or " #" inside), or simply quoted.
# Possessive runs (a plain key takes everything up to the first ':' or '#', trailing spaces
# stripped by the caller) keep the match linear in the line's length.
_KEY = re.compile(
    r"""(?:
        (?P<plain>[^\s\-?:,\[\]{}#&*!|>'"%@`][^:#]*+|-[^\s:#][^:#]*+)
      | "(?P<dq>[^"\\]*+)"
      | '(?P<sq>[^']*+)'
    )[ ]*+:(?:[ ]+|$)""",
    re.VERBOSE,
)
_BLOCK_SCALAR = re.compile(r"[|>][0-9+-]*[ ]*(?:#.*)?$")
_UNSUPPORTED_START = ("&", "*", "!", "<<", "? ", "%", "@", "`")


class _Refuse(Exception):
    pass


class _Frame:
    __slots__ = ("children", "indent", "pending")

    def __init__(self, indent: int, children: dict[object, Any] | list[tuple[int, Any]]) -> None:
        self.indent = indent
        self.children = children
        # Where the value of the last key / item goes when it turns out to be a nested block:
        # (line, setter) — the nested collection replaces the None placeholder.
        self.pending: tuple[int, object] | None = None


def index_block_document(text: str) -> tuple[int, Children, int] | None:
    """(0-based root line, index, node count) of one block-style YAML document, or None."""
    try:
        return _Scanner(text).run()
    except _Refuse:
        return None


class _Scanner:
    def __init__(self, text: str) -> None:
        if "\t" in text:
            raise _Refuse
        self.lines = text.split("\n")
        self.stack: list[_Frame] = []
        self.root: dict[object, Any] | None = None
        self.root_line = 0
        self.size = 0
        self.skip_deeper_than: int | None = None  # inside a block or multi-line scalar

    def run(self) -> tuple[int, Children, int] | None:
        for number, line in enumerate(self.lines):
            stripped = line.lstrip(" ")
            if not stripped or stripped.startswith("#"):
                continue
            indent = len(line) - len(stripped)
            if self.skip_deeper_than is not None:
                if indent > self.skip_deeper_than:
                    continue
                self.skip_deeper_than = None
            if indent == 0 and stripped.startswith(("---", "...")):
                if stripped.rstrip() in ("---", "...") or stripped.startswith("--- #"):
                    continue
                raise _Refuse  # content on the document-start line
            if stripped.startswith("%"):
                raise _Refuse
            self.line(number, indent, stripped)
        if self.root is None:
            return None
        return self.root_line, self.root, self.size

    # -- one content line ------------------------------------------------------------------
    def line(self, number: int, indent: int, content: str) -> None:
        if content.startswith("- ") or content.rstrip() == "-":
            self.item(number, indent, content)
        else:
            self.key(number, indent, content)

    def _parent_for(self, indent: int, *, sequence: bool) -> _Frame | None:
        """Pop finished collections; return the frame that owns a node at ``indent``."""
        stack = self.stack
        while stack and stack[-1].indent > indent:
            stack.pop()
        if sequence:
            return stack[-1] if stack else None
        # A key at the column of a compact sequence ends that sequence.
        if stack and stack[-1].indent == indent and isinstance(stack[-1].children, list):
            stack.pop()
        return stack[-1] if stack else None

    def _open(self, indent: int, line: int, children: dict[object, Any] | list[tuple[int, Any]]) -> _Frame:
        """Start a collection at ``indent``: the root, or the value of the parent's pending node."""
        self.size += 1
        frame = _Frame(indent, children)
        if not self.stack:
            if self.root is not None or not isinstance(children, dict):
                raise _Refuse
            self.root = children
            self.root_line = line
        else:
            parent = self.stack[-1]
            if parent.pending is None:
                raise _Refuse
            _, slot = parent.pending
            parent.pending = None
            self._fill(parent, slot, children, line)
        self.stack.append(frame)
        return frame

    @staticmethod
    def _fill(parent: _Frame, slot: object, children: Children, line: int | None = None) -> None:
        """Put a value in its slot. A mapping entry keeps its key's line; a sequence item takes the
        line where its value starts (the dash may stand alone on the line before), as libyaml does."""
        container = parent.children
        if isinstance(container, dict):
            key_line, _ = container[slot]
            container[slot] = (key_line, children)
        else:
            assert isinstance(slot, int)
            dash_line, _ = container[slot]
            container[slot] = (dash_line if line is None else line, children)

    def key(self, number: int, indent: int, content: str) -> None:
        if content.startswith(_UNSUPPORTED_START) or content[0] in "[{":
            raise _Refuse
        match = _KEY.match(content)
        if match is None:
            # Not a key: a continuation of a multi-line plain scalar is only allowed deeper than
            # the key it continues, and must not look like anything structural.
            frame = self.stack[-1] if self.stack else None
            if frame is None or indent <= frame.indent or frame.pending is None:
                raise _Refuse
            if content[0] in "{}[]\"'&*!|>":
                raise _Refuse
            _, slot = frame.pending
            frame.pending = None
            self._fill(frame, slot, None, number)
            self.skip_deeper_than = frame.indent  # the rest of this plain scalar
            return
        key_text = match.group("plain")
        key: str = key_text.rstrip() if key_text is not None else (match.group("dq") or match.group("sq") or "")
        if key_text is not None and (key_text.rstrip() != key_text.strip() or " #" in key_text):
            raise _Refuse
        value = content[match.end() :]
        frame = self._parent_for(indent, sequence=False)
        if frame is None or frame.indent < indent:
            frame = self._open(indent, number, {})
        elif not isinstance(frame.children, dict):
            raise _Refuse
        frame.pending = None
        children = frame.children
        assert isinstance(children, dict)
        if key in children:
            raise _Refuse  # duplicate keys: let libyaml decide
        children[key] = (number, None)
        self.size += 1
        self.value(frame, key, indent, value)

    def item(self, number: int, indent: int, content: str) -> None:
        frame = self._parent_for(indent, sequence=True)
        if frame is not None and frame.indent == indent and isinstance(frame.children, list):
            pass  # another item of the same sequence
        elif frame is not None and frame.indent == indent and isinstance(frame.children, dict):
            if frame.pending is None:
                raise _Refuse
            frame = self._open(indent, number, [])  # compact sequence as the pending key's value
        elif frame is not None and frame.indent < indent:
            frame = self._open(indent, number, [])
        else:
            raise _Refuse
        frame.pending = None
        children = frame.children
        assert isinstance(children, list)
        slot = len(children)
        children.append((number, None))
        self.size += 1
        rest = content[1:]
        offset = len(rest) - len(rest.lstrip(" "))
        rest = rest.lstrip(" ")
        if not rest or rest.startswith("#"):
            frame.pending = (number, slot)
            return
        inner = indent + 1 + offset
        if rest.startswith("- ") or rest.rstrip() == "-":
            frame.pending = (number, slot)
            self.item(number, inner, rest)
        elif _KEY.match(rest) and not rest.startswith(_UNSUPPORTED_START) and rest[0] not in "[{\"'":
            frame.pending = (number, slot)
            self.key(number, inner, rest)
        else:
            self.scalar(frame, slot, indent, rest)

    def value(self, frame: _Frame, key: str, indent: int, value: str) -> None:
        if not value or value.startswith("#"):
            frame.pending = (0, key)  # a nested block (or an empty value) follows
            return
        self.scalar(frame, key, indent, value)

    def scalar(self, frame: _Frame, slot: object, indent: int, value: str) -> None:
        first = value[0]
        if first in "&*!" or value.startswith("<<"):
            raise _Refuse
        if first in "[{":
            if not _balanced_flow(value):
                raise _Refuse
            self._flow_children(frame, slot, value)
            return
        if first in "\"'":
            if not _closed_quote(value):
                raise _Refuse
            return
        if _BLOCK_SCALAR.match(value):
            self.skip_deeper_than = indent
            return
        # A plain scalar may go on over deeper lines; those are skipped as continuations.
        self.skip_deeper_than = indent

    def _flow_children(self, frame: _Frame, slot: object, value: str) -> None:
        # Nodes inside a one-line flow collection all sit on the key's line; index them so a path
        # into them stops at that line, as libyaml's index would give.
        container = frame.children
        if isinstance(container, dict):
            line = container[slot][0]
        else:
            assert isinstance(slot, int)
            line = container[slot][0]
        children = _flow_index(value, line)
        if children is None:
            raise _Refuse
        self._fill(frame, slot, children)


def _closed_quote(value: str) -> bool:
    quote = value[0]
    if quote == "'":
        body = value[1:].replace("''", "")
        end = body.find("'")
    else:
        body = value[1:]
        if "\\" in body:
            return False
        end = body.find('"')
    if end < 0:
        return False
    rest = body[end + 1 :].strip()
    return not rest or rest.startswith("#")


def _balanced_flow(value: str) -> bool:
    depth = 0
    quote = ""
    for ch in value:
        if quote:
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth < 0:
                return False
        elif ch == "#" and depth == 0:
            break
    return depth == 0 and not quote


def _flow_index(value: str, line: int) -> Children:
    """Index a one-line flow collection with PyYAML (small, rare enough to be cheap)."""
    import yaml

    try:
        data = yaml.load(value.split(" #")[0], Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - SafeLoader
    except yaml.YAMLError:
        return None

    def build(node: object) -> Children:
        if isinstance(node, dict):
            return {str(k) if not isinstance(k, str) else k: (line, build(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [(line, build(v)) for v in node]
        return None

    return build(data)
