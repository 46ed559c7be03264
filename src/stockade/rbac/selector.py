"""Label selectors (matchLabels + matchExpressions) as used by ClusterRole aggregation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})


class SelectorError(ValueError):
    """A selector the API server would refuse; the message says which part."""


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str
    values: frozenset[str]

    def matches(self, labels: Mapping[str, Any]) -> bool:
        present = key_present(labels, self.key)
        if self.operator == "Exists":
            return present
        if self.operator == "DoesNotExist":
            return not present
        if self.operator == "In":
            return present and labels[self.key] in self.values
        # NotIn also holds when the label is absent.
        return not present or labels[self.key] not in self.values


def key_present(labels: Mapping[str, Any], key: str) -> bool:
    # A label value that is not a string cannot exist on a real object; treat it as absent.
    return isinstance(labels.get(key), str)


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """All requirements must hold; no requirements at all selects every object."""

    requirements: tuple[Requirement, ...]

    def matches(self, labels: Mapping[str, Any]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    @property
    def equality_pairs(self) -> tuple[tuple[str, str], ...]:
        """``key=value`` requirements, usable to narrow candidates through a label index."""
        return tuple(
            (r.key, next(iter(r.values))) for r in self.requirements if r.operator == "In" and len(r.values) == 1
        )


def parse_selector(raw: object) -> LabelSelector:
    """Read a LabelSelector mapping, or raise SelectorError naming the faulty part."""
    if not isinstance(raw, Mapping):
        raise SelectorError("selector is not a mapping")
    requirements: list[Requirement] = []
    match_labels = raw.get("matchLabels")
    if match_labels is not None:
        if not isinstance(match_labels, Mapping):
            raise SelectorError("matchLabels is not a mapping")
        for key, value in match_labels.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise SelectorError(f"matchLabels entry {key!r}: {value!r} is not a string pair")
            requirements.append(Requirement(key, "In", frozenset((value,))))
    expressions = raw.get("matchExpressions")
    if expressions is not None:
        if not isinstance(expressions, list):
            raise SelectorError("matchExpressions is not a list")
        for position, expression in enumerate(expressions):
            requirements.append(_parse_expression(position, expression))
    return LabelSelector(tuple(requirements))


def _parse_expression(position: int, raw: object) -> Requirement:
    where = f"matchExpressions[{position}]"
    if not isinstance(raw, Mapping):
        raise SelectorError(f"{where} is not a mapping")
    key, operator, values = raw.get("key"), raw.get("operator"), raw.get("values")
    if not isinstance(key, str) or not key:
        raise SelectorError(f"{where}.key is missing or not a string")
    if operator not in OPERATORS:
        raise SelectorError(f"{where}.operator {operator!r} is not one of In, NotIn, Exists, DoesNotExist")
    if values is None:
        values = []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise SelectorError(f"{where}.values is not a list of strings")
    if operator in ("In", "NotIn") and not values:
        raise SelectorError(f"{where}: operator {operator} needs at least one value")
    if operator in ("Exists", "DoesNotExist") and values:
        raise SelectorError(f"{where}: operator {operator} takes no values")
    return Requirement(key, str(operator), frozenset(values))
