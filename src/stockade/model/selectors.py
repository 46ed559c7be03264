"""Kubernetes label selectors: parsed from a manifest's LabelSelector or a ``labelSelector`` query, matched often.

Semantics are the API server's. Every requirement must hold; a selector with no requirement selects
every object. ``matchLabels: {k: v}`` is ``k In (v)``. ``In`` needs the label with one of the values,
``NotIn`` holds when the label is absent or has another value, ``Exists`` / ``DoesNotExist`` look at
the key only. Keys are qualified names (``[prefix/]name``) and values label values (at most 63
characters, alphanumeric at both ends), checked as the API server checks them.

Label values are strings. The API server decodes a manifest into ``map[string]string`` and
``[]string`` fields, so it refuses an object whose selector (or labels) hold a number, a boolean, a
list or a mapping where a string belongs ("cannot unmarshal number into Go struct field … of type
string"). The one exception is ``null``, which its JSON decoder leaves as the empty string. Here a
selector like that raises :class:`~stockade.errors.SelectorError`: callers reading manifests treat
it as selecting nothing, never as selecting everything. A label on an object whose value is not a
string reads as absent, since such an object cannot exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from stockade.errors import SelectorError


class Operator(StrEnum):
    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


_OPERATORS = {op.value: op for op in Operator}
_SET_OPERATORS = (Operator.IN, Operator.NOT_IN)


_ABSENT = object()


def label_value(labels: Mapping[str, object], key: str) -> str | None:
    """The value of label ``key`` as the API server would hold it; None when it has none."""
    value = labels.get(key, _ABSENT)
    if value is None:
        return ""  # JSON null decodes to the empty string
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: Operator
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, object]) -> bool:
        value = label_value(labels, self.key)
        if self.operator is Operator.EXISTS:
            return value is not None
        if self.operator is Operator.DOES_NOT_EXIST:
            return value is None
        inside = value is not None and value in self.values
        return inside if self.operator is Operator.IN else not inside


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """All requirements must hold; no requirement at all selects every object."""

    requirements: tuple[Requirement, ...] = ()

    @property
    def selects_all(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, object]) -> bool:
        return all(requirement.matches(labels) for requirement in self.requirements)

    @property
    def equality_pairs(self) -> tuple[tuple[str, str], ...]:
        """``key=value`` requirements, usable to narrow candidates through a label index."""
        return tuple(
            (r.key, next(iter(r.values))) for r in self.requirements if r.operator is Operator.IN and len(r.values) == 1
        )


# -- validation, shared by both forms ---------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_DNS_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_PREFIX = re.compile(rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})*")
_VALUE = re.compile(r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")


def _valid_key(key: str) -> bool:
    prefix, slash, name = key.rpartition("/")
    if slash and (len(prefix) > 253 or not _PREFIX.fullmatch(prefix)):
        return False
    return _NAME.fullmatch(name) is not None


def _requirement(key: str, operator: Operator, values: list[str], where: str) -> Requirement:
    if not _valid_key(key):
        raise SelectorError(f"{where}: {key!r} is not a valid label key")
    for value in values:
        if not _VALUE.fullmatch(value):
            raise SelectorError(f"{where}: {value!r} is not a valid label value")
    if operator in _SET_OPERATORS and not values:
        raise SelectorError(f"{where}: operator {operator} needs at least one value")
    if operator not in _SET_OPERATORS and values:
        raise SelectorError(f"{where}: operator {operator} takes no values")
    return Requirement(key, operator, frozenset(values))


def _string(value: object, where: str) -> str:
    if value is None:
        return ""  # JSON null decodes to the empty string
    if not isinstance(value, str):
        raise SelectorError(f"{where}: {value!r} is not a string (the API server refuses non-string label values)")
    return value


# -- the LabelSelector object of manifests ------------------------------------------------------------


def parse_label_selector(raw: object, *, key_prefixes: tuple[str, ...] = ()) -> LabelSelector:
    """Read a LabelSelector mapping (``matchLabels``, ``matchExpressions``) or raise SelectorError.

    ``key_prefixes`` are stripped from keys first (Cilium's ``k8s:`` and ``any:`` label sources).
    """
    if not isinstance(raw, Mapping):
        raise SelectorError("selector is not a mapping")

    def key_of(key: object, where: str) -> str:
        if not isinstance(key, str):
            raise SelectorError(f"{where}: {key!r} is not a string")
        for prefix in key_prefixes:
            if key.startswith(prefix):
                return key[len(prefix) :]
        return key

    requirements: list[Requirement] = []
    match_labels = raw.get("matchLabels")
    if match_labels is not None:
        if not isinstance(match_labels, Mapping):
            raise SelectorError("matchLabels is not a mapping")
        for key, value in match_labels.items():
            where = f"matchLabels.{key}"
            requirements.append(_requirement(key_of(key, where), Operator.IN, [_string(value, where)], where))
    expressions = raw.get("matchExpressions")
    if expressions is not None:
        if not isinstance(expressions, list):
            raise SelectorError("matchExpressions is not a list")
        for position, expression in enumerate(expressions):
            where = f"matchExpressions[{position}]"
            if not isinstance(expression, Mapping):
                raise SelectorError(f"{where} is not a mapping")
            operator = expression.get("operator")
            if not isinstance(operator, str) or operator not in _OPERATORS:
                raise SelectorError(f"{where}: operator {operator!r} is not one of In, NotIn, Exists, DoesNotExist")
            values = expression.get("values")
            if values is None:
                values = []
            if not isinstance(values, list):
                raise SelectorError(f"{where}: values is not a list")
            strings = [_string(value, f"{where}.values[{i}]") for i, value in enumerate(values)]
            key = key_of(expression.get("key"), f"{where}.key")
            requirements.append(_requirement(key, _OPERATORS[operator], strings, where))
    return LabelSelector(tuple(requirements))


# -- the labelSelector query string: "tier=web,env in (prod,qa),!legacy" ------------------------------

# No leading blanks in the pattern: each blank position fails at once, so a query of spaces is
# read in linear time (a leading \s* retried at every position was cubic).
_TOKEN = re.compile(r"(?P<op>==|!=|=|!|\(|\)|,|<|>)|(?P<word>[^\s,()=!<>]++)")


def _tokens(text: str) -> list[str]:
    # Every character is a blank, an operator or part of a word: the matches cover all but blanks.
    return [found.group("op") or found.group("word") for found in _TOKEN.finditer(text)]


class _Query:
    """A cursor over the tokens of one query; each method reads one piece of the grammar."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pieces = _tokens(text)
        self.position = 0

    def peek(self) -> str | None:
        return self.pieces[self.position] if self.position < len(self.pieces) else None

    def take(self) -> str | None:
        piece = self.peek()
        self.position += piece is not None
        return piece

    def word(self, what: str) -> str:
        piece = self.take()
        if piece is None or not _is_word(piece):
            raise SelectorError(f"{self.text!r}: expected {what}, found {piece or 'the end'}")
        return piece

    def requirements(self) -> Iterator[Requirement]:
        if self.peek() is None:
            return
        while True:
            yield self.requirement()
            piece = self.take()
            if piece is None:
                return
            if piece != ",":
                raise SelectorError(f"{self.text!r}: expected ',' or the end, found {piece!r}")

    def requirement(self) -> Requirement:
        if self.peek() == "!":
            self.take()
            return _requirement(self.word("a label key"), Operator.DOES_NOT_EXIST, [], self.text)
        key = self.word("a label key")
        piece = self.peek()
        if piece in (None, ","):
            return _requirement(key, Operator.EXISTS, [], self.text)
        self.take()
        if piece in ("=", "=="):
            return _requirement(key, Operator.IN, [self.value()], self.text)
        if piece == "!=":
            return _requirement(key, Operator.NOT_IN, [self.value()], self.text)
        if piece in ("in", "notin"):
            operator = Operator.IN if piece == "in" else Operator.NOT_IN
            return _requirement(key, operator, self.value_set(), self.text)
        # Gt and Lt (``replicas>2``) exist for node selectors; nothing here asks for them.
        raise SelectorError(f"{self.text!r}: operator {piece!r} after {key!r} is not supported")

    def value(self) -> str:
        if self.peek() in (None, ","):
            return ""  # ``tier=`` selects the empty value
        return self.word("a value")

    def value_set(self) -> list[str]:
        # As the API server reads it, an empty slot is the empty value: "()" is {""}, "(a,)" is {"a", ""}.
        if self.take() != "(":
            raise SelectorError(f"{self.text!r}: expected '(' after in / notin")
        values: list[str] = []
        current: str | None = None
        while True:
            piece = self.take()
            if piece in (",", ")"):
                values.append(current or "")
                if piece == ")":
                    return values
                current = None
            elif piece is not None and _is_word(piece) and current is None:
                current = piece
            else:
                raise SelectorError(f"{self.text!r}: expected ',' or ')' in a value set, found {piece or 'the end'}")


def _is_word(piece: str) -> bool:
    return piece not in ("==", "!=", "=", "!", "(", ")", ",", "<", ">")


def parse_selector_query(text: str) -> LabelSelector:
    """Read the ``labelSelector`` query-string form (``a=b,c!=d,e in (x,y),f notin (z),g,!h``).

    The empty string selects everything, as in a list request without a selector.
    """
    return LabelSelector(tuple(_Query(text).requirements()))
