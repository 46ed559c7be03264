"""Kubernetes label selectors (``matchLabels`` + ``matchExpressions``), parsed once and matched often.

Semantics as in the API: every requirement must hold; an empty selector selects everything;
``In`` needs the key with one of the values, ``NotIn`` holds when the key is absent or has another
value, ``Exists`` / ``DoesNotExist`` look at the key only. A selector the API server would reject
(unknown operator, values that are not strings, wrong shapes) is returned as None by the parser
and callers treat it as selecting nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Operator(StrEnum):
    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


_OPERATORS = {op.value: op for op in Operator}


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: Operator
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, object]) -> bool:
        present = self.key in labels
        if self.operator is Operator.EXISTS:
            return present
        if self.operator is Operator.DOES_NOT_EXIST:
            return not present
        value = labels.get(self.key)
        inside = present and isinstance(value, str) and value in self.values
        return inside if self.operator is Operator.IN else not inside


@dataclass(frozen=True, slots=True)
class LabelSelector:
    match_labels: tuple[tuple[str, str], ...] = ()
    requirements: tuple[Requirement, ...] = ()

    @property
    def selects_all(self) -> bool:
        return not self.match_labels and not self.requirements

    def matches(self, labels: Mapping[str, object]) -> bool:
        for key, value in self.match_labels:
            if labels.get(key) != value:
                return False
        return all(requirement.matches(labels) for requirement in self.requirements)


def parse_selector(raw: object, *, key_prefixes: tuple[str, ...] = ()) -> LabelSelector | None:
    """Parse a LabelSelector object; ``key_prefixes`` are stripped from keys (Cilium's ``k8s:``)."""
    if raw is None:
        return LabelSelector()
    if not isinstance(raw, Mapping):
        return None

    def key_of(key: object) -> str | None:
        if not isinstance(key, str) or not key:
            return None
        for prefix in key_prefixes:
            if key.startswith(prefix):
                return key[len(prefix) :]
        return key

    labels: list[tuple[str, str]] = []
    match_labels = raw.get("matchLabels")
    if match_labels is not None:
        if not isinstance(match_labels, Mapping):
            return None
        for key, value in match_labels.items():
            name = key_of(key)
            if name is None or not isinstance(value, str):
                return None
            labels.append((name, value))
    requirements: list[Requirement] = []
    expressions = raw.get("matchExpressions")
    if expressions is not None:
        if not isinstance(expressions, list):
            return None
        for expression in expressions:
            requirement = _requirement(expression, key_of)
            if requirement is None:
                return None
            requirements.append(requirement)
    return LabelSelector(tuple(labels), tuple(requirements))


def _requirement(raw: object, key_of: Callable[[object], str | None]) -> Requirement | None:
    if not isinstance(raw, Mapping):
        return None
    key = key_of(raw.get("key"))
    raw_operator = raw.get("operator")
    if key is None or not isinstance(raw_operator, str) or raw_operator not in _OPERATORS:
        return None
    operator = _OPERATORS[raw_operator]
    values = raw.get("values")
    if operator in (Operator.IN, Operator.NOT_IN):
        # The API requires a non-empty list of strings for In and NotIn.
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            return None
        return Requirement(key, operator, frozenset(values))
    if values not in (None, []):
        return None
    return Requirement(key, operator)
