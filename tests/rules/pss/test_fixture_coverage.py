"""Every PSS rule has fixtures that fire it and fixtures it passes (run by tests/rules/test_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

from stockade.rules import load_rules

FIXTURES = Path(__file__).resolve().parents[1]


def test_every_pss_rule_has_fail_and_pass_fixtures() -> None:
    ids = [rule.id for rule in load_rules().values() if rule.family == "PSS"]
    assert len(ids) == 23
    missing = [f"{rule_id}/{outcome}" for rule_id in ids for outcome in ("fail", "pass")]
    missing = [where for where in missing if not list((FIXTURES / where).glob("*.yaml"))]
    assert missing == []
