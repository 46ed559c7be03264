"""Stockade's rules at the door, over real HTTPS: modes, UPDATEs, exceptions, waivers, exemptions,
failure policy, logs and metrics."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from stockade.admission.config import AdmissionConfig, parse_admission_config
from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.model.rule import Scope
from stockade.rules.base import RuleContext, Violation, make_rule
from tests.admission.support import Webhook, deployment, pod, review, serving, warned_rules

PRIVILEGED = {"privileged": True, "allowPrivilegeEscalation": False}
HARDENED = {
    "allowPrivilegeEscalation": False,
    "runAsNonRoot": True,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
RESOURCES = {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}

EXCEPTIONS = """\
apiVersion: stockade.io/v1
kind: ExceptionList
exceptions:
  - rule: privileged-container
    namespace: platform
    kind: DaemonSet
    name: log-shipper
    reason: reads root-owned logs
  - rule: WL-001
    namespace: shop
    kind: Deployment
    name: api
    reason: legacy driver
  - rule: WL-001
    namespace: shop
    name: old-*
    reason: to be removed
    expires: 2020-01-31
"""


def settings(directory: Path) -> dict[str, Any]:
    (directory / "exceptions.yaml").write_text(EXCEPTIONS)
    return {
        "exceptions": [str(directory / "exceptions.yaml")],
        "modes": {
            "default": "warn",
            "rules": {"WL-001": "enforce", "WL-008": "enforce", "NS-001": "enforce", "WL-003": "audit"},
            "families": {"IM": "audit"},
        },
        "skip-rules": ["WL-014", "WL-015", "WL-016"],
        "exemptions": {"namespaces": ["kube-system"], "usernames": ["ci-bot"], "groups": ["system:masters"]},
        "pod-security": {"enabled": False},
    }


@pytest.fixture(scope="module")
def webhook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Webhook]:
    directory = tmp_path_factory.mktemp("decide")
    with serving(directory, settings(directory)) as served:
        yield served


def hardened_pod(name: str = "app", namespace: str = "shop", **security: Any) -> dict[str, Any]:
    made = pod(name, namespace, security={**HARDENED, **security})
    made["spec"]["containers"][0]["resources"] = RESOURCES
    made["spec"]["automountServiceAccountToken"] = False
    return made


def counter(webhook: Webhook, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(webhook.metrics.render().decode()):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def test_an_enforced_rule_denies_with_its_id_and_message(webhook: Webhook, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="stockade.admission")
    before = counter(webhook, "stockade_admission_decisions_total", rule="WL-001", mode="enforce", result="deny")
    response = webhook.admit(review(hardened_pod(**PRIVILEGED), uid="deny-1"))
    assert response["allowed"] is False
    assert response["status"]["code"] == 403
    assert response["status"]["message"] == (
        'Stockade denied the request: [WL-001 privileged-container] container "app" runs privileged'
    )
    after = counter(webhook, "stockade_admission_decisions_total", rule="WL-001", mode="enforce", result="deny")
    assert after == before + 1
    denials = [json.loads(r.getMessage()) for r in caplog.records if "admission.denied" in r.getMessage()]
    assert [(d["uid"], d["rules"], d["kind"], d["namespace"], d["user"]) for d in denials] == [
        ("deny-1", ["WL-001"], "Pod", "shop", "alice")
    ]


def test_each_mode_answers_in_its_channel(webhook: Webhook) -> None:
    made = pod("loose", "shop", image="nginx")  # no security context at all, an unpinned image
    response = webhook.admit(review(made))
    assert response["allowed"] is True
    warned = warned_rules(response)
    assert {"WL-002", "WL-005", "WL-011", "WL-012"} <= warned  # warn: the default mode
    assert not warned & {"WL-003", "IM-001", "IM-002", "WL-014"}  # audited, or not selected
    annotations = response["auditAnnotations"]
    assert {"WL-003", "IM-001", "IM-002"} <= set(annotations)  # audit: one annotation per rule
    assert annotations["IM-001"] == 'container "app" image nginx has no tag (the runtime pulls latest)'
    assert all(len(w) <= 120 for w in response["warnings"])


def test_dry_run_findings_are_logged_and_counted_only(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="stockade.admission")
    config = {"modes": {"default": "off", "rules": {"WL-001": "dry-run"}}, "pod-security": {"enabled": False}}
    with serving(tmp_path, config) as webhook:
        response = webhook.admit(review(hardened_pod(**PRIVILEGED), uid="dry-1"))
        assert response == {"uid": "dry-1", "allowed": True}
        assert counter(webhook, "stockade_admission_decisions_total", rule="WL-001", mode="dry-run") == 1
    logged = [json.loads(r.getMessage()) for r in caplog.records if "admission.dry-run" in r.getMessage()]
    assert [(e["uid"], e["findings"]) for e in logged] == [
        ("dry-1", [{"rule": "WL-001", "message": 'container "app" runs privileged'}])
    ]


def test_an_update_is_denied_only_for_what_it_makes_worse(webhook: Webhook) -> None:
    old = hardened_pod("web", **PRIVILEGED)
    new = json.loads(json.dumps(old))
    new["spec"]["containers"][0]["image"] = "registry.example.com/app@sha256:" + "b" * 64
    kept = webhook.admit(review(new, operation="UPDATE", old=old))
    assert kept["allowed"] is True  # privileged before and after: not made worse
    assert any(w.startswith("[WL-001]") and "there before this update" in w for w in kept["warnings"])
    worse = webhook.admit(review(old, operation="UPDATE", old=hardened_pod("web")))
    assert worse["allowed"] is False and "[WL-001 privileged-container]" in worse["status"]["message"]


def test_exceptions_apply_as_in_a_scan_and_through_the_controller(webhook: Webhook) -> None:
    shipper = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "log-shipper", "namespace": "platform"},
        "spec": {"template": {"spec": hardened_pod(**PRIVILEGED)["spec"]}},
    }
    response = webhook.admit(review(shipper))
    assert response["allowed"] is True
    assert response["auditAnnotations"]["stockade-excepted"] == "WL-001"
    owned = hardened_pod("log-shipper-x7k2p", "platform", **PRIVILEGED)
    owned["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "log-shipper", "uid": "1", "controller": True}
    ]
    assert webhook.admit(review(owned))["allowed"] is True  # its controller's exception covers it
    replica = hardened_pod("api-5d8f6c7b9-abcde", "shop", **PRIVILEGED)
    replica["metadata"]["labels"] = {"pod-template-hash": "5d8f6c7b9"}
    replica["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-5d8f6c7b9", "uid": "2", "controller": True}
    ]
    assert webhook.admit(review(replica))["allowed"] is True  # the Deployment behind its ReplicaSet
    not_controller = json.loads(json.dumps(owned))
    not_controller["metadata"]["ownerReferences"][0]["controller"] = False
    assert webhook.admit(review(not_controller))["allowed"] is False
    expired = webhook.admit(review(hardened_pod("old-driver", **PRIVILEGED)))
    assert expired["allowed"] is False
    assert "expired on 2020-01-31" in expired["status"]["message"]


def test_the_ignore_annotation_waives_only_with_a_reason(webhook: Webhook) -> None:
    waived = hardened_pod("waived", **PRIVILEGED)
    waived["metadata"]["annotations"] = {
        "stockade.io/ignore": "privileged-container",
        "stockade.io/ignore-reason": "GPU driver",
    }
    assert webhook.admit(review(waived))["allowed"] is True
    del waived["metadata"]["annotations"]["stockade.io/ignore-reason"]
    assert webhook.admit(review(waived))["allowed"] is False
    template = deployment("gpu", "shop", hardened_pod(**PRIVILEGED)["spec"])
    template["spec"]["template"]["metadata"]["annotations"] = {
        "stockade.io/ignore": "WL-001",
        "stockade.io/ignore-reason": "GPU driver",
    }
    assert webhook.admit(review(template))["allowed"] is True


@pytest.mark.parametrize(
    ("namespace", "user", "groups", "reason"),
    [
        ("kube-system", "alice", ["system:authenticated"], "namespace"),
        ("shop", "ci-bot", ["system:authenticated"], "user"),
        ("shop", "root", ["system:masters"], "group"),
    ],
)
def test_exempt_requests_are_not_judged(
    webhook: Webhook, namespace: str, user: str, groups: list[str], reason: str
) -> None:
    response = webhook.admit(review(hardened_pod("x", namespace, **PRIVILEGED), user=user, groups=groups))
    assert response == {"uid": response["uid"], "allowed": True, "auditAnnotations": {"stockade-exempt": reason}}


def test_what_the_rules_do_not_judge_is_allowed(webhook: Webhook) -> None:
    privileged = hardened_pod("p", **PRIVILEGED)
    for sent in (
        review(privileged, sub_resource="status", operation="UPDATE", old=privileged),
        review(None, operation="DELETE", old=privileged),
        review(
            {"apiVersion": "v1", "kind": "PodExecOptions", "command": ["sh"]},
            operation="CONNECT",
            kind="PodExecOptions",
        ),
        review({"apiVersion": "acme.io/v1", "kind": "Frobnicator", "metadata": {"name": "f", "namespace": "shop"}}),
    ):
        response = webhook.admit(sent)
        assert response["allowed"] is True and "status" not in response


def test_a_secret_value_is_never_logged_or_answered(webhook: Webhook, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "namespace": "default",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"stringData":{"p":"hunter2-plain"}}'},
        },
        "data": {"password": "aHVudGVyMi1kYXRh"},
        "stringData": {"token": "hunter2-string"},
    }
    status, raw = webhook.client.request(
        "POST",
        "/validate",
        json.dumps(review(secret, namespace="default")).encode(),
        {"Content-Type": "application/json"},
    )
    answer = json.loads(raw)["response"]
    assert status == 200 and answer["allowed"] is False  # NS-001 (enforce): a Secret in the default namespace
    assert "[NS-001 default-namespace]" in answer["status"]["message"]
    for value in ("aHVudGVyMi1kYXRh", "hunter2"):
        assert value not in raw.decode()
        assert value not in caplog.text


# -- rules written for these tests: severity from the object, and one that raises ------------------
TEST_DOC = """A rule written for these tests.

