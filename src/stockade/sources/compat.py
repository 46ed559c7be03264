"""Where YAML 1.2 and Kubernetes tooling read the same text differently, read it like Kubernetes.

The loader follows YAML 1.2. kubectl (and every tool built on sigs.k8s.io/yaml) follows YAML 1.1
for plain integers with a leading zero: ``defaultMode: 0644`` is octal, 420. YAML 1.2 reads 644,
which would make file-permission checks wrong, so such values are put right here. The text is
first searched cheaply for a candidate; only documents that have one are composed again (libyaml)
to find which values were written that way.

YAML 1.1 booleans (``yes``, ``on`` …) are not converted: they stay strings, and the rules that care
read them. Merge keys are applied in :mod:`stockade.sources.normalize`.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from stockade.sources.locate import PathStep, compose, is_plain

# A run of octal digits starting with 0; group 1 is set when a plain scalar ends right after it.
# The pattern starts with a literal, so the search jumps between zeros at memchr speed (a leading
# lookbehind would make it try every position: 40 times slower on large CRDs). It always matches
# and never gives back digits, so a long run of zeros is read once; the digit before the run and
# the position of the value are checked by hand.
_CANDIDATE = re.compile(r"0[0-7]*+(?=([ \t]*+(?:[\n,\]}#]|\Z))?)")
_OCTAL = re.compile(r"[-+]?0[0-7]+")
_VALUE_START = ":-?,[{"


def has_octal_candidate(text: str, start: int = 0, end: int | None = None) -> bool:
    """Whether ``text[start:end]`` may hold a plain leading-zero integer (false positives only
    cost a second look)."""
    stop = len(text) if end is None else end
    return any(
        match.end() - match.start() > 1 and match.group(1) is not None and _value_position(text, match.start())
        for match in _CANDIDATE.finditer(text, start, stop)
    )


def _value_position(text: str, at: int) -> bool:
    """Whether a scalar starting at ``at`` follows ``key: ``, ``- ``, ``[``, ``{`` or ``,`` (so not
    a digit: the run would be the tail of a number)."""
    before = at - 1
    if before < 0:
        return False
    char = text[before]
    if char in " \t":
        while before >= 0 and text[before] in " \t":
            before -= 1
        return before >= 0 and text[before] in _VALUE_START
    if char == ",":
        return True
    if char in "[{":
        before -= 1
        while before >= 0 and text[before] in " \t":
            before -= 1
        return before < 0 or text[before] in _VALUE_START or text[before] == "\n"
    return False


def fix_octal(value: Any, text: str) -> Any:
    """Re-read plain ``0NNN`` integers in the document ``text`` as octal inside ``value``."""
    root = compose(text)
    if root is None:
        return value
    holder = [value]
    for path, scalar in _plain_octals(root):
        _replace(holder, (0, *path), scalar)
    return holder[0]


def _plain_octals(root: yaml.Node) -> list[tuple[tuple[PathStep, ...], str]]:
    found: list[tuple[tuple[PathStep, ...], str]] = []
    stack: list[tuple[yaml.Node, tuple[PathStep, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            if is_plain(node) and _OCTAL.fullmatch(node.value):
                found.append((path, node.value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, index)) for index, item in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            for key, child in node.value:
                if not isinstance(key, yaml.ScalarNode):
                    continue
                if key.tag == "tag:yaml.org,2002:merge":
                    # Merged keys sit in the mapping itself once merges are applied.
                    sources = child.value if isinstance(child, yaml.SequenceNode) else [child]
                    stack.extend((source, path) for source in sources)
                else:
                    stack.append((child, (*path, key.value)))
    return found


def _replace(container: Any, path: tuple[PathStep, ...], written: str) -> None:
    for step in path[:-1]:
        container = _step(container, step)
        if container is None:
            return
    last = path[-1]
    current = _step(container, last)
    # Only a value the 1.2 reading produced from these digits is replaced (never a merged-over one).
    if type(current) is int and current == int(written, 10):
        container[last] = int(written, 8)


def _step(container: Any, step: PathStep) -> Any:
    if isinstance(container, dict):
        return container.get(step)
    if isinstance(container, list) and isinstance(step, int) and 0 <= step < len(container):
        return container[step]
    return None
