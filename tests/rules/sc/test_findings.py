"""What SC findings say and the fixes they suggest; no finding of any rule repeats a planted credential."""

from __future__ import annotations

import base64
from typing import Any

from stockade.model.finding import Finding, Status
from tests.helpers import scan_objects
from tests.rules.sc.planted import AWS_KEY, PASSWORD, PEM, PLANTED, assert_no_leak

IMAGE = "registry.example.com/shop/api:2.3.1"


def pod(env: object = None, env_from: object = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "api", "image": IMAGE}
    if env is not None:
        container["env"] = env
    if env_from is not None:
        container["envFrom"] = env_from
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {"containers": [container]},
    }


def configmap(data: object = None, binary: object = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "shop"}}
    if data is not None:
        obj["data"] = data
    if binary is not None:
        obj["binaryData"] = binary
    return obj


def failed(rule_id: str, *objects: dict[str, Any]) -> list[Finding]:
    result = scan_objects(objects, [rule_id])
    assert result.errors == []
    assert [f for f in result.findings if f.status is Status.ERROR] == []
    return [f for f in result.findings if f.status is Status.FAIL]


def test_env_findings_give_the_reason_and_never_the_value() -> None:
    env = [{"name": f"VAR_{key}", "value": value} for key, value in PLANTED.items()]
    env[6]["name"] = "DB_PASSWORD"  # the plain password is only recognisable by its name
    found = {f.path: f for f in failed("SC-001", pod(env))}
    assert len(found) == len(PLANTED)
    assert found["spec.containers[0].env[0].value"].message == (
        'env var "VAR_AWS_KEY" of container "api" holds a literal value: value matches an AWS access key pattern'
    )
    password = found["spec.containers[0].env[6].value"]
    assert password.message == (
        'env var "DB_PASSWORD" of container "api" holds a literal value: name looks like a password'
    )
    assert password.remediation == (
        "Move DB_PASSWORD into a Secret (kubectl create secret generic api-credentials -n shop"
        " --from-file=DB_PASSWORD=./db_password.txt), reference it with valueFrom.secretKeyRef or a secret volume,"
        " and rotate the credential."
    )
    assert "high entropy" in found["spec.containers[0].env[5].value"].message
    assert_no_leak(list(found.values()))


def test_env_entry_without_a_name_is_named_by_position() -> None:
    [finding] = failed("SC-001", pod([{"value": AWS_KEY}]))
    assert finding.message.startswith('env var "env[0]" of container "api"')
    assert_no_leak([finding])


def test_no_rule_leaks_a_planted_value() -> None:
    env = [{"name": f"{key}_PASSWORD", "value": value} for key, value in PLANTED.items()]
    objects = [pod(env), configmap({f"{k.lower()}-token": v for k, v in PLANTED.items()})]
    result = scan_objects(objects, ["all"], include_passed=True)
    assert {f.rule_id for f in result.findings if f.status is Status.FAIL} >= {"SC-001", "SC-002"}
    assert_no_leak(result.findings)


def test_configmap_findings_name_the_key_and_the_line() -> None:
    properties = f"server.port=8080\nspring.datasource.username=app\nspring.datasource.password={PASSWORD}\n"
    found = {f.path: f for f in failed("SC-002", configmap({"db-password": PASSWORD, "app.properties": properties}))}
    assert found["data.db-password"].message == (
        'ConfigMap key "db-password" (data) looks like a credential: name looks like a password'
    )
    assert found["data.db-password"].remediation == (
        'Move key "db-password" into a Secret (kubectl create secret generic cfg -n shop'
        " --from-file=db-password=./db-password), point its consumers at the Secret, remove it from ConfigMap cfg,"
        " and rotate the credential."
    )
    assert found["data.app.properties"].message.endswith(
        "line 3 sets 'spring.datasource.password', which looks like a password"
    )
    assert_no_leak(list(found.values()))


def test_binary_data_is_searched_decoded_and_never_shown() -> None:
    encoded = base64.b64encode(PEM.encode()).decode()
    [finding] = failed("SC-002", configmap(binary={"key.der": encoded}))
    assert finding.message == (
        'ConfigMap key "key.der" (binaryData) looks like a credential: content matches a private key (PEM) pattern'
    )
    assert encoded not in finding.message


def test_secret_references_say_which_key_of_which_secret() -> None:
    env = [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]
    messages = {f.path: f.message for f in failed("SC-003", pod(env, [{"secretRef": {"name": "api-keys"}}]))}
    assert messages == {
        "spec.containers[0].env[0].valueFrom.secretKeyRef": (
            'container "api" reads key "password" of Secret "db" into env var "DB_PASSWORD"'
        ),
        "spec.containers[0].envFrom[0].secretRef": (
            'container "api" loads every key of Secret "api-keys" as environment variables (envFrom)'
        ),
    }