## What it does
What its name says.

## Why is this bad?
It is not; it exercises the webhook.

## Example
```yaml
kind: ConfigMap
```

## Use instead
```yaml
kind: ConfigMap
```

## Remediation
None.
"""


def made_rule(check: Any, rule_id: str, name: str) -> Any:
    """``check`` as an object rule on ConfigMaps, with the documentation every rule carries."""
    meta: Any = {
        "id": rule_id,
        "name": name,
        "title": "A rule written for these tests",
        "severity": Severity.LOW,
        "area": Area.CONTAINER_PRIVILEGES,
        "stage": Stage.CRAWL,
        "remediation": "none",
    }
    return make_rule(check, Scope.OBJECT, meta, ["ConfigMap"], TEST_DOC)


def level_check(ctx: RuleContext, resource: Resource) -> Iterable[Violation]:
    data = resource.raw.get("data") or {}
    if "level" in data:
        yield Violation(f"level {data['level']}", ("data", "level"), severity=Severity(data["level"]))


def exploding_check(ctx: RuleContext, resource: Resource) -> Iterable[Violation]:
    if "explode" in (resource.raw.get("data") or {}):
        raise RuntimeError("boom")
    return ()


LEVEL_RULE = made_rule(level_check, "WL-901", "test-level")
EXPLODING_RULE = made_rule(exploding_check, "WL-902", "test-explodes")


def with_test_rules(failure_policy: str) -> AdmissionConfig:
    base = parse_admission_config(
        {"failure-policy": failure_policy, "rules": ["WL-001"], "pod-security": {"enabled": False}}
    )
    return dataclasses.replace(
        base,
        rules=(*base.rules, LEVEL_RULE, EXPLODING_RULE),
        rule_modes={**base.rule_modes, "WL-901": "enforce", "WL-902": "enforce"},
    )


def config_map(**data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "shop"},
        "data": data,
    }


def test_an_update_that_raises_a_findings_severity_is_denied(tmp_path: Path) -> None:
    with serving(tmp_path, with_test_rules("Fail")) as webhook:
        same = webhook.admit(review(config_map(level="high"), operation="UPDATE", old=config_map(level="high")))
        assert same["allowed"] is True
        lower = webhook.admit(review(config_map(level="low"), operation="UPDATE", old=config_map(level="high")))
        assert lower["allowed"] is True
        worse = webhook.admit(review(config_map(level="critical"), operation="UPDATE", old=config_map(level="high")))
        assert worse["allowed"] is False and "[WL-901 test-level] level critical" in worse["status"]["message"]


@pytest.mark.parametrize("policy", ["Fail", "Ignore"])
def test_a_rule_that_raises_is_answered_by_the_failure_policy(
    tmp_path: Path, policy: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="stockade.admission")
    with serving(tmp_path, with_test_rules(policy)) as webhook:
        response = webhook.admit(review(config_map(explode="yes")))
        message = "[WL-902] could not evaluate: RuntimeError: boom"
        if policy == "Fail":
            assert response["allowed"] is False
            assert response["status"]["code"] == 500 and response["status"]["message"] == message
        else:
            assert response["allowed"] is True
            assert response["warnings"] == [
                f"Stockade could not check this request (allowed: failure policy Ignore): {message}"
            ]
            assert response["auditAnnotations"]["stockade-error"] == message
        assert webhook.admit(review(config_map(calm="yes")))["allowed"] is True  # and it keeps serving
        assert counter(webhook, "stockade_admission_requests_total", result="error") == 1
    assert any("admission.error" in r.getMessage() for r in caplog.records)
