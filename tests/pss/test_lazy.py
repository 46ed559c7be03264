"""Violations render their message and remediation on first use, and still behave as plain values."""

from __future__ import annotations

import copy
import json
import pickle

from stockade.pss import CheckViolation
from tests.pss.pods import evaluate, hardened


def _violating() -> dict[str, object]:
    pod = hardened()
    spec = pod["spec"]
    spec["hostNetwork"] = True
    spec["containers"][0]["securityContext"].update(privileged=True, capabilities={"add": ["SYS_ADMIN"]})
    spec["volumes"].append({"name": "root", "hostPath": {"path": "/"}})
    return pod


def test_deferred_text_equals_a_violation_built_from_the_same_values() -> None:
    for violation in evaluate(_violating(), "restricted").violations:
        eager = CheckViolation(
            violation.check, violation.message, violation.containers, violation.fields, violation.remediation
        )
        assert eager == violation
        assert hash(eager) == hash(violation)
        assert repr(eager) == repr(violation)
        assert violation.message is violation.message  # rendered once, then kept


def test_pickle_and_copy_keep_the_rendered_values() -> None:
    violations = evaluate(_violating(), "baseline").violations
    assert [v.check for v in violations] == ["hostNamespaces", "privileged", "capabilities_baseline", "hostPathVolumes"]
    restored = pickle.loads(pickle.dumps(violations))
    assert restored == violations
    assert copy.deepcopy(violations) == violations
    assert json.loads(restored[1].remediation) == {
        "spec": {"containers": [{"name": "app", "securityContext": {"privileged": False}}]}
    }


def test_renamed_keeps_text_and_changes_the_check() -> None:
    (violation,) = [v for v in evaluate(_violating(), "baseline").violations if v.check == "privileged"]
    other = violation.renamed("privileged_elsewhere")
    assert other.check == "privileged_elsewhere"
    assert (other.message, other.fields, other.remediation) == (
        violation.message,
        violation.fields,
        violation.remediation,
    )
    assert other != violation


def test_equality_with_other_types_is_not_implemented() -> None:
    (violation, *_) = evaluate(_violating(), "baseline").violations
    assert violation != ("hostNamespaces",)
    assert violation.__eq__(object()) is NotImplemented


def test_pickle_and_renaming_keep_the_malformed_fields() -> None:
    pod = hardened()
    pod["spec"]["containers"][0]["securityContext"]["privileged"] = 1
    (violation,) = evaluate(pod, "baseline").violations
    assert violation.malformed
    restored = pickle.loads(pickle.dumps(violation))
    assert restored == violation
    assert restored.malformed == violation.malformed
    assert violation.renamed("other").malformed == violation.malformed
