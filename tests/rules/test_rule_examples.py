"""Every rule's documented Example fires it, and its Use-instead does not."""

from __future__ import annotations

import pytest

from stockade.engine.evaluate import evaluate
from stockade.model.finding import Status
from stockade.rules import load_rules
from stockade.rules.base import Rule, RuleConfig
from tests.helpers import inventory_from_yaml

RULES = load_rules()
# Rules that need configuration to apply get it here (the rule is skipped without it).
CONFIG = RuleConfig(allowed_registries=("registry.example.com",))


def _statuses(rule: Rule, text: str) -> list[Status]:
    result = evaluate(inventory_from_yaml(text), [rule], config=CONFIG)
    assert rule.id not in result.skipped_rules, result.skipped_rules
    assert not [f for f in result.findings if f.status is Status.ERROR], result.findings
    return [f.status for f in result.findings]


@pytest.mark.parametrize("rule", RULES.values(), ids=lambda r: r.id)
def test_example_fires(rule: Rule) -> None:
    assert Status.FAIL in _statuses(rule, rule.doc.example)


@pytest.mark.parametrize("rule", RULES.values(), ids=lambda r: r.id)
def test_use_instead_passes(rule: Rule) -> None:
    result = evaluate(inventory_from_yaml(rule.doc.use_instead), [rule], config=CONFIG)
    assert [f for f in result.findings if f.status is not Status.PASS] == []
    assert result.passes.by_rule.get(rule.id, 0) > 0, "the Use-instead example must be evaluated, not ignored"


@pytest.mark.parametrize("rule", RULES.values(), ids=lambda r: r.id)
def test_metadata_is_complete(rule: Rule) -> None:
    assert rule.title and not rule.title.lower().startswith("ensure")
    assert rule.remediation
    assert rule.doc.what and rule.doc.why
    assert rule.frameworks, "every rule maps to at least one framework"
