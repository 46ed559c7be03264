"""Published Gatekeeper templates are Rego v0; regopy (rego-cpp) reads Rego v1. Two rewrites make
such modules mean in rego-cpp what they mean in OPA; both are exact, never approximations.

1. **Partial set rules.** In v0, ``p[x] { body }`` adds ``x`` to the set ``p``; in v1 the same text
   defines an object (``p[x]`` is ``true``), so iterating ``p[_]`` would give ``true`` for every
   element. Such heads become ``p contains x if { body }`` (what ``opa fmt --v0-v1`` writes).
   Modules that ``import rego.v1`` are left alone.
2. **Iteration inside a call.** ``lower(xs[_])`` binds a fresh variable to each element and calls
   ``lower`` on it. rego-cpp refuses the ``_`` form and gives no result for a named variable there,
   so the reference is taken out of the call, into its own expression just before the one holding
   it: ``{c | c := lower(xs[_])}`` becomes ``{c | __stockade_0 := xs[_]; c := lower(__stockade_0)}``.
   An expression under ``not`` is left alone (moving the iteration out would change its meaning);
   rego-cpp then refuses it, or the module is refused here, with the line.
"""

from __future__ import annotations

import re
from typing import Final

from stockade.policies.model import PolicyDefinitionError

_V1_IMPORT: Final = re.compile(r"^[ \t]*import[ \t]+rego\.v1[ \t]*$", re.MULTILINE)
_HEAD: Final = re.compile(r"^([ \t]*)(default[ \t]+)?([A-Za-z_]\w*)\[", re.MULTILINE)
_KEYWORDS: Final = frozenset({"package", "import", "default", "else", "not", "some", "every", "with", "as"})
# A call whose one argument is a reference iterating with a variable: lower(a.b[_]), count(x[i].y).
_CALL: Final = re.compile(
    r"\b(?P<function>[A-Za-z_][\w.]*)\(\s*(?P<ref>[A-Za-z_][\w.]*(?:\[(?:[^\[\]()\"]|\"[^\"]*\")*\][\w.]*)+)\s*\)"
)
_ITERATING: Final = re.compile(r"\[\s*([A-Za-z_]\w*)\s*\]")


def to_v1(module: str, where: str) -> str:
    """``module`` with the rewrites above (unchanged when it is v1 already)."""
    if _V1_IMPORT.search(module):
        return module
    return _hoist_iterations(_partial_sets(module), where)


def _partial_sets(module: str) -> str:
    out: list[str] = []
    position = 0
    for match in _HEAD.finditer(module):
        if match.start() < position or match.group(2) or match.group(3) in _KEYWORDS:
            continue
        if _inside_string_or_comment(module, match.start()):
            continue
        close = _matching(module, match.end() - 1, "[", "]")
        if close is None:
            continue
        rest = close + 1
        while rest < len(module) and module[rest] in " \t":
            rest += 1
        if rest >= len(module) or module[rest] != "{":
            continue  # p[k] = v { … }, p[k] := v, a reference: not a partial set rule
        key = module[match.end() : close]
        out.append(module[position : match.start()])
        out.append(f"{match.group(1)}{match.group(3)} contains {key} if ")
        position = rest
    out.append(module[position:])
    return "".join(out)


def _hoist_iterations(module: str, where: str) -> str:
    for counter in range(1000):
        match = next(
            (
                m
                for m in _CALL.finditer(module)
                if _ITERATING.search(m.group("ref")) and not _inside_string_or_comment(module, m.start())
            ),
            None,
        )
        if match is None:
            return module
        start = _statement_start(module, match.start())
        statement = module[start : match.start()].lstrip()
        if statement.startswith("not ") or statement == "not":
            line = module.count("\n", 0, match.start()) + 1
            raise PolicyDefinitionError(
                f"{where}: line {line}: iterating inside a call under `not` ({match.group(0)}) is not supported by the"
                " Rego engine; assign the element to a variable first"
            )
        name = f"__stockade_{counter}"
        assignment = f"{name} := {match.group('ref')}"
        if start == 0 or module[start - 1] == "\n":  # its own line in a body
            indent = module[start : start + len(module[start:]) - len(module[start:].lstrip(" \t"))]
            hoisted = f"{indent}{assignment}; {statement}"  # on the same line: line numbers hold
        else:  # inside a comprehension or after a semicolon
            hoisted = f" {assignment}; {statement}"
        module = module[:start] + hoisted + f"{match.group('function')}({name})" + module[match.end() :]
    raise PolicyDefinitionError(f"{where}: too many iterations inside calls to rewrite")


def _statement_start(module: str, index: int) -> int:
    """Where the expression holding ``index`` starts: after the nearest ``|``, ``;``, ``{`` or
    line break before it at the same depth."""
    depth = 0
    position = index - 1
    while position >= 0:
        char = module[position]
        if char in ")]":
            depth += 1
        elif char in "([":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and char in "|;{\n":
            return position + 1
        position -= 1
    return position + 1


def _matching(text: str, opening: int, open_char: str, close_char: str) -> int | None:
    depth = 0
    position = opening
    in_string = False
    while position < len(text):
        char = text[position]
        if in_string:
            if char == "\\":
                position += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            depth -= 1
            if depth == 0:
                return position if char == close_char else None
        position += 1
    return None


def _inside_string_or_comment(text: str, index: int) -> bool:
    line_start = text.rfind("\n", 0, index) + 1
    segment = text[line_start:index]
    quotes = 0
    escaped = False
    for char in segment:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quotes += 1
        elif char == "#" and quotes % 2 == 0:
            return True
    return quotes % 2 == 1
