"""Gatekeeper's CEL engine (K8sNativeValidation) on the Gatekeeper library's own templates and
samples (vendored unchanged in tests/data/gatekeeper), and the variables Gatekeeper binds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from stockade.policies.cel import CelEvaluationError
from stockade.policies.gatekeeper_cel import NativeValidation, compile_native_validation
from stockade.policies.model import GroupVersionKind, GroupVersionResource, PolicyDefinitionError, PolicyRequest

DATA = Path(__file__).resolve().parents[1] / "data" / "gatekeeper"
BOTH_ENGINES = (
    "general/requiredlabels",
    "pod-security-policy/capabilities",
    "pod-security-policy/privileged-containers",
)


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict)
    return document


def native_source(template: dict[str, Any]) -> dict[str, Any]:
    for target in template["spec"]["targets"]:
        for code in target.get("code", []):
            if code["engine"] == "K8sNativeValidation":
                source = code["source"]
                assert isinstance(source, dict)
                return source
    raise AssertionError("no K8sNativeValidation code")


def compiled(suite: str) -> NativeValidation:
    return compile_native_validation(native_source(load(DATA / suite / "template.yaml")), f"{suite}: template")


def request_for(document: dict[str, Any]) -> PolicyRequest:
    """A sample as an admission request: an AdmissionReview as given, an object as a CREATE."""
    operation, old = "CREATE", None
    if document.get("kind") == "AdmissionReview":
        review = document["request"]
        operation, obj, old = review.get("operation", "CREATE"), review.get("object"), review.get("oldObject")
    else:
        obj = document
    shown = obj if obj is not None else old
    assert shown is not None
    group, _, version = str(shown.get("apiVersion", "v1")).rpartition("/")
    kind = str(shown["kind"])
    return PolicyRequest(
        object=obj,
        kind=GroupVersionKind(group, version, kind),
        resource=GroupVersionResource(group, version, kind.lower() + "s"),
        operation=operation,
        old_object=old,
        name=str(shown["metadata"].get("name", "")),
        namespace=str(shown["metadata"].get("namespace", "")),
    )


def suite_cases() -> list[tuple[str, str, str, bool]]:
    cases = []
    for suite in BOTH_ENGINES:
        for test in load(DATA / suite / "suite.yaml")["tests"]:
            for case in test["cases"]:
                (assertion,) = case["assertions"]
                cases.append((suite, test["constraint"], case["object"], assertion["violations"] in (True, "yes")))
    return cases


@pytest.mark.parametrize(
    ("suite", "constraint", "sample", "violates"), suite_cases(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_the_library_samples_give_what_their_suites_expect(
    suite: str, constraint: str, sample: str, violates: bool
) -> None:
    bound = load(DATA / suite / constraint)
    messages = compiled(suite).violations(request_for(load(DATA / suite / sample)), bound["spec"].get("parameters"))
    assert bool(messages) == violates, messages
    assert all(isinstance(m, str) and m for m in messages)


def test_requiredlabels_messages_come_from_the_message_expression_and_the_message() -> None:
    engine = compiled("general/requiredlabels")
    base = DATA / "general" / "requiredlabels" / "samples" / "all-must-have-owner"
    parameters = load(base / "constraint.yaml")["spec"]["parameters"]
    assert engine.violations(request_for(load(base / "example_disallowed.yaml")), parameters) == [
        "missing required label, requires all of: owner",
        "regex mismatch",
    ]
    assert engine.violations(request_for(load(base / "example_disallowed_label_value.yaml")), parameters) == [
        "regex mismatch"
    ]
    assert engine.violations(request_for(load(base / "example_allowed.yaml")), parameters) == []


def test_privileged_containers_names_each_container_and_honours_exempt_images() -> None:
    engine = compiled("pod-security-policy/privileged-containers")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "containers": [
                {"name": "a", "image": "nginx", "securityContext": {"privileged": True}},
                {"name": "b", "image": "safeimages.com/x", "securityContext": {"privileged": True}},
                {"name": "c", "image": "nginx"},
            ],
            "initContainers": [{"name": "i", "image": "busybox", "securityContext": {"privileged": True}}],
        },
    }
    parameters = {"exemptImages": ["safeimages.com/*"]}
    assert engine.violations(request_for(pod), parameters) == [
        "Privileged container is not allowed: a, securityContext.privileged: true, "
        "Privileged container is not allowed: i, securityContext.privileged: true"
    ]
    # The template passes every UPDATE (the field is immutable).
    update = {"kind": "AdmissionReview", "request": {"operation": "UPDATE", "object": pod, "oldObject": pod}}
    assert engine.violations(request_for(update), parameters) == []


def test_capabilities_lists_what_each_container_adds_and_fails_to_drop() -> None:
    engine = compiled("pod-security-policy/capabilities")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "containers": [
                {"name": "a", "image": "nginx", "securityContext": {"capabilities": {"add": ["NET_ADMIN", "CHOWN"]}}},
                {"name": "b", "image": "nginx", "securityContext": {"capabilities": {"drop": ["all"]}}},
            ]
        },
    }
    parameters = {"allowedCapabilities": ["CHOWN"], "requiredDropCapabilities": ["NET_RAW"]}
    assert engine.violations(request_for(pod), parameters) == [
        "containers have disallowed capabilities: {container: a, capabilities: [NET_ADMIN]}",
        "containers are not dropping all required capabilities: {container: a, capabilities: [NET_RAW]}",
    ]
    assert engine.violations(request_for(pod), {"allowedCapabilities": ["*"]}) == []


SOURCE = {
    "variables": [{"name": "name", "expression": "variables.anyObject.metadata.name"}],
    "validations": [
        {
            "expression": "!(variables.name in variables.params.forbidden)",
            "messageExpression": "'name ' + variables.name + ' is forbidden by ' + params.metadata.name",
        }
    ],
}


def pod_request(operation: str = "CREATE", *, name: str = "db", deleted: bool = False) -> PolicyRequest:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}}
    return PolicyRequest(
        object=None if deleted else pod,
        old_object=pod if deleted or operation == "UPDATE" else None,
        kind=GroupVersionKind("", "v1", "Pod"),
        resource=GroupVersionResource("", "v1", "pods"),
        operation=operation,
        name=name,
    )


def test_any_object_is_the_old_object_on_delete_and_params_is_the_constraint() -> None:
    engine = compile_native_validation(SOURCE, "t")
    constraint = {"metadata": {"name": "no-db"}, "spec": {"parameters": {"forbidden": ["db"]}}}
    parameters = constraint["spec"]["parameters"]
    expected = ["name db is forbidden by no-db"]
    assert engine.violations(pod_request(), parameters, constraint) == expected
    assert engine.violations(pod_request("DELETE", deleted=True), parameters, constraint) == expected
    assert engine.violations(pod_request(name="web"), parameters, constraint) == []
    # Without the constraint, params holds only its parameters: the message expression fails and
    # the message falls back to the expression.
    assert engine.violations(pod_request(), parameters) == [
        "failed expression: !(variables.name in variables.params.forbidden)"
    ]


def test_variables_params_is_null_without_parameters() -> None:
    engine = compile_native_validation(
        {"validations": [{"expression": "variables.params == null", "message": "has parameters"}]}, "t"
    )
    assert engine.violations(pod_request(), None) == []
    assert engine.violations(pod_request(), {"x": 1}) == ["has parameters"]


def test_match_conditions_gate_the_validations() -> None:
    engine = compile_native_validation(
        {
            "matchConditions": [{"name": "creates", "expression": "request.operation == 'CREATE'"}],
            "validations": [{"expression": "false", "message": "always"}],
        },
        "t",
    )
    assert engine.violations(pod_request(), None) == ["always"]
    assert engine.violations(pod_request("UPDATE"), None) == []


def test_an_expression_that_fails_raises_an_evaluation_error() -> None:
    engine = compile_native_validation({"validations": [{"expression": "object.spec.replicas > 1"}]}, "t")
    with pytest.raises(CelEvaluationError, match="no such key: spec"):
        engine.violations(pod_request(), None)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"validations": []}, "K8sNativeValidation needs validations"),
        ({"validations": [{"expression": "object.metadata.name =="}]}, "validations[0].expression: the expression"),
        ({"validations": [{"expression": "true", "messageExpression": "'a' +"}]}, "messageExpression: the express"),
        ({"validations": [{"expression": "true"}], "variables": [{"expression": "1"}]}, "variables[0]: needs a name"),
        (
            {"validations": [{"expression": "true"}], "variables": [{"name": "params", "expression": "1"}]},
            "'params' is a variable Gatekeeper defines itself",
        ),
        ({"validations": [{"expression": "true"}], "matchConditions": {"a": 1}}, "matchConditions must be a list"),
        ({"validations": [{"expression": "true", "message": 3}]}, "message: must be a string"),
    ],
)
def test_a_template_that_cannot_be_used_names_itself(source: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyDefinitionError) as raised:
        compile_native_validation(source, "ConstraintTemplate 'k8sx': K8sNativeValidation")
    assert str(raised.value).startswith("ConstraintTemplate 'k8sx': K8sNativeValidation")
    assert message in str(raised.value)
