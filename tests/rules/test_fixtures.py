"""Every rule's fixtures (tests/rules/<ID>/{fail,pass}/*.yaml) through the real loader and scan().

The format of the header comments is in tests/rules/README.md.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import stockade
from stockade.model.finding import Finding, Status
from stockade.rules.base import RuleConfig

HERE = Path(__file__).parent
_RULE_DIR = re.compile(r"^[A-Z]{2,3}-\d{3}$")


@dataclass(frozen=True)
class Expected:
    resource: str
    path: str
    severity: str | None = None
    line: int | None = None


@dataclass
class Fixture:
    rule_id: str
    outcome: str  # "fail" or "pass"
    path: Path
    expected: list[Expected] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    input_errors: list[str] = field(default_factory=list)
    skipped: str | None = None
    config: RuleConfig = field(default_factory=RuleConfig)

    @property
    def id(self) -> str:
        return f"{self.rule_id}/{self.outcome}/{self.path.name}"


def _expected(text: str, where: str) -> Expected:
    parts = text.split()
    if len(parts) < 2:
        raise ValueError(f"{where}: expect needs RESOURCE and PATH, got {text!r}")
    resource, path, *rest = parts
    severity = line = None
    for token in rest:
        if token.startswith("line="):
            line = int(token.removeprefix("line="))
        else:
            severity = token
    return Expected(resource, "" if path == "-" else path, severity, line)


def parse_fixture(rule_id: str, outcome: str, path: Path) -> Fixture:
    fixture = Fixture(rule_id, outcome, path)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.startswith("# "):
            continue
        key, sep, value = line[2:].partition(":")
        value = value.strip()
        where = f"{path}:{number}"
        if not sep:
            continue
        if key == "expect":
            fixture.expected.append(_expected(value, where))
        elif key == "expect-error":
            resource, _, text = value.partition(" ")
            fixture.errors.append((resource, text.strip()))
        elif key == "expect-input-error":
            fixture.input_errors.append(value)
        elif key == "expect-skipped":
            fixture.skipped = value
        elif key == "config":
            fixture.config = RuleConfig(
                **{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(value).items()}
            )
    return fixture


def discover(root: Path = HERE) -> list[Fixture]:
    found = []
    for rule_dir in sorted(p for p in root.iterdir() if p.is_dir() and _RULE_DIR.match(p.name)):
        for outcome in ("fail", "pass"):
            for path in sorted((rule_dir / outcome).glob("*.yaml")):
                found.append(parse_fixture(rule_dir.name, outcome, path))
    return found


FIXTURES = discover()


def test_fixture_discovery_finds_fixtures() -> None:
    # Guards the parametrisation below from being silently empty.
    assert len(FIXTURES) >= 2
    assert {f.outcome for f in FIXTURES} == {"fail", "pass"}


def test_every_fixture_folder_names_a_rule() -> None:
    rules = stockade.select(stockade.ScanOptions(rules=["all"]))
    ids = {r.id for r in rules}
    assert {f.rule_id for f in FIXTURES} <= ids


def test_every_rule_has_fail_and_pass_fixtures() -> None:
    # A rule without fixtures has no proof that it fires or that it stays quiet on a near miss.
    have = {(f.rule_id, f.outcome) for f in FIXTURES}
    rules = stockade.select(stockade.ScanOptions(rules=["all"]))
    assert len(rules) >= 70
    missing = [f"{r.id}/{outcome}" for r in rules for outcome in ("fail", "pass") if (r.id, outcome) not in have]
    assert missing == [], f"rules without fixtures: {missing}"


def _failed(result: stockade.ScanResult, rule_id: str) -> list[Finding]:
    return [f for f in result.findings if f.rule_id == rule_id and f.status is Status.FAIL]


def _matches(expected: Expected, finding: Finding) -> bool:
    return (
        expected.resource == finding.resource.display
        and expected.path == finding.path
        and (expected.severity is None or expected.severity == finding.severity.value)
        and (expected.line is None or expected.line == finding.location.line)
    )


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.id)
def test_fixture(fixture: Fixture) -> None:
    if fixture.outcome == "fail":
        assert fixture.expected or fixture.errors or fixture.input_errors or fixture.skipped, (
            f"{fixture.path}: a fail fixture says what it expects (# expect: …)"
        )
    result = stockade.scan(
        [stockade.FileSource([str(fixture.path)])],
        stockade.ScanOptions(rules=[fixture.rule_id], config=fixture.config),
    )
    if fixture.skipped is not None:
        assert fixture.skipped in result.skipped_rules.get(fixture.rule_id, ""), result.skipped_rules
        return
    assert fixture.rule_id not in result.skipped_rules, result.skipped_rules
    for text in fixture.input_errors:
        assert any(text in e.message for e in result.errors), result.errors
    if not fixture.input_errors:
        assert result.errors == [], result.errors
    errors = [f for f in result.findings if f.status is Status.ERROR]
    for resource, text in fixture.errors:
        assert any(f.resource.display == resource and text in f.message for f in errors), errors
    assert len(errors) == len(fixture.errors), errors

    failed = _failed(result, fixture.rule_id)
    unmatched = list(failed)
    for expected in fixture.expected:
        hit = next((f for f in unmatched if _matches(expected, f)), None)
        assert hit is not None, (
            f"expected {expected}, got {[(f.resource.display, f.path, f.severity.value, f.location.line) for f in unmatched]}"
        )
        unmatched.remove(hit)
    assert unmatched == [], f"unexpected findings: {[(f.resource.display, f.path, f.message) for f in unmatched]}"
    if fixture.outcome == "pass":
        assert result.passes.by_rule.get(fixture.rule_id, 0) > 0, "a pass fixture must be evaluated by the rule"
    else:
        assert Counter(f.status for f in failed + errors) or fixture.input_errors
