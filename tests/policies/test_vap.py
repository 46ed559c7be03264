"""ValidatingAdmissionPolicy evaluation as the API server does it."""

from __future__ import annotations

from typing import Any

import pytest

from stockade.policies.model import Action, GroupVersionKind, GroupVersionResource, PolicyDefinitionError, PolicyRequest
from stockade.policies.vap import NO_PARAMS, compile_policy


def policy(**spec: Any) -> dict[str, Any]:
    spec.setdefault(
        "matchConstraints",
        {
            "resourceRules": [
                {
                    "apiGroups": ["apps"],
                    "apiVersions": ["v1"],
                    "operations": ["CREATE", "UPDATE"],
                    "resources": ["deployments"],
                }
            ]
        },
    )
    spec.setdefault("validations", [{"expression": "object.spec.replicas <= 5", "message": "too many replicas"}])
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "p"},
        "spec": spec,
    }


def binding(actions: list[str] | None = None, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "b"}, "spec": {"policyName": "p", "validationActions": actions or ["Deny"], **spec}}


def deployment(replicas: int = 3, labels: dict[str, str] | None = None, namespace: str = "shop") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace, "labels": labels or {}},
        "spec": {"replicas": replicas},
    }


def request(
    obj: dict[str, Any],
    *,
    operation: str = "CREATE",
    old: dict[str, Any] | None = None,
    namespace_labels: dict[str, str] | None = None,
    user: str = "alice",
) -> PolicyRequest:
    namespace = obj["metadata"].get("namespace", "")
    return PolicyRequest(
        object=obj,
        kind=GroupVersionKind("apps", "v1", obj["kind"]),
        resource=GroupVersionResource("apps", "v1", obj["kind"].lower() + "s"),
        operation=operation,
        old_object=old,
        name=obj["metadata"]["name"],
        namespace=namespace,
        user_info={"username": user, "groups": ["dev"]},
        namespace_object={"metadata": {"name": namespace, "labels": namespace_labels or {}}} if namespace else None,
    )


def messages(outcome: Any) -> list[str]:
    return [v.message for v in outcome.violations]


def test_a_failed_validation_is_a_violation_with_the_bindings_actions() -> None:
    compiled = compile_policy(policy(), "p.yaml")
    outcome = compiled.evaluate(request(deployment(9)), binding(["Warn", "Audit"]), None)
    assert outcome.applies and messages(outcome) == ["too many replicas"]
    assert outcome.violations[0].actions == frozenset({Action.WARN, Action.AUDIT})
    assert outcome.violations[0].reason == "Invalid"
    assert compiled.evaluate(request(deployment(2)), binding(), None).violations == ()


