"""Rule selection: every form a user can type, and the refusal to run nothing."""

from __future__ import annotations

import pytest

from stockade.engine.selection import Selection, SelectionError, select_rules
from stockade.frameworks import framework_ids
from stockade.model.finding import Severity
from stockade.rules import load_rules

RULES = load_rules()


def ids(selection: Selection) -> set[str]:
    return {r.id for r in select_rules(RULES, selection, framework_ids())}


def test_default_selects_the_default_rules_and_all_selects_everything() -> None:
    default = ids(Selection())
    assert default == {r.id for r in RULES.values() if r.default}
    assert "WL-001" in default and "PSS-002" not in default  # PSS checks restate WL: opt-in
    assert "PSS-020" in default  # namespace rules are not restatements
    assert ids(Selection(include=("all",))) == set(RULES)


def test_naming_opt_in_rules_brings_them_in() -> None:
    assert ids(Selection(include=("PSS",))) == {r for r in RULES if r.startswith("PSS-")}
    assert "PSS-002" in ids(Selection(include=("pss-privileged",)))
    restricted = ids(Selection(frameworks=("pss-restricted",)))
    assert "PSS-015" in restricted
    assert ids(Selection(exclude=("WL",))) == {r.id for r in RULES.values() if r.default and r.family != "WL"}


def test_by_id_name_family_and_area() -> None:
    assert ids(Selection(include=("wl-001",))) == {"WL-001"}
    assert ids(Selection(include=("host-pid",))) == {"WL-006"}
    assert ids(Selection(include=("WL",))) == {r for r in RULES if r.startswith("WL-")}
    assert ids(Selection(include=("container-privileges",))) == {
        r.id for r in RULES.values() if r.area == "container-privileges"
    }


def test_exclude_framework_and_severity() -> None:
    assert "WL-001" not in ids(Selection(exclude=("privileged-container",)))
    cis = ids(Selection(frameworks=("cis-1.10",)))
    assert cis and all("cis-1.10" in RULES[r].frameworks for r in cis)
    high = ids(Selection(min_severity=Severity.HIGH))
    assert high and all(RULES[r].severity.rank >= Severity.HIGH.rank for r in high)


@pytest.mark.parametrize(
    "selection",
    [
        Selection(include=("no-such-rule",)),
        Selection(frameworks=("iso-27001",)),
        Selection(include=("WL-001",), exclude=("WL-001",)),
    ],
)
def test_selection_that_runs_nothing_is_an_error(selection: Selection) -> None:
    with pytest.raises(SelectionError):
        select_rules(RULES, selection, framework_ids())


def test_selections_accept_commas_and_repeats() -> None:
    from stockade.api import ScanOptions, select

    chosen = select(ScanOptions(rules=["WL-001, WL-002", "WL-003", " ,"], skip_rules="WL-002,"))
    assert sorted(r.id for r in chosen) == ["WL-001", "WL-003"]


def test_every_framework_mapping_names_a_real_control() -> None:
    from stockade.frameworks import load_framework

    for rule in RULES.values():
        for framework_id, controls in rule.frameworks.items():
            framework = load_framework(framework_id)
            for control in controls:
                assert framework.control(control) is not None, (rule.id, framework_id, control)
