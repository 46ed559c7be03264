"""CEL as Kubernetes evaluates it in admission policies, on the ``cel`` package
(``common-expression-language``): its standard library and extensions, plus the Kubernetes
libraries it lacks (:mod:`stockade.policies.cel_k8s`), and a cost bound.

One :class:`CelEnvironment` per policy compiles its expressions once. Values reach expressions
through a variable resolver reading the activation of the evaluation in progress, so that
evaluating does not rebuild the library's environment (a tenth of the time per evaluation).

Cost: CEL always terminates, but a comprehension nested in another over large lists can take
long. Kubernetes bounds each expression's cost (1,000,000 units per call); here the estimate is
the longest list among the inputs raised to the number of comprehension macros in the
expression, refused above the same figure before the expression runs. An expression nesting more
than :data:`MAX_MACROS` comprehensions is refused when compiled.
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
from stockade.policies.model import PolicyDefinitionError

COST_LIMIT: Final = 1_000_000
MAX_MACROS: Final = 8
MAX_EXPRESSION_LENGTH: Final = 5_000  # characters, as the API server's validation allows
_MACRO = re.compile(r"\.\s*(all|exists|exists_one|map|filter)\s*\(")
_UNSUPPORTED = {"authorizer": "the authorizer library (authorizer.group(...).check(...)) is not supported"}
_NULL = object()


class CelEvaluationError(Exception):
    """An expression failed at run time (a missing field, a wrong type, the cost bound)."""


@dataclass(frozen=True, slots=True)
class Expression:
    source: str
    program: Any
    macros: int


class CelEnvironment:
    """Compiles and runs the expressions of one policy. ``roots``: the variable names expressions
    may use (``object``, ``params``, …); the others are undefined."""

    def __init__(self, roots: Iterable[str]) -> None:
        self.roots = tuple(roots)
        self._lock = threading.Lock()
        self._current: Mapping[str, Any] = {}
        context = cel.Context()
        stdlib.add_stdlib_to_context(context)
        for name, function in kubernetes_functions().items():
            context.add_function(name, function)
        for root in self.roots:
            context.add_variable(root, None)  # a resolver answering None falls through to null
        context.set_variable_resolver(self._resolve)
        self._context = context

    def _resolve(self, name: str) -> Any:
        value = self._current.get(name, _NULL)
        return None if value is _NULL else value

    def compile(self, source: object, where: str) -> Expression:
        """``source`` compiled; :class:`PolicyDefinitionError` naming ``where`` when it cannot be."""
        if not isinstance(source, str) or not source.strip():
            raise PolicyDefinitionError(f"{where}: an expression must be a non-empty string")
        if len(source) > MAX_EXPRESSION_LENGTH:
            raise PolicyDefinitionError(f"{where}: the expression is longer than {MAX_EXPRESSION_LENGTH} characters")
        for name, why in _UNSUPPORTED.items():
            if re.search(rf"\b{name}\b", source):
                raise PolicyDefinitionError(f"{where}: {why}")
        macros = len(_MACRO.findall(source))
        if macros > MAX_MACROS:
            raise PolicyDefinitionError(
                f"{where}: {macros} comprehensions in one expression: its cost would exceed the limit"
            )
        try:
            program = cel.compile(source)
        except (ValueError, RuntimeError) as exc:
            raise PolicyDefinitionError(f"{where}: the expression does not compile: {_first_line(exc)}") from None
        return Expression(source, program, macros)

    def run(self, expression: Expression, activation: Mapping[str, Any]) -> Any:
        """The value of ``expression``; :class:`CelEvaluationError` when it fails or costs too much."""
        if expression.macros >= 1:
            longest = max((_longest_list(value) for value in activation.values()), default=0)
            if max(longest, 1) ** expression.macros > COST_LIMIT:
                raise CelEvaluationError(
                    f"the expression's estimated cost ({longest} items, {expression.macros} comprehensions)"
                    f" exceeds the limit of {COST_LIMIT:,}"
                )
        with self._lock:
            self._current = activation
            try:
                return expression.program.execute(self._context)
            except KeyError as exc:
                raise CelEvaluationError(f"no such key: {exc.args[0] if exc.args else exc}") from None
            except (RuntimeError, TypeError, ValueError, OverflowError, ZeroDivisionError) as exc:
                raise CelEvaluationError(_first_line(exc)) from None
            finally:
                self._current = {}


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
