"""ValidatingAdmissionPolicy evaluation as the API server does it."""

from __future__ import annotations

from typing import Any

import pytest

from stockade.policies.cel import COST_LIMIT
from stockade.policies.model import Action, GroupVersionKind, GroupVersionResource, PolicyDefinitionError, PolicyRequest
from stockade.policies.vap import NO_PARAM_REF, NO_PARAMS, compile_policy


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
    # Missing params with Deny: a configuration error, under failurePolicy (Fail by default).
    missing = compiled.evaluate(request(deployment(3)), deny, None)
    assert missing.violations == () and missing.error == f"failed to configure binding: {NO_PARAMS}"
    # With Allow the binding is skipped.
    skipped = compiled.evaluate(request(deployment(3)), allow, None)
    assert not skipped.applies and skipped.violations == () and skipped.error is None


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


RULE = {"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["*"], "resources": ["deployments"]}


def with_rules(*rules: dict[str, Any], **more: Any) -> dict[str, Any]:
    return policy(matchConstraints={"resourceRules": list(rules), **more})


def test_missing_params_under_failure_policy_ignore_and_a_binding_without_param_ref() -> None:
    spec = {
        "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
        "validations": [{"expression": "object.spec.replicas <= int(params.data.max)"}],
    }
    deny = binding(["Warn"], paramRef={"name": "limits", "parameterNotFoundAction": "Deny"})
    ignored = compile_policy(policy(failurePolicy="Ignore", **spec), "p.yaml").evaluate(
        request(deployment()), deny, None
    )
    assert ignored.error is None and ignored.violations == ()
    no_ref = compile_policy(policy(**spec), "p.yaml").evaluate(request(deployment()), binding(), None)
    assert no_ref.error == f"failed to configure binding: {NO_PARAM_REF}"


def test_subresources_match_only_rules_that_name_them() -> None:
    scale = PolicyRequest(
        object={"kind": "Scale", "metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": 9}},
        kind=GroupVersionKind("autoscaling", "v1", "Scale"),
        resource=GroupVersionResource("apps", "v1", "deployments"),
        sub_resource="scale",
        operation="UPDATE",
        name="web",
        namespace="shop",
    )
    assert not compile_policy(with_rules(RULE), "p").evaluate(scale, binding(), None).applies
    for resources in (["deployments/scale"], ["deployments/*"], ["*/scale"], ["*/*"]):
        rule = {**RULE, "resources": resources}
        assert compile_policy(with_rules(rule), "p").evaluate(scale, binding(), None).applies, resources
    assert not compile_policy(with_rules({**RULE, "resources": ["*"]}), "p").evaluate(scale, binding(), None).applies


def test_rule_scope_namespaced_and_cluster() -> None:
    namespaced = compile_policy(
        with_rules({**RULE, "resources": ["*"], "apiGroups": ["*"], "scope": "Namespaced"}), "p"
    )
    cluster = compile_policy(with_rules({**RULE, "resources": ["*"], "apiGroups": ["*"], "scope": "Cluster"}), "p")
    in_namespace = request(deployment(9))
    namespace = PolicyRequest(
        object={"kind": "Namespace", "metadata": {"name": "shop"}, "spec": {"replicas": 9}},
        kind=GroupVersionKind("", "v1", "Namespace"),
        resource=GroupVersionResource("", "v1", "namespaces"),
        name="shop",
        namespace="shop",  # the API server names the namespace itself here
    )
    assert namespaced.evaluate(in_namespace, binding(), None).applies
    assert not cluster.evaluate(in_namespace, binding(), None).applies
    assert cluster.evaluate(namespace, binding(), None).applies
    assert not namespaced.evaluate(namespace, binding(), None).applies
    with pytest.raises(PolicyDefinitionError, match="scope: must be one of"):
        compile_policy(with_rules({**RULE, "scope": "Global"}), "p")


def test_namespace_selector_skips_cluster_scoped_objects_and_reads_a_namespaces_own_labels() -> None:
    compiled = compile_policy(
        with_rules(
            {"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*"]},
            namespaceSelector={"matchLabels": {"env": "prod"}},
        ),
        "p",
    )
    node = PolicyRequest(
        object={"kind": "Node", "metadata": {"name": "n1"}, "spec": {"replicas": 9}},
        kind=GroupVersionKind("", "v1", "Node"),
        resource=GroupVersionResource("", "v1", "nodes"),
        name="n1",
    )
    assert compiled.evaluate(node, binding(), None).applies  # never skipped for a cluster-scoped object

    def namespace(labels: dict[str, str]) -> PolicyRequest:
        return PolicyRequest(
            object={"kind": "Namespace", "metadata": {"name": "shop", "labels": labels}, "spec": {"replicas": 9}},
            kind=GroupVersionKind("", "v1", "Namespace"),
            resource=GroupVersionResource("", "v1", "namespaces"),
            name="shop",
            namespace="shop",
        )

    assert compiled.evaluate(namespace({"env": "prod"}), binding(), None).applies
    assert not compiled.evaluate(namespace({"env": "dev"}), binding(), None).applies