def test_resource_rules_operations_and_exclusions() -> None:
    compiled = compile_policy(
        policy(
            matchConstraints={
                "resourceRules": [
                    {"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["CREATE"], "resources": ["*"]}
                ],
                "excludeResourceRules": [
                    {
                        "apiGroups": ["apps"],
                        "apiVersions": ["v1"],
                        "resources": ["deployments"],
                        "resourceNames": ["web"],
                    }
                ],
            }
        ),
        "p.yaml",
    )
    assert not compiled.evaluate(request(deployment(9)), binding(), None).applies  # excluded by name
    other = deployment(9)
    other["metadata"]["name"] = "api"
    assert compiled.evaluate(request(other), binding(), None).applies
    assert not compiled.evaluate(request(other, operation="UPDATE", old=other), binding(), None).applies


def test_namespace_and_object_selectors_of_policy_and_binding() -> None:
    compiled = compile_policy(
        policy(
            matchConstraints={
                "resourceRules": [
                    {"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["*"], "resources": ["deployments"]}
                ],
                "namespaceSelector": {"matchLabels": {"env": "prod"}},
            }
        ),
        "p.yaml",
    )
    assert compiled.evaluate(request(deployment(9), namespace_labels={"env": "prod"}), binding(), None).applies
    assert not compiled.evaluate(request(deployment(9), namespace_labels={"env": "dev"}), binding(), None).applies
    narrowed = binding(
        matchResources={"objectSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]}}
    )
    prod = {"env": "prod"}
    assert not compiled.evaluate(request(deployment(9), namespace_labels=prod), narrowed, None).applies
    labelled = deployment(9, labels={"tier": "web"})
    assert compiled.evaluate(request(labelled, namespace_labels=prod), narrowed, None).applies


def test_match_conditions_variables_and_message_expressions() -> None:
    compiled = compile_policy(
        policy(
            matchConditions=[{"name": "not-breakglass", "expression": "request.userInfo.username != 'breakglass'"}],
            variables=[
                {"name": "limit", "expression": "has(object.metadata.labels.size) ? 10 : 5"},
                {"name": "over", "expression": "object.spec.replicas > variables.limit"},
            ],
            validations=[
                {
                    "expression": "!variables.over",
                    "messageExpression": "'replicas ' + string(object.spec.replicas) + ' over ' + string(variables.limit)",
                    "reason": "Forbidden",
                },
                {"expression": "object.spec.replicas % 2 == 1"},
            ],
        ),
        "p.yaml",
    )
    outcome = compiled.evaluate(request(deployment(8)), binding(), None)
    assert messages(outcome) == ["replicas 8 over 5", "failed expression: object.spec.replicas % 2 == 1"]
    assert outcome.violations[0].reason == "Forbidden"
    assert messages(compiled.evaluate(request(deployment(8, labels={"size": "big"})), binding(), None)) == [
        "failed expression: object.spec.replicas % 2 == 1"
    ]
    assert not compiled.evaluate(request(deployment(8), user="breakglass"), binding(), None).applies


def test_a_message_expression_that_fails_falls_back_to_the_message() -> None:
    compiled = compile_policy(
        policy(validations=[{"expression": "false", "message": "static", "messageExpression": "object.nope + 'x'"}]),
        "p.yaml",
    )
    assert messages(compiled.evaluate(request(deployment()), binding(), None)) == ["static"]


@pytest.mark.parametrize(("failure_policy", "error"), [("Fail", True), ("Ignore", False)])
def test_failure_policy_decides_what_an_evaluation_error_means(failure_policy: str, error: bool) -> None:
    compiled = compile_policy(
        policy(
            failurePolicy=failure_policy,
            validations=[
                {"expression": "object.spec.template.spec.hostNetwork != true"},
                {"expression": "false", "message": "second"},
            ],
        ),
        "p.yaml",
    )
    outcome = compiled.evaluate(request(deployment()), binding(), None)
    assert outcome.applies
    if error:
        assert outcome.error is not None and "no such key: template" in outcome.error
    else:
        assert outcome.error is None and messages(outcome) == ["second"]


def test_params_and_parameter_not_found() -> None:
    compiled = compile_policy(
        policy(
            paramKind={"apiVersion": "v1", "kind": "ConfigMap"},
            validations=[{"expression": "object.spec.replicas <= int(params.data.max)", "message": "over the limit"}],
        ),
        "p.yaml",
    )
    limits = {"data": {"max": "4"}}
    deny = binding(paramRef={"name": "limits", "parameterNotFoundAction": "Deny"})
    allow = binding(paramRef={"name": "limits", "parameterNotFoundAction": "Allow"})
    assert messages(compiled.evaluate(request(deployment(5)), deny, limits)) == ["over the limit"]
    assert messages(compiled.evaluate(request(deployment(3)), deny, limits)) == []
    assert messages(compiled.evaluate(request(deployment(3)), deny, None)) == [NO_PARAMS]
    missing = compiled.evaluate(request(deployment(3)), allow, None)
    assert missing.applies and missing.violations == () and missing.error is None


def test_old_object_and_audit_annotations() -> None:
    compiled = compile_policy(
        policy(
            validations=[
                {
                    "expression": "oldObject == null || object.spec.replicas >= oldObject.spec.replicas",
                    "message": "no scaling down",
                }
            ],
            auditAnnotations=[
                {"key": "replicas", "valueExpression": "string(object.spec.replicas)"},
                {"key": "skipped", "valueExpression": "null"},
            ],
        ),
        "p.yaml",
    )
    created = compiled.evaluate(request(deployment(3)), binding(), None)
    assert created.violations == () and created.audit_annotations == {"p/replicas": "3"}
    scaled = compiled.evaluate(request(deployment(2), operation="UPDATE", old=deployment(3)), binding(), None)
    assert messages(scaled) == ["no scaling down"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"validations": [{"expression": "object.spec.replicas >"}]},
            "spec.validations[0].expression: the expression does not compile",
        ),
        ({"failurePolicy": "Maybe"}, "failurePolicy: must be one of Fail, Ignore"),
        ({"matchConstraints": {"resourceRules": []}}, "at least one rule is required"),
        ({"validations": [], "auditAnnotations": []}, "spec needs validations or auditAnnotations"),
        ({"matchConditions": [{"expression": "true"}]}, "spec.matchConditions[0]: needs a name"),
    ],
)
def test_a_policy_that_cannot_be_used_names_itself_and_what_is_wrong(change: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyDefinitionError) as raised:
        compile_policy(policy(**change), "p.yaml")
    assert raised.value.source == "p.yaml"
    assert "ValidatingAdmissionPolicy 'p'" in str(raised.value)
    assert message in str(raised.value)
