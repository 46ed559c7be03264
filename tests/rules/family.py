"""What every converted rule family promises: one module per rule, named after it, with fixtures."""

from __future__ import annotations

from pathlib import Path

from stockade.model.finding import Area
from stockade.rules import load_rules

FIXTURES = Path(__file__).resolve().parent


def assert_family(family: str, ids: list[str], area: Area) -> None:
    """The family's rules are exactly ``ids``, in ``area``, each in ``rules/<family>/<id>_<name>.py``
    and each with at least one fail and one pass fixture."""
    assert ids, "name the rules the family must have"
    rules = [r for r in load_rules().values() if r.family == family]
    assert [r.id for r in rules] == ids
    package = family.lower()
    for found in rules:
        assert found.area is area, found.id
        number = found.id.split("-")[1]
        assert found.check.__module__ == f"stockade.rules.{package}.{package}{number}_{found.name.replace('-', '_')}"
    missing = [f"{rule_id}/{outcome}" for rule_id in ids for outcome in ("fail", "pass")]
    assert [where for where in missing if not list((FIXTURES / where).glob("*.yaml"))] == []
