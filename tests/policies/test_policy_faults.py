"""Bad policies and policies that misbehave: each is a clear problem naming the file and the
policy, the scan goes on, and nothing hangs or crashes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

import stockade
from stockade.api import ScanOptions, scan
from stockade.model.finding import Status
from stockade.policies.gatekeeper import bind_constraint, compile_template
from stockade.policies.load import read_policies
from stockade.policies.model import PolicyDefinitionError
from stockade.policies.rego import RegoWorker
from tests.policies.support import POD, constraint, pod_request, template


def write(path: Path, *documents: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump_all(documents))
    return path


def test_a_rego_syntax_error_names_the_template_and_the_line(tmp_path: Path) -> None:
    bad = template('package probe\nviolation[{"msg": m}] {\n  m := \n}\n')
    with pytest.raises(PolicyDefinitionError) as raised:
        compile_template(bad, "bad.yaml")
    assert "ConstraintTemplate 'stockadeprobe'" in str(raised.value)
    assert raised.value.source == "bad.yaml"
    policies = read_policies([write(tmp_path / "bad.yaml", bad, constraint())])
    assert policies.policies == ()
    messages = [p.message for p in policies.problems]
    assert any("the Rego does not compile" in m for m in messages), messages
    assert any("no ConstraintTemplate defines kind 'StockadeProbe'" in m for m in messages), messages


def test_an_unknown_builtin_is_named() -> None:
    bad = template('package probe\nviolation[{"msg": m}] {\n  m := no_such.builtin(1)\n}\n')
    with pytest.raises(PolicyDefinitionError, match=r"no_such\.builtin"):
        compile_template(bad, "bad.yaml")


def test_parameters_that_do_not_match_the_schema_are_refused() -> None:
    schema = {"type": "object", "properties": {"labels": {"type": "array", "items": {"type": "string"}}}}
    compiled = compile_template(template('package probe\nviolation[{"msg": "x"}] { false }\n', schema=schema), "t")
    with pytest.raises(PolicyDefinitionError, match=r"labels: 3 is not of type 'array'"):
        bind_constraint(compiled, constraint(parameters={"labels": 3}), "c.yaml")


def test_a_cel_expression_that_does_not_compile_names_the_policy(tmp_path: Path) -> None:
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "broken-cel"},
        "spec": {
            "matchConstraints": {
                "resourceRules": [
                    {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}
                ]
            },
            "validations": [{"expression": "object.spec.containers.all(c, "}],
        },
    }
    policies = read_policies([write(tmp_path / "broken.yaml", policy)])
    assert [(Path(p.source.split(":")[0]).name, p.object) for p in policies.problems] == [
        ("broken.yaml", "ValidatingAdmissionPolicy/broken-cel")
    ]
    assert "spec.validations[0].expression: the expression does not compile" in policies.problems[0].message


def test_a_policy_that_runs_away_stops_within_the_limit_and_the_next_one_works() -> None:
    worker = RegoWorker(time_limit=1.0)
    try:
        looping = template(
            'package probe\nviolation[{"msg": "x"}] {\n  n := numbers.range(1, count(input.review.object.metadata.name) * 100000000)\n  count(n) > 0\n}\n'
        )
        compiled = compile_template(looping, "loop.yaml", worker)
        bound = bind_constraint(compiled, constraint(), "c.yaml")
        started = time.monotonic()
        outcome = bound.evaluate(pod_request(POD))
        assert time.monotonic() - started < 10
        assert outcome.applies and outcome.error is not None
        assert "longer than 1 s" in outcome.error or "memory" in outcome.error
        fine = compile_template(
            template(
                'package probe\nviolation[{"msg": "no team"}] {\n  not input.review.object.metadata.labels.team\n}\n',
                "StockadeFine",
            ),
            "fine.yaml",
            worker,
        )
        again = bind_constraint(fine, constraint("StockadeFine"), "c.yaml").evaluate(pod_request(POD))
        assert [v.message for v in again.violations] == ["no team"]
        assert worker.restarts >= 1
    finally:
        worker.close()


def test_a_dead_worker_is_an_error_then_recovers() -> None:
    worker = RegoWorker()
    try:
        compiled = compile_template(
            template(
                'package probe\nviolation[{"msg": "no team"}] {\n  not input.review.object.metadata.labels.team\n}\n'
            ),
            "t.yaml",
            worker,
        )
        bound = bind_constraint(compiled, constraint(), "c.yaml")
        assert [v.message for v in bound.evaluate(pod_request(POD)).violations] == ["no team"]
        assert worker._process is not None
        worker._process.kill()
        worker._process.wait(5)
        # The template is loaded again into a new worker; the answer is the same.
        assert [v.message for v in bound.evaluate(pod_request(POD)).violations] == ["no team"]
    finally:
        worker.close()


def test_a_runaway_cel_expression_is_an_error_finding_and_the_scan_goes_on(tmp_path: Path) -> None:
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "quadratic"},
        "spec": {
            "matchConstraints": {
                "resourceRules": [
                    {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["configmaps"]}
                ]
            },
            "validations": [
                {
                    "expression": "object.data.items.all(a, object.data.items.all(b, object.data.items.exists(c, a == b || c != a)))"
                }
            ],
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": "quadratic"},
        "spec": {"policyName": "quadratic", "validationActions": ["Deny"]},
    }
    big = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "big", "namespace": "shop"},
        "data": {"items": list(range(200))},
    }
    objects = write(tmp_path / "objects.yaml", big, POD)
    started = time.monotonic()
    result = scan(
        stockade.FileSource([str(objects)]),
        ScanOptions(policies=[write(tmp_path / "policy.yaml", policy, binding)]),
    )
    assert time.monotonic() - started < 30
    found = [f for f in result.findings if f.rule_id == "POL-quadratic"]
    assert [f.status for f in found] == [Status.ERROR]
    assert "exceeds the limit" in found[0].message
    assert any(f.rule_id.startswith("WL-") for f in result.findings)  # the rest of the scan ran
