"""Which parts of an object CEL expressions can read, so that only those are converted.

Converting an object to CEL values is most of what evaluating a policy costs, and reading a field
copies the map holding it: both grow with the object (a Deployment with many volumes and
environment variables costs ten times a small one). Policies read a few fields. This module reads
each expression's references — chains of fields from a root (``object.spec.replicas``), through
comprehension variables (``object.spec.containers.all(c, c.image …)`` reads ``image`` of every
container) — into a :class:`PathTree`; :func:`prune` keeps only those parts of a value.

Whatever is not understood keeps more, never less: a chain used as a whole (compared, passed to a
function, indexed with ``[…]``, a method other than the comprehension macros called on it) keeps
its whole value; a root used any other way keeps the whole root.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

MACROS: Final = frozenset({"all", "exists", "exists_one", "map", "filter"})
EVERY: Final = "*"  # a list's items, or a map's values
_TOKEN: Final = re.compile(
    r"""\s+|(?P<string>[rRbB]{0,2}("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'))|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"""
    r"""|(?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[uU]?)|(?P<symbol>\?\.|[.\[\](){},?:!<>=&|+\-*/%])"""
)


@dataclass(slots=True)
class PathTree:
    """Fields to keep: ``whole`` keeps everything below; ``children`` by field name (``*`` for
    every item of a list or value of a map)."""

    whole: bool = False
    children: dict[str, PathTree] = field(default_factory=dict)

    def child(self, name: str) -> PathTree:
        found = self.children.get(name)
        if found is None:
            found = self.children[name] = PathTree()
        return found

    def reach(self, path: tuple[str, ...]) -> None:
        """Keep the fields on ``path`` present, without their contents (for ``has()``)."""
        node = self
        for part in path:
            if node.whole:
                return
            node = node.child(part)

    def add(self, path: tuple[str, ...]) -> None:
        node = self
        for part in path:
            if node.whole:
                return
            node = node.child(part)
        node.whole = True
        node.children.clear()

    def merge(self, other: PathTree) -> None:
        if self.whole:
            return
        if other.whole:
            self.whole = True
            self.children.clear()
            return
        for name, below in other.children.items():
            self.child(name).merge(below)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            tokens.append(("other", text[position]))
            position += 1
            continue
        position = match.end()
        kind = match.lastgroup
        if kind is not None:
            tokens.append((kind, match.group(kind) if kind != "string" else match.group(0)))
    return tokens


def read_paths(text: str, roots: frozenset[str]) -> dict[str, PathTree]:
    """Root name → what ``text`` reads of it (an empty tree: the root is not read)."""
    tokens = _tokens(text)
    trees = {root: PathTree() for root in roots}
    feeds = _receiver_groups(tokens)
    # Comprehension variables: name → the (root, path) of the lists they range over, and the
    # token index where their scope ends.
    bound: list[tuple[str, list[tuple[str, tuple[str, ...]]], int]] = []
    pending: dict[int, list[tuple[str, tuple[str, ...]]]] = {}  # macro token index → its lists
    index = 0
    while index < len(tokens):
        kind, value = tokens[index]
        bound = [b for b in bound if b[2] > index]
        starts: list[tuple[str, tuple[str, ...]]] = []
        if kind == "name" and not _after_dot(tokens, index):
            variable = next((b for b in reversed(bound) if b[0] == value), None)
            if variable is not None:
                starts = list(variable[1])
            elif value in roots:
                starts = [(value, ())]
        if not starts:
            if _is(tokens, index, "symbol", ".") and _is_kind(tokens, index + 1, "name") and index in feeds:
                macro = feeds[index]
                if macro.variable is not None:
                    lists = pending.pop(index, [])
                    bound.append((macro.variable, [(root, (*path, EVERY)) for root, path in lists], macro.end))
                index += 4
                continue
            index += 1
            continue
        presence = index >= 2 and tokens[index - 2 : index] == [("name", "has"), ("symbol", "(")]
        chains = starts
        begin = index
        index += 1
        while True:
            if _is(tokens, index, "symbol", ".") and _is_kind(tokens, index + 1, "name"):
                name = tokens[index + 1][1]
                if _is(tokens, index + 2, "symbol", "("):
                    if name in MACROS and _is_kind(tokens, index + 3, "name") and _is(tokens, index + 4, "symbol", ","):
                        end = _closing(tokens, index + 2)
                        bound.append((tokens[index + 3][1], [(r, (*p, EVERY)) for r, p in chains], end))
                        index += 5
                        break
                    _keep(trees, chains)  # another method: it may read anything of the value
                    index += 2
                    break
                chains = [(root, (*path, name)) for root, path in chains]
                index += 2
                continue
            if presence and _is(tokens, index, "symbol", ")"):
                for root, path in chains:
                    trees[root].reach(path)  # has(): only whether the field is there
                break
            group = _feeding(feeds, tokens, begin, index)
            if group is not None:
                pending.setdefault(group, []).extend(chains)
                break
            _keep(trees, chains)  # used as a whole (compared, indexed, passed on)
            break
    return trees


@dataclass(frozen=True, slots=True)
class _Macro:
    opening: int  # the token index of the receiver group's "("
    variable: str | None  # the macro's iteration variable
    end: int  # the token index where its scope ends


def _receiver_groups(tokens: list[tuple[str, str]]) -> dict[int, _Macro]:
    """``( … ).all(v, …)``: the index of the ``.`` before each macro whose receiver is a group."""
    found: dict[int, _Macro] = {}
    for index in range(1, len(tokens) - 4):
        if (
            tokens[index] == ("symbol", ".")
            and tokens[index - 1] == ("symbol", ")")
            and tokens[index + 1][0] == "name"
            and tokens[index + 1][1] in MACROS
            and tokens[index + 2] == ("symbol", "(")
            and tokens[index + 3][0] == "name"
            and tokens[index + 4] == ("symbol", ",")
        ):
            opening = _opening(tokens, index - 1)
            if opening is not None:
                found[index] = _Macro(opening, tokens[index + 3][1], _closing(tokens, index + 2))
    return found


def _feeding(feeds: dict[int, _Macro], tokens: list[tuple[str, str]], begin: int, after: int) -> int | None:
    """The macro a chain from ``begin`` to ``after`` flows into as a list: an operand of ``+`` or a
    branch of ``?:`` inside a macro's receiver group (compared or tested, it is kept whole)."""
    before = tokens[begin - 1] if begin > 0 else ("", "")
    following = tokens[after] if after < len(tokens) else ("", "")
    if before not in (("symbol", "("), ("symbol", "+"), ("symbol", "?"), ("symbol", ":")):
        return None
    if following not in (("symbol", ")"), ("symbol", "+"), ("symbol", ":")):
        return None
    inside = [dot for dot, macro in feeds.items() if macro.opening < begin and after < dot]
    return min(inside) if inside else None


def _keep(trees: dict[str, PathTree], chains: list[tuple[str, tuple[str, ...]]]) -> None:
    for root, path in chains:
        trees[root].add(path)


def _opening(tokens: list[tuple[str, str]], closing: int) -> int | None:
    depth = 0
    for index in range(closing, -1, -1):
        if tokens[index] in (("symbol", ")"), ("symbol", "]"), ("symbol", "}")):
            depth += 1
        elif tokens[index] in (("symbol", "("), ("symbol", "["), ("symbol", "{")):
            depth -= 1
            if depth == 0:
                return index
    return None


def _after_dot(tokens: list[tuple[str, str]], index: int) -> bool:
    return index > 0 and tokens[index - 1] in (("symbol", "."), ("symbol", "?."))


def _is(tokens: list[tuple[str, str]], index: int, kind: str, value: str) -> bool:
    return index < len(tokens) and tokens[index] == (kind, value)


def _is_kind(tokens: list[tuple[str, str]], index: int, kind: str) -> bool:
    return index < len(tokens) and tokens[index][0] == kind


def _closing(tokens: list[tuple[str, str]], opening: int) -> int:
    depth = 0
    for index in range(opening, len(tokens)):
        if tokens[index] in (("symbol", "("), ("symbol", "["), ("symbol", "{")):
            depth += 1
        elif tokens[index] in (("symbol", ")"), ("symbol", "]"), ("symbol", "}")):
            depth -= 1
            if depth == 0:
                return index
    return len(tokens)


def prune(value: Any, tree: PathTree) -> Any:
    """``value`` with only what ``tree`` keeps (the same object when it keeps everything)."""
    if tree.whole:
        return value
    if isinstance(value, Mapping):
        every = tree.children.get(EVERY)
        if every is not None:
            if every.whole:
                return value
            return {key: prune(item, every) for key, item in value.items()}
        return {key: prune(value[key], below) for key, below in tree.children.items() if key in value}
    if isinstance(value, list):
        every = tree.children.get(EVERY)
        if every is None:
            return value  # a field of a list: an error either way; keep it as it is
        return value if every.whole else [prune(item, every) for item in value]
    return value
