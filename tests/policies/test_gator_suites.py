"""The Gatekeeper library's own suites (vendored unchanged in tests/data/gatekeeper): every case
passes with every engine its template provides."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stockade.policies.gator import run_suite

DATA = Path(__file__).resolve().parents[1] / "data" / "gatekeeper"
SUITES = sorted(DATA.rglob("suite.yaml"))


def test_the_six_suites_are_there() -> None:
    assert [p.parent.name for p in SUITES] == [
        "allowedrepos",
        "containerlimits",
        "httpsonly",
        "requiredlabels",
        "capabilities",
        "privileged-containers",
    ]


@pytest.mark.parametrize("suite", SUITES, ids=lambda p: p.parent.name)
def test_every_case_passes_with_every_engine(suite: Path) -> None:
    results = run_suite(suite)
    assert results, "a suite with no case"
    failed = [f"{r.test}/{r.case} [{r.engine}]: {r.why}" for r in results if not r.passed]
    assert failed == []
    cases = {(r.test, r.case) for r in results}
    engines = {r.engine for r in results}
    # Each case ran once per engine.
    assert len(results) == len(cases) * len(engines)


def test_templates_with_two_engines_run_both() -> None:
    engines = {suite.parent.name: {r.engine for r in run_suite(suite)} for suite in SUITES}
    both = sorted(name for name, found in engines.items() if found == {"rego", "cel"})
    assert both == ["capabilities", "privileged-containers", "requiredlabels"]
    assert all(found for found in engines.values())


def test_a_wrong_expectation_fails_with_the_reason(tmp_path: Path) -> None:
    source = DATA / "general" / "requiredlabels"
    suite = (source / "suite.yaml").read_text().replace("violations: no", "violations: yes", 1)
    for item in source.iterdir():
        target = tmp_path / item.name
        if item.is_dir():
            shutil.copytree(item, target)
        elif item.name != "suite.yaml":
            target.write_text(item.read_text())
    (tmp_path / "suite.yaml").write_text(suite)
    failed = [r for r in run_suite(tmp_path / "suite.yaml") if not r.passed]
    assert {(r.case, r.engine) for r in failed} == {("example-allowed", "rego"), ("example-allowed", "cel")}
    assert all(r.why.startswith("expected violations, got none") for r in failed)
