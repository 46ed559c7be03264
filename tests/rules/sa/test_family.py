"""The SA rules: registered from one module each, in their area, each with fail and pass fixtures."""

from __future__ import annotations

from stockade.model.finding import Area
from tests.rules.family import assert_family


def test_every_sa_rule_has_its_own_module_and_fixtures() -> None:
    assert_family("SA", [f"SA-{n:03d}" for n in range(1, 4)], Area.SERVICE_ACCOUNTS)