def test_object_selector_reads_old_and_new_objects_and_empty_selects_all() -> None:
    compiled = compile_policy(with_rules(RULE, objectSelector={"matchLabels": {"tier": "web"}}), "p")
    everything = compile_policy(with_rules(RULE, objectSelector={}), "p")
    labelled, bare = deployment(9, labels={"tier": "web"}), deployment(9)
    assert compiled.evaluate(request(bare, operation="UPDATE", old=labelled), binding(), None).applies
    assert not compiled.evaluate(request(bare), binding(), None).applies
    deleted = PolicyRequest(
        object=None,
        old_object=labelled,
        kind=GroupVersionKind("apps", "v1", "Deployment"),
        resource=GroupVersionResource("apps", "v1", "deployments"),
        operation="DELETE",
        name="web",
        namespace="shop",
    )
    assert compiled.evaluate(deleted, binding(), None).applies
    assert everything.evaluate(request(bare), binding(), None).applies


@pytest.mark.parametrize(("failure_policy", "error"), [("Fail", True), ("Ignore", False)])
def test_a_false_match_condition_wins_over_one_that_fails(failure_policy: str, error: bool) -> None:
    failing = {"name": "fails", "expression": "object.spec.template.spec.hostNetwork"}
    false = {"name": "false", "expression": "request.operation == 'DELETE'"}
    both = compile_policy(policy(failurePolicy=failure_policy, matchConditions=[failing, false]), "p")
    outcome = both.evaluate(request(deployment(9)), binding(), None)
    assert not outcome.applies and outcome.error is None
    alone = compile_policy(policy(failurePolicy=failure_policy, matchConditions=[failing]), "p")
    outcome = alone.evaluate(request(deployment(9)), binding(), None)
    assert (outcome.error is not None) == error
    if error:
        assert "matchCondition 'fails'" in str(outcome.error)
    else:
        assert not outcome.applies and outcome.violations == ()


@pytest.mark.parametrize(
    ("message_expression", "message", "expected"),
    [
        ("'  spaced  '", None, "spaced"),
        ("''", "static", "static"),
        ("'   '", "static", "static"),
        ("'two\\nlines'", "static", "static"),
        ("42", "static", "static"),  # not a string
        ("object.nope", None, "failed expression: object.spec.replicas < 5"),
        ("'x' + string(object.spec.replicas)", None, "x9"),
    ],
)
def test_message_expression_and_its_fallbacks(message_expression: str, message: str | None, expected: str) -> None:
    validation: dict[str, Any] = {"expression": "  object.spec.replicas < 5 ", "messageExpression": message_expression}
    if message is not None:
        validation["message"] = message
    compiled = compile_policy(policy(validations=[validation]), "p")
    assert messages(compiled.evaluate(request(deployment(9)), binding(), None)) == [expected]


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        (["Deny"], {Action.DENY}),
        (["Warn"], {Action.WARN}),
        (["Audit"], {Action.AUDIT}),
        (["Deny", "Audit"], {Action.DENY, Action.AUDIT}),
    ],
)
def test_validation_actions_are_carried_by_each_violation(actions: list[str], expected: set[Action]) -> None:
    outcome = compile_policy(policy(), "p").evaluate(request(deployment(9)), binding(actions), None)
    assert [v.actions for v in outcome.violations] == [frozenset(expected)]


@pytest.mark.parametrize(("failure_policy", "error"), [("Fail", True), ("Ignore", False)])
def test_an_expression_over_the_cost_bound_follows_the_failure_policy(failure_policy: str, error: bool) -> None:
    expression = "object.spec.items.all(a, object.spec.items.all(b, object.spec.items.all(c, a + b + c >= 0)))"
    compiled = compile_policy(policy(failurePolicy=failure_policy, validations=[{"expression": expression}]), "p")
    small = deployment()
    small["spec"]["items"] = list(range(10))
    assert compiled.evaluate(request(small), binding(), None).violations == ()
    large = deployment()
    large["spec"]["items"] = list(range(int(COST_LIMIT ** (1 / 3)) + 10))
    outcome = compiled.evaluate(request(large), binding(), None)
    assert (outcome.error is not None) == error
    if error:
        assert "exceeds the limit" in str(outcome.error)
    else:
        assert outcome.violations == ()


def test_variables_are_lazy_and_see_earlier_variables() -> None:
    compiled = compile_policy(
        policy(
            variables=[
                {"name": "broken", "expression": "object.spec.missing.field"},
                {"name": "replicas", "expression": "object.spec.replicas"},
                {"name": "double", "expression": "variables.replicas * 2"},
            ],
            validations=[{"expression": "variables.double <= 10", "messageExpression": "string(variables.double)"}],
        ),
        "p",
    )
    outcome = compiled.evaluate(request(deployment(9)), binding(), None)
    assert outcome.error is None and messages(outcome) == ["18"]  # the broken variable is never read
    with pytest.raises(PolicyDefinitionError, match=r"spec\.variables\[0\]"):
        compile_policy(policy(variables=[{"name": "x", "expression": "object.spec.("}]), "p")


def test_audit_annotations_omit_empty_values() -> None:
    compiled = compile_policy(
        policy(
            auditAnnotations=[
                {"key": "empty", "valueExpression": "''"},
                {"key": "name", "valueExpression": "object.metadata.name"},
            ]
        ),
        "p",
    )
    assert compiled.evaluate(request(deployment()), binding(), None).audit_annotations == {"p/name": "web"}
