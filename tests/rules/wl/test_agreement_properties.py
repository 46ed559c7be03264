"""The WL rules and the Pod Security evaluator agree on generated pods, wrong-typed values included.

tests/pss/test_agreement.py holds the relations on the upstream fixtures (well-formed pods, exact
fields). Here the pods are drawn with wrong-typed values anywhere a check reads, and the relations
are per pod: a WL rule "holds" the pod when it fails or cannot evaluate some container of it.
The generated values hold no YAML 1.1 words but ``"true"``, which both read as denied.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from stockade.engine.evaluate import evaluate
from stockade.model.finding import Status
from stockade.pss import LATEST, PssResult, evaluate_pod
from stockade.rules import load_rules
from tests.helpers import inventory_from_raw
from tests.pss.strategies import pod_strategy

RULES = load_rules()
WL = [rule for rule in RULES.values() if rule.family == "WL"]

# WL rule → the check whose denial it restates exactly (per pod: the rule holds it ⇔ the check denies).
SAME_VERDICT = {
    "WL-001": "privileged",
    "WL-002": "allowPrivilegeEscalation",
    "WL-009": "hostPathVolumes",
    "WL-010": "hostPorts",
}
# WL rule → checks one of which denies every pod it holds (the rule grades or narrows the check).
NARROWER = {
    "WL-003": ("runAsNonRoot", "runAsUser"),
    "WL-004": ("capabilities_baseline",),
    "WL-012": ("seccompProfile_restricted",),
}


def _held(pod: dict[str, Any]) -> tuple[set[str], list[str]]:
    """The WL rules that fail or cannot evaluate the pod, and the messages of their errors."""
    result = evaluate(inventory_from_raw([pod]), WL)
    assert not result.errors
    held = {f.rule_id for f in result.findings if f.status in (Status.FAIL, Status.ERROR)}
    errors = [f.message for f in result.findings if f.status is Status.ERROR]
    return held, errors


def _denied(*results: PssResult) -> set[str]:
    return {violation.check for result in results for violation in result.violations}


@settings(max_examples=300, deadline=None)
@given(drawn=pod_strategy(weird=True))
def test_wl_rules_hold_what_pod_security_denies(drawn: tuple[dict[str, Any], dict[str, Any]]) -> None:
    metadata, spec = drawn
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "n", **metadata}, "spec": spec}
    held, errors = _held(pod)
    denied = _denied(
        evaluate_pod(pod["metadata"], spec, "baseline", LATEST),
        evaluate_pod(pod["metadata"], spec, "restricted", LATEST),
    )
    # A rule never crashes on a shape: it reports the malformed field it could not read.
    assert all(message.startswith("could not evaluate: MalformedField: ") for message in errors), errors
    for rule_id, check in SAME_VERDICT.items():
        assert (rule_id in held) == (check in denied), (rule_id, check)
    assert ({"WL-006", "WL-007", "WL-008"} & held != set()) == ("hostNamespaces" in denied)
    for rule_id, checks in NARROWER.items():
        if rule_id in held:
            assert set(checks) & denied, (rule_id, checks)
