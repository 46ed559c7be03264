"""Properties over generated pods: level ordering, result invariants, remediation."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.pss import checks_for, evaluate_pod, parse_version
from tests.pss.fixtures import OVERRIDDEN_BY
from tests.pss.pods import apply_patch
from tests.pss.strategies import pod_strategy

VERSIONS = st.integers(0, 40).map(lambda minor: parse_version(f"v1.{minor}"))


@settings(max_examples=600, deadline=None)
@given(pod=pod_strategy(weird=True), version=VERSIONS)
def test_allowed_at_restricted_implies_allowed_at_baseline(
    pod: tuple[dict[str, Any], dict[str, Any]], version: Any
) -> None:
    metadata, spec = pod
    restricted = evaluate_pod(metadata, spec, "restricted", version)
    baseline = evaluate_pod(metadata, spec, "baseline", version)
    if restricted.allowed:
        assert baseline.allowed, [v.message for v in baseline.violations]
    # Stronger, and informative on every sample: each baseline violation reappears at restricted,
    # under its own id or under the restricted check that replaces it at this version.
    strict = {v.check.lower() for v in restricted.violations}
    for violation in baseline.violations:
        check = violation.check.lower()
        replacement, since = OVERRIDDEN_BY.get(check, (check, 0))
        assert (replacement if version.effective_minor >= since else check) in strict, violation
    for level, result in (("restricted", restricted), ("baseline", baseline)):
        assert result.allowed is (result.violations == ())
        ids = [info.id for info in checks_for(level, version)]  # type: ignore[arg-type]
        assert [v.check for v in result.violations] == [i for i in ids if i in {v.check for v in result.violations}]
        for violation in result.violations:
            assert violation.fields, violation
            assert violation.message.split(" (", 1)[1].endswith(")"), violation


@settings(max_examples=400, deadline=None)
@given(pod=pod_strategy(weird=False), version=VERSIONS, level=st.sampled_from(["baseline", "restricted"]))
def test_remediation_clears_each_violation(
    pod: tuple[dict[str, Any], dict[str, Any]], version: Any, level: Any
) -> None:
    metadata, spec = pod
    whole = {"metadata": metadata, "spec": spec}
    result = evaluate_pod(metadata, spec, level, version)
    for violation in result.violations:
        fixed = apply_patch(whole, json.loads(violation.remediation))
        after = evaluate_pod(fixed["metadata"], fixed["spec"], level, version)
        assert violation.check not in [v.check for v in after.violations], (violation, after)
        whole = fixed
    assert evaluate_pod(whole["metadata"], whole["spec"], level, version).allowed
