"""Rego templates that are wrong or misbehave: a definition error naming the template, the file and
the line; evaluation stopped at the time or memory limit, or by a dead worker, as an error outcome;
the next evaluation answers again."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from stockade.policies.gatekeeper import Constraint, bind_constraint, compile_template
from stockade.policies.load import read_policies
from stockade.policies.model import PolicyDefinitionError
from stockade.policies.rego import RegoWorker
from tests.policies.support import POD, constraint, pod_request, template

NO_TEAM = 'package probe\nviolation[{"msg": "no team"}] {\n  not input.review.object.metadata.labels.team\n}\n'
# Loops: 300³ iterations for a 3-letter name (nothing of it runs on the empty input of the load).
LOOPING = (
    'package probe\nviolation[{"msg": "x"}] {\n'
    "  xs := numbers.range(1, count(input.review.object.metadata.name) * 300)\n"
    "  count([1 | xs[i]; xs[j]; xs[k]]) < 0\n}\n"
)
ALLOCATING = (
    'package probe\nviolation[{"msg": "x"}] {\n'
    "  n := numbers.range(1, count(input.review.object.metadata.name) * 100000000)\n"
    "  count(n) > 0\n}\n"
)


REQUEST = pod_request(POD)


@pytest.fixture
def worker() -> Iterator[RegoWorker]:
    started = RegoWorker(time_limit=1.0, memory_limit=256 << 20)
    yield started
    started.close()


def bound(rego: str, worker: RegoWorker, kind: str = "StockadeProbe") -> Constraint:
    return bind_constraint(compile_template(template(rego, kind), f"{kind}.yaml", worker), constraint(kind), "c.yaml")


def answers_again(worker: RegoWorker) -> None:
    again = bound(NO_TEAM, worker, "StockadeFine").evaluate(REQUEST)
    assert (again.error, [v.message for v in again.violations]) == (None, ["no team"])


# -- definitions ------------------------------------------------------------------------------------------
def test_a_syntax_error_names_the_template_the_file_and_the_line(worker: RegoWorker, tmp_path: Path) -> None:
    bad = template('package probe\n\nviolation[{"msg": m}] {\n  m := \n}\n')
    with pytest.raises(PolicyDefinitionError) as raised:
        compile_template(bad, "policies/bad.yaml", worker)
    message = str(raised.value)
    assert message.startswith("ConstraintTemplate 'stockadeprobe': the Rego does not compile:")
    assert "line 4" in message and "Traceback" not in message
    assert raised.value.source == "policies/bad.yaml"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    problems = read_policies([path]).problems
    assert [(Path(p.source.split(":")[0]).name, "line 4" in p.message) for p in problems] == [("bad.yaml", True)]


def test_an_error_in_a_library_names_the_library(worker: RegoWorker) -> None:
    bad = template(
        'package probe\nimport data.lib.helpers\nviolation[{"msg": "x"}] { helpers.ok }\n',
        libs=["package lib.helpers\n\nok {\n  x := \n}\n"],
    )
    with pytest.raises(PolicyDefinitionError, match=r"lib0 line 4"):
        compile_template(bad, "bad.yaml", worker)


def test_a_construct_the_engine_refuses_is_named_with_its_line(worker: RegoWorker) -> None:
    # Valid in OPA; rego-cpp refuses two `_` in one expression, and says so only on its output.
    bad = template('package probe\nviolation[{"msg": "x"}] {\n  s := {a | a := [1][_] + [2][_]}\n  count(s) > 9\n}\n')
    with pytest.raises(PolicyDefinitionError, match=r"Invalid bracket argument \(template line 3\)"):
        compile_template(bad, "bad.yaml", worker)


@pytest.mark.parametrize(
    ("call", "said"),
    [
        ('no_such.builtin("x")', "has no builtin function no_such.builtin (template line 4)"),
        # rego-cpp answers undefined for this one instead of failing: the policy would never fire.
        ('net.cidr_contains("10.0.0.0/8", "10.1.2.3")', "has no builtin function net.cidr_contains (template line 4)"),
        ('re_match("a", "a")', "has no builtin function re_match"),
        ('http.send({"method": "get", "url": "http://127.0.0.1:9"})', "http.send is disabled, as in Gatekeeper"),
        ('external_data({"provider": "p", "keys": ["a"]})', "external data providers (external_data)"),
    ],
)
def test_a_function_the_engine_lacks_is_named_when_the_template_is_read(
    worker: RegoWorker, call: str, said: str
) -> None:
    # Behind a condition on the input: nothing calls it on the empty input of the load.
    rego = f'package probe\nviolation[{{"msg": "x"}}] {{\n  input.review.object.kind == "Pod"\n  r := {call}\n}}\n'
    with pytest.raises(PolicyDefinitionError) as raised:
        compile_template(template(rego), "bad.yaml", worker)
    assert said in str(raised.value)
    assert str(raised.value).startswith("ConstraintTemplate 'stockadeprobe'")


def test_functions_the_modules_define_import_or_quote_are_not_builtins(worker: RegoWorker) -> None:
    rego = (
        "package probe\nimport data.lib.names.short\n"
        "# missing_fn(x) in a comment is not a call\n"
        'violation[{"msg": msg}] {\n  local(input.review.object)\n  short(input.review.object)\n'
        '  msg := sprintf("not_a_call(%v)", [data.lib.names.long(1)])\n}\n'
        "local(obj) {\n  obj.kind\n}\n"
    )
    lib = 'package lib.names\nshort(obj) {\n  obj.metadata\n}\nlong(n) = "long" {\n  n > 0\n}\n'
    compiled = compile_template(template(rego, libs=[lib]), "fine.yaml", worker)
    outcome = bind_constraint(compiled, constraint(), "c.yaml").evaluate(REQUEST)
    assert [v.message for v in outcome.violations] == ["not_a_call(long)"]


def test_parameters_that_do_not_match_the_schema_name_constraint_template_and_path(
    worker: RegoWorker, tmp_path: Path
) -> None:
    schema = {
        "type": "object",
        "properties": {
            "labels": {"type": "array", "items": {"type": "object", "properties": {"key": {"type": "string"}}}}
        },
    }
    compiled = compile_template(template(NO_TEAM, schema=schema), "t.yaml", worker)
    with pytest.raises(PolicyDefinitionError) as raised:
        bind_constraint(compiled, constraint(parameters={"labels": [{"key": 3}]}), "c.yaml")
    assert str(raised.value) == (
        "StockadeProbe 'stockadeprobe-probe': spec.parameters do not match ConstraintTemplate 'stockadeprobe''s"
        " schema: labels.0.key: 3 is not of type 'string'"
    )
    assert raised.value.source == "c.yaml"
    bind_constraint(compiled, constraint(parameters={"labels": [{"key": "team"}]}), "c.yaml")  # a valid one binds
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump_all([template(NO_TEAM, schema=schema), constraint(parameters={"labels": "team"})]))
    policies = read_policies([path])
    assert policies.policies == ()
    assert [
        ("policy.yaml" in p.source, "labels: 'team' is not of type 'array'" in p.message) for p in policies.problems
    ] == [(True, True)]


# -- evaluation ---------------------------------------------------------------------------------------------
def test_a_loop_is_stopped_at_the_time_limit_then_the_next_evaluation_answers(worker: RegoWorker) -> None:
    looping = bound(LOOPING, worker)
    started = time.monotonic()
    outcome = looping.evaluate(REQUEST)
    assert time.monotonic() - started < 3
    assert outcome.applies and outcome.violations == ()
    assert outcome.error == "rego engine: the policy took longer than 1 s (stopped)"
    answers_again(worker)
    assert worker.restarts == 1
    # The looping template is loaded again into the new worker, and stopped again.
    assert looping.evaluate(REQUEST).error == outcome.error


def test_an_allocation_is_stopped_at_the_memory_limit_then_the_next_evaluation_answers(worker: RegoWorker) -> None:
    started = time.monotonic()
    outcome = bound(ALLOCATING, worker).evaluate(REQUEST)
    assert time.monotonic() - started < 3
    assert outcome.error == "rego engine: the policy used more than 256 MiB of memory (stopped)"
    answers_again(worker)


def test_a_runaway_on_the_empty_input_is_a_definition_error(worker: RegoWorker) -> None:
    runaway = template(
        'package probe\nviolation[{"msg": "x"}] {\n  n := numbers.range(1, 1000000000)\n  count(n) > 0\n}\n'
    )
    with pytest.raises(
        PolicyDefinitionError, match=r"more than 256 MiB of memory \(stopped\), evaluating it once on an empty input"
    ):
        compile_template(runaway, "t.yaml", worker)
    answers_again(worker)


def test_a_worker_killed_during_an_evaluation_is_an_error_then_recovers() -> None:
    worker = RegoWorker(time_limit=30.0)
    try:
        looping = bound(LOOPING, worker)
        outcomes = []
        evaluation = threading.Thread(target=lambda: outcomes.append(looping.evaluate(REQUEST)))
        evaluation.start()
        time.sleep(0.5)  # inside the loop by now
        process = worker._process
        assert process is not None and process.poll() is None
        process.kill()
        evaluation.join(10)
        assert not evaluation.is_alive()
        assert outcomes[0].error == "rego engine: the Rego engine crashed on this input (its worker process died)"
        answers_again(worker)
        assert worker._process is not None and worker._process.pid != process.pid
    finally:
        worker.close()


def test_a_worker_killed_between_evaluations_is_not_noticed(worker: RegoWorker) -> None:
    fine = bound(NO_TEAM, worker)
    assert [v.message for v in fine.evaluate(REQUEST).violations] == ["no team"]
    assert worker._process is not None
    worker._process.kill()
    worker._process.wait(5)
    assert [v.message for v in fine.evaluate(REQUEST).violations] == ["no team"]


def test_a_policy_sees_no_environment_of_the_process(worker: RegoWorker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOCKADE_TEST_SECRET", "hunter2")
    worker.close()  # the next call starts a worker with this environment around it
    leaking = 'package probe\nviolation[{"msg": m}] {\n  m := sprintf("%v", [opa.runtime()])\n}\n'
    [violation] = bound(leaking, worker).evaluate(REQUEST).violations
    assert "regocpp_version" in violation.message  # the runtime is there ...
    assert "hunter2" not in violation.message and "STOCKADE_TEST_SECRET" not in violation.message  # ... its secrets not
