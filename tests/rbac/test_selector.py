"""Label selectors as the aggregation controller reads them."""

from __future__ import annotations

from typing import Any

import pytest

from stockade.rbac.selector import SelectorError, parse_selector

LABELS = {"app": "web", "tier": "gold", "odd": 5}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ({}, True),
        ({"matchLabels": {"app": "web"}}, True),
        ({"matchLabels": {"app": "web", "tier": "silver"}}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["gold", "x"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["gold"]}]}, False),
        ({"matchExpressions": [{"key": "absent", "operator": "NotIn", "values": ["gold"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, False),
        # A non-string label value cannot exist on a real object: it counts as absent.
        ({"matchExpressions": [{"key": "odd", "operator": "Exists"}]}, False),
        ({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "x", "operator": "Exists"}]}, False),
    ],
)
def test_selector_matches(selector: dict[str, Any], matches: bool) -> None:
    assert parse_selector(selector).matches(LABELS) is matches


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ([], "selector is not a mapping"),
        ({"matchLabels": ["app"]}, "matchLabels is not a mapping"),
        ({"matchLabels": {"app": True}}, "is not a string pair"),
        ({"matchExpressions": {"key": "a"}}, "matchExpressions is not a list"),
        ({"matchExpressions": ["a"]}, "matchExpressions[0] is not a mapping"),
        ({"matchExpressions": [{"operator": "Exists"}]}, "matchExpressions[0].key is missing"),
        ({"matchExpressions": [{"key": "a", "operator": "in", "values": ["x"]}]}, "is not one of"),
        ({"matchExpressions": [{"key": "a", "operator": "In"}]}, "needs at least one value"),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}, "takes no values"),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": [1]}]}, "not a list of strings"),
    ],
)
def test_selector_errors_say_what_is_wrong(selector: Any, message: str) -> None:
    with pytest.raises(SelectorError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_selector(selector)
