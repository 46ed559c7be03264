"""Label selectors: both written forms, the API server's validation, and matching."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockade.errors import SelectorError, StockadeError
from stockade.model.selectors import (
    LabelSelector,
    Operator,
    Requirement,
    label_value,
    parse_label_selector,
    parse_selector_query,
)

_keys = st.sampled_from(["app", "tier", "env", "team", "example.com/role", "a.b_c-d"])
_values = st.sampled_from(["a", "b", "web", "db", "v1.2", ""])
_labels = st.dictionaries(_keys, _values, max_size=5)
_non_strings = st.one_of(
    st.integers(), st.floats(allow_nan=False), st.booleans(), st.lists(st.text(), max_size=2), st.just({"a": "b"})
)

_set_expression = st.builds(
    lambda key, values, operator: {"key": key, "operator": operator, "values": sorted(values)},
    _keys,
    st.frozensets(_values, min_size=1, max_size=3),
    st.sampled_from(["In", "NotIn"]),
)
_key_expression = st.builds(
    lambda key, operator: {"key": key, "operator": operator}, _keys, st.sampled_from(["Exists", "DoesNotExist"])
)
_expression = st.one_of(_set_expression, _key_expression)


def _query(match_labels: dict[str, str], expressions: list[dict[str, Any]]) -> str:
    """The labelSelector query string of a LabelSelector mapping, written independently of the parser."""
    terms = [f"{key}={value}" for key, value in match_labels.items()]
    for expression in expressions:
        key, operator = expression["key"], expression["operator"]
        if operator == "Exists":
            terms.append(key)
        elif operator == "DoesNotExist":
            terms.append(f"!{key}")
        else:
            word = "in" if operator == "In" else "notin"
            terms.append(f"{key} {word} ({', '.join(expression['values'])})")
    return ",".join(terms)


# -- matching -------------------------------------------------------------------------------------


@given(_labels, _labels)
def test_match_labels_is_subset(selector: dict[str, str], labels: dict[str, str]) -> None:
    assert parse_label_selector({"matchLabels": selector}).matches(labels) is (selector.items() <= labels.items())


@given(_keys, st.frozensets(_values, min_size=1), _labels)
def test_in_and_not_in_are_complements(key: str, values: frozenset[str], labels: dict[str, str]) -> None:
    inside = Requirement(key, Operator.IN, values).matches(labels)
    assert inside is not Requirement(key, Operator.NOT_IN, values).matches(labels)
    assert inside is (labels.get(key) in values)


@given(_keys, _labels)
def test_exists_and_does_not_exist_are_complements(key: str, labels: dict[str, str]) -> None:
    assert Requirement(key, Operator.EXISTS).matches(labels) is (key in labels)
    assert Requirement(key, Operator.DOES_NOT_EXIST).matches(labels) is (key not in labels)


@given(_labels, st.lists(_expression, max_size=4), _labels)
def test_selector_is_the_conjunction_of_its_parts(
    match_labels: dict[str, str], expressions: list[dict[str, Any]], labels: dict[str, str]
) -> None:
    whole = parse_label_selector({"matchLabels": match_labels, "matchExpressions": expressions})
    parts = [parse_label_selector({"matchLabels": match_labels})] + [
        parse_label_selector({"matchExpressions": [e]}) for e in expressions
    ]
    assert whole.matches(labels) is all(p.matches(labels) for p in parts)


@given(_labels)
def test_empty_selector_selects_everything(labels: dict[str, str]) -> None:
    for selector in (
        parse_label_selector({}),
        parse_label_selector({"matchLabels": {}, "matchExpressions": []}),
        parse_selector_query(""),
        parse_selector_query("  "),
    ):
        assert selector.selects_all and selector.matches(labels)


@given(st.lists(_expression, min_size=1, max_size=4), _labels, _keys, _non_strings)
def test_a_label_that_is_not_a_string_reads_as_absent(
    expressions: list[dict[str, Any]], labels: dict[str, str], key: str, odd: object
) -> None:
    # The API server refuses an object with such a label, so it can never be matched on.
    selector = parse_label_selector({"matchExpressions": expressions})
    without = {k: v for k, v in labels.items() if k != key}
    assert selector.matches({**labels, key: odd}) is selector.matches(without)


def test_a_null_label_is_the_empty_string() -> None:
    assert label_value({"app": None}, "app") == ""
    assert parse_label_selector({"matchLabels": {"app": ""}}).matches({"app": None})
    assert label_value({"app": 3}, "app") is None
    assert label_value({}, "app") is None


LABELS = {"app": "web", "tier": "gold", "odd": 5}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ({"matchLabels": {"app": "web"}}, True),
        ({"matchLabels": {"app": "web", "tier": "silver"}}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["gold", "x"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["gold"]}]}, False),
        ({"matchExpressions": [{"key": "absent", "operator": "NotIn", "values": ["gold"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, False),
        ({"matchExpressions": [{"key": "odd", "operator": "Exists"}]}, False),
        ({"matchExpressions": [{"key": "odd", "operator": "NotIn", "values": ["5"]}]}, True),
        ({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "x", "operator": "Exists"}]}, False),
    ],
)
def test_selector_matches(selector: dict[str, Any], matches: bool) -> None:
    assert parse_label_selector(selector).matches(LABELS) is matches


def test_equality_pairs_are_the_single_value_in_requirements() -> None:
    selector = parse_selector_query("app=web,tier in (a,b),team in (x),!old")
    assert selector.equality_pairs == (("app", "web"), ("team", "x"))


def test_key_prefixes_are_stripped() -> None:
    selector = parse_label_selector(
        {"matchLabels": {"k8s:app": "web", "any:tier": "db"}}, key_prefixes=("k8s:", "any:")
    )
    assert selector == parse_label_selector({"matchLabels": {"app": "web", "tier": "db"}})


# -- the two written forms ------------------------------------------------------------------------


@given(_labels, st.lists(_expression, max_size=4))
def test_query_and_mapping_forms_read_the_same(match_labels: dict[str, str], expressions: list[dict[str, Any]]) -> None:
    from_mapping = parse_label_selector({"matchLabels": match_labels, "matchExpressions": expressions})
    assert parse_selector_query(_query(match_labels, expressions)) == from_mapping


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tier=web", [Requirement("tier", Operator.IN, frozenset({"web"}))]),
        ("tier == web", [Requirement("tier", Operator.IN, frozenset({"web"}))]),
        ("tier!=web", [Requirement("tier", Operator.NOT_IN, frozenset({"web"}))]),
        ("tier=", [Requirement("tier", Operator.IN, frozenset({""}))]),
        ("tier", [Requirement("tier", Operator.EXISTS)]),
        (" !tier ", [Requirement("tier", Operator.DOES_NOT_EXIST)]),
        ("env notin (qa,dev)", [Requirement("env", Operator.NOT_IN, frozenset({"qa", "dev"}))]),
        ("env in ()", [Requirement("env", Operator.IN, frozenset({""}))]),
        ("env in (,a,)", [Requirement("env", Operator.IN, frozenset({"", "a"}))]),
        (
            "example.com/role in (a, b),x",
            [Requirement("example.com/role", Operator.IN, frozenset({"a", "b"})), Requirement("x", Operator.EXISTS)],
        ),
    ],
)
def test_query_examples(query: str, expected: list[Requirement]) -> None:
    assert parse_selector_query(query) == LabelSelector(tuple(expected))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("tier=a=b", "expected ',' or the end"),
        ("tier in a", "expected '(' after in / notin"),
        ("tier in (a b)", "in a value set, found b"),
        ("tier in (a", "in a value set, found the end"),
        ("replicas>2", "'>' after 'replicas' is not supported"),
        ("tier web", "'web' after 'tier' is not supported"),
        ("a,,b", "expected a label key, found ,"),
        ("!", "expected a label key, found the end"),
        ("tier=we b", "expected ',' or the end"),
        ("tier=-web", "'-web' is not a valid label value"),
        ("-tier", "'-tier' is not a valid label key"),
    ],
)
def test_query_errors(query: str, message: str) -> None:
    with pytest.raises(SelectorError, match=_escaped(message)):
        parse_selector_query(query)


# -- what the API server refuses ------------------------------------------------------------------


def _escaped(text: str) -> str:
    return "".join("\\" + c if c in "[]().*+?" else c for c in text)


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        (None, "selector is not a mapping"),
        ([], "selector is not a mapping"),
        ("app=web", "selector is not a mapping"),
        ({"matchLabels": ["app"]}, "matchLabels is not a mapping"),
        ({"matchLabels": {"app": True}}, "matchLabels.app: True is not a string"),
        ({"matchLabels": {"app": 1}}, "matchLabels.app: 1 is not a string"),
        ({"matchLabels": {1: "a"}}, "matchLabels.1: 1 is not a string"),
        ({"matchExpressions": {"key": "a"}}, "matchExpressions is not a list"),
        ({"matchExpressions": ["a"]}, "matchExpressions[0] is not a mapping"),
        ({"matchExpressions": [{"operator": "Exists"}]}, "matchExpressions[0].key: None is not a string"),
        ({"matchExpressions": [{"key": "a", "operator": "in", "values": ["x"]}]}, "is not one of"),
        ({"matchExpressions": [{"key": "a", "operator": ["In"], "values": ["x"]}]}, "is not one of"),
        ({"matchExpressions": [{"key": "a", "operator": "In"}]}, "needs at least one value"),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}, "needs at least one value"),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}, "takes no values"),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": "x"}]}, "values is not a list"),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": [1]}]}, "values[0]: 1 is not a string"),
        ({"matchLabels": {"": "a"}}, "'' is not a valid label key"),
        ({"matchLabels": {"a/b/c": "a"}}, "'a/b/c' is not a valid label key"),
        ({"matchLabels": {"Example.com/a": "a"}}, "'Example.com/a' is not a valid label key"),
        ({"matchLabels": {"x" * 64: "a"}}, "is not a valid label key"),
        ({"matchLabels": {"a": "x" * 64}}, "is not a valid label value"),
        ({"matchLabels": {"a": "with space"}}, "'with space' is not a valid label value"),
    ],
)
def test_selector_errors_say_what_is_wrong(selector: Any, message: str) -> None:
    with pytest.raises(SelectorError, match=_escaped(message)):
        parse_label_selector(selector)


@given(_keys, _non_strings, st.booleans())
def test_a_selector_holding_a_value_that_is_not_a_string_is_invalid(key: str, odd: object, in_labels: bool) -> None:
    raw = (
        {"matchLabels": {key: odd}}
        if in_labels
        else {"matchExpressions": [{"key": key, "operator": "In", "values": ["a", odd]}]}
    )
    with pytest.raises(SelectorError, match="is not a string"):
        parse_label_selector(raw)


def test_null_values_are_empty_strings_as_the_api_server_decodes_them() -> None:
    assert parse_label_selector({"matchLabels": {"app": None}}) == parse_selector_query("app=")
    in_null = {"matchExpressions": [{"key": "app", "operator": "In", "values": [None]}]}
    assert parse_label_selector(in_null) == LabelSelector((Requirement("app", Operator.IN, frozenset({""})),))


def test_keys_and_values_the_api_server_accepts() -> None:
    accepted = {"app.kubernetes.io/name": "web", "a" * 63: "b" * 63, "x": "", "k8s-app": "A_b.c-9"}
    assert parse_label_selector({"matchLabels": accepted}).matches(accepted)


def test_selector_error_is_a_stockade_error_and_a_value_error() -> None:
    assert issubclass(SelectorError, StockadeError)
    assert issubclass(SelectorError, ValueError)
