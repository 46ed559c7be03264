"""Every upstream Pod Security Admission fixture, evaluated at its level and version."""

from __future__ import annotations

import pytest

from stockade.pss import evaluate_pod, parse_version
from tests.pss.fixtures import CONFORMANCE_ROOT, Fixture, discover

FIXTURES = discover()


def test_fixture_tree_is_present_and_complete() -> None:
    assert CONFORMANCE_ROOT.is_dir(), f"conformance fixtures not found at {CONFORMANCE_ROOT}"
    levels_versions = {(f.level, f.minor) for f in FIXTURES}
    assert levels_versions == {(level, minor) for level in ("baseline", "restricted") for minor in range(34)}
    # Counts from the fixture README: a sample that proves the walk found every directory.
    assert sum(1 for f in FIXTURES if (f.level, f.minor, f.verdict) == ("restricted", 33, "fail")) == 69
    assert sum(1 for f in FIXTURES if (f.level, f.minor, f.verdict) == ("baseline", 0, "fail")) == 29


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.id)
def test_fixture(fixture: Fixture) -> None:
    pod = fixture.load()
    version = parse_version(fixture.version)
    result = evaluate_pod(pod.get("metadata") or {}, pod["spec"], fixture.level, version)
    if fixture.verdict == "pass":
        assert result.allowed, [v.message for v in result.violations]
        assert result.violations == ()
        return
    assert not result.allowed
    violated = [v.check.lower() for v in result.violations]
    expected = fixture.expected_check()
    assert expected in violated, [v.message for v in result.violations]
    stem = fixture.path.stem.rstrip("0123456789")
    if expected != stem:
        assert stem not in violated, "an overridden baseline check must not run at restricted"
