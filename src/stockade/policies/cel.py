"""CEL as Kubernetes evaluates it in admission policies, on the ``cel`` package
(``common-expression-language``): its standard library and extensions, plus the Kubernetes
libraries it lacks (:mod:`stockade.policies.cel_k8s`), and a cost bound.

One :class:`CelEnvironment` per policy compiles its expressions once; every expression runs in
one context per thread. Converting an object to CEL values is most of an evaluation's cost (about
0.14 ms for a Deployment, against 1 µs to read a field of it), so the large values (``object``,
``oldObject``, ``namespaceObject``, ``params``) are given to the context only when they change:
the policies judging one object in turn convert it once. Small values (``request``) reach
expressions through a variable resolver. A policy's ``variables`` are written into the
expressions that use them (:func:`inline_variables`), so their values never go through Python.

Cost: CEL always terminates, but a comprehension nested in another over large lists can take
long. Kubernetes bounds each expression's cost (1,000,000 units per call); here the estimate is
the number of comprehensions times the longest list among the inputs raised to how deeply they
nest, refused above the same figure before the expression runs. An expression nesting more
than :data:`MAX_NESTING` comprehensions deep is refused when compiled.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import cel
from cel import stdlib

from stockade.policies.cel_k8s import kubernetes_functions
from stockade.policies.cel_paths import PathTree, prune, read_paths
from stockade.policies.model import PolicyDefinitionError

COST_LIMIT: Final = 1_000_000
MAX_NESTING: Final = 5
MAX_EXPRESSION_LENGTH: Final = 5_000  # characters, as the API server's validation allows
MAX_INLINED_LENGTH: Final = 100_000  # characters, once the variables it uses are written in
_MACRO = re.compile(r"\.\s*(all|exists|exists_one|map|filter)\s*\(")
_UNSUPPORTED = {"authorizer": "the authorizer library (authorizer.group(...).check(...)) is not supported"}


class CelEvaluationError(Exception):
    """An expression failed at run time (a missing field, a wrong type, the cost bound)."""


STATIC_ROOTS_DEFAULT: Final = ("object", "oldObject", "namespaceObject", "params", "anyObject")


@dataclass(frozen=True, slots=True)
class Expression:
    source: str
    program: Any
    macros: int  # comprehensions in the expression
    depth: int  # how deeply they nest
    static: tuple[str, ...] = STATIC_ROOTS_DEFAULT  # the large roots it reads (only they are set)


# Converted into the context when they change (by identity); the other roots are resolved per use.
STATIC_ROOTS: Final = STATIC_ROOTS_DEFAULT
ROOTS: Final = (*STATIC_ROOTS, "request", "variables")


_UNSET: Final = object()  # no value given to the context yet (None is a value: null)


class _Evaluator(threading.local):
    """This thread's context: the libraries, the large values of the current activation, and a
    resolver for the rest."""

    def __init__(self) -> None:
        context = cel.Context()
        stdlib.add_stdlib_to_context(context)
        for name, function in kubernetes_functions().items():
            context.add_function(name, function)
        for root in ROOTS:
            context.add_variable(root, None)  # a resolver answering None falls through to null
        context.set_variable_resolver(self._resolve)
        self.context = context
        self.static: dict[str, Any] = dict.fromkeys(STATIC_ROOTS, _UNSET)
        self.dynamic: Mapping[str, Any] = {}
        self.longest: dict[str, int] = dict.fromkeys(STATIC_ROOTS, 0)
        self.version = -1  # of the paths the values were pruned to

    def _resolve(self, name: str) -> Any:
        return None if name in self.static else self.dynamic.get(name)

    def run(self, program: Any, activation: Mapping[str, Any], static: tuple[str, ...] = STATIC_ROOTS) -> Any:
        # Only the roots the expression reads: an UPDATE's old object is converted only for the
        # expressions that look at it; and of each, only what some expression reads.
        if self.version != _PATHS.version:
            self.static = dict.fromkeys(STATIC_ROOTS, _UNSET)  # new policies read more: prune again
            self.version = _PATHS.version
        for name in static:
            value = activation.get(name)
            if value is not self.static[name]:
                self.context.add_variable(name, prune(value, _PATHS.trees[name]))
                self.static[name] = value  # held, so that its identity is not reused
                self.longest[name] = -1  # measured when an expression needs it
        self.dynamic = activation
        try:
            return program.execute(self.context)
        finally:
            self.dynamic = {}

    def longest_list(self, activation: Mapping[str, Any]) -> int:
        """The longest list among the values of ``activation`` (measured once per large value)."""
        found = 0
        for name, value in activation.items():
            if name in self.longest and value is self.static[name]:
                if self.longest[name] < 0:
                    self.longest[name] = _longest_list(value)
                found = max(found, self.longest[name])
            else:
                found = max(found, _longest_list(value))
        return found


class _ReadPaths:
    """What the expressions compiled so far read of each large root (grows, never shrinks)."""

    def __init__(self) -> None:
        self.trees = {root: PathTree() for root in STATIC_ROOTS}
        self.version = 0
        self._lock = threading.Lock()

    def add(self, text: str) -> None:
        found = read_paths(text, frozenset(STATIC_ROOTS))
        with self._lock:
            for root, tree in found.items():
                self.trees[root].merge(tree)
            self.version += 1


_PATHS = _ReadPaths()
_EVALUATOR = _Evaluator()


def comprehension_shape(text: str) -> tuple[int, int]:
    """How many comprehension macros ``text`` holds and how deeply they nest (string literals
    skipped)."""
    count = depth = 0
    open_macros: list[int] = []  # the parenthesis level at which each open macro's call started
    level = 0
    position = 0
    while position < len(text):
        char = text[position]
        if char in "'\"":
            end = text.find(char, position + 1)
            while end > 0 and text[end - 1] == "\\":
                end = text.find(char, end + 1)
            position = len(text) if end < 0 else end + 1
            continue
        if char == "(":
            level += 1
        elif char == ")":
            if open_macros and open_macros[-1] == level:
                open_macros.pop()
            level -= 1
        elif char == ".":
            match = _MACRO.match(text, position)
            if match is not None:
                count += 1
                level += 1
                open_macros.append(level)
                depth = max(depth, len(open_macros))
                position = match.end()
                continue
        position += 1
    return count, depth


def inline_variables(source: str, definitions: Mapping[str, str]) -> str:
    """``source`` with each ``variables.NAME`` replaced by ``(its expression)`` (already inlined
    itself). CEL is pure, so the value is the same; an expression whose variable fails fails the
    same way when it uses it."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return match.group(0)  # a string literal
        name = match.group(2)
        if name not in definitions:
            return match.group(0)
        definition = definitions[name]
        # A plain chain of fields stays one (so what it reads can be told); anything else is grouped.
        return definition if _CHAIN.fullmatch(definition.strip()) else f"({definition})"

    return _VARIABLE_OR_STRING.sub(replace, source)


_CHAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_VARIABLE_OR_STRING = re.compile(
    r"""("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|\bvariables\.([A-Za-z_][A-Za-z0-9_]*)\b"""
)


class CelEnvironment:
    """Compiles the expressions of one policy and runs them. ``roots``: the variable names its
    expressions may use (``object``, ``params``, …); an expression naming another one is refused."""

    def __init__(self, roots: Iterable[str]) -> None:
        self.roots = tuple(roots)

    def compile(
        self, source: object, where: str, variables: Mapping[str, str] | None = None, *, runs: bool = True
    ) -> Expression:
        """``source`` compiled, with ``variables`` (name → inlined expression) written in;
        :class:`PolicyDefinitionError` naming ``where`` when it cannot be. ``runs=False``: it is
        only checked (a variable's definition, run where it is used)."""
        if not isinstance(source, str) or not source.strip():
            raise PolicyDefinitionError(f"{where}: an expression must be a non-empty string")
        if len(source) > MAX_EXPRESSION_LENGTH:
            raise PolicyDefinitionError(f"{where}: the expression is longer than {MAX_EXPRESSION_LENGTH} characters")
        for name, why in _UNSUPPORTED.items():
            if re.search(rf"\b{name}\b", source):
                raise PolicyDefinitionError(f"{where}: {why}")
        text = inline_variables(source, variables or {})
        if len(text) > MAX_INLINED_LENGTH:
            raise PolicyDefinitionError(f"{where}: with its variables written in, the expression is too long")
        macros, depth = comprehension_shape(text)
        if depth > MAX_NESTING:
            raise PolicyDefinitionError(f"{where}: comprehensions nested {depth} deep: its cost would exceed the limit")
        try:
            program = cel.compile(text)
        except (ValueError, RuntimeError) as exc:
            raise PolicyDefinitionError(f"{where}: the expression does not compile: {_first_line(exc)}") from None
        if runs:
            _PATHS.add(text)
        referenced = set(program.variables())
        return Expression(source, program, macros, depth, tuple(r for r in STATIC_ROOTS if r in referenced))

    def run(self, expression: Expression, activation: Mapping[str, Any]) -> Any:
        """The value of ``expression``; :class:`CelEvaluationError` when it fails or costs too much."""
        if expression.depth >= 2:  # one level of comprehension is linear in the input: no bound needed
            longest = _EVALUATOR.longest_list(activation)
            if expression.macros * max(longest, 1) ** expression.depth > COST_LIMIT:
                raise CelEvaluationError(
                    f"the expression's estimated cost ({longest} items, comprehensions nested"
                    f" {expression.depth} deep) exceeds the limit of {COST_LIMIT:,}"
                )
        try:
            return _EVALUATOR.run(expression.program, activation, expression.static)
        except KeyError as exc:
            raise CelEvaluationError(f"no such key: {exc.args[0] if exc.args else exc}") from None
        except (RuntimeError, TypeError, ValueError, OverflowError, ZeroDivisionError) as exc:
            raise CelEvaluationError(_first_line(exc)) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:500]


def _longest_list(value: object, depth: int = 0) -> int:
    """The length of the longest list within ``value`` (bounded walk)."""
    if depth > 64:
        return 0
    if isinstance(value, list | tuple):
        inner = max((_longest_list(item, depth + 1) for item in value), default=0)
        return max(len(value), inner)
    if isinstance(value, Mapping):
        return max((_longest_list(item, depth + 1) for item in value.values()), default=0)
    return 0
