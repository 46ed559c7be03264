"""Pod Security at the door, as the Pod Security Admission plugin decides, over real HTTPS; and
parity: at every vendored fixture's level and version, `enforce` allows exactly what
`stockade pss` evaluation allows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stockade.admission.namespaces import StaticNamespaces
from stockade.pss import evaluate_pod, parse_version
from tests.admission.support import Webhook, deployment, pod, review, serving
from tests.pss.fixtures import discover

ENFORCE = "pod-security.kubernetes.io/enforce"
SETTINGS = {
    "modes": {"default": "off"},  # Pod Security alone
    "pod-security": {
        "defaults": {"enforce": "privileged", "audit": "privileged", "warn": "privileged"},
        "exemptions": {"usernames": ["ci-bot"], "runtimeClasses": ["kata"], "namespaces": ["kube-system"]},
    },
}
NAMESPACES = {
    "strict": {ENFORCE: "restricted"},
    "layered": {
        ENFORCE: "baseline",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "v1.30",
    },
    "open": {},
    "pinned": {ENFORCE: "baseline", "pod-security.kubernetes.io/enforce-version": "v1.0"},
    "typo": {ENFORCE: "restricetd"},
    "kube-system": {ENFORCE: "restricted"},
}
SECCOMP_UNCONFINED = {"securityContext": {"seccompProfile": {"type": "Unconfined"}}}


@pytest.fixture(scope="module")
def webhook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Webhook]:
    with serving(tmp_path_factory.mktemp("psa"), SETTINGS, StaticNamespaces(NAMESPACES)) as served:
        yield served


def privileged_pod(namespace: str, name: str = "p", **spec: Any) -> dict[str, Any]:
    return pod(name, namespace, security={"privileged": True}, **spec)


def test_a_pod_failing_the_enforced_level_is_denied_as_the_plugin_denies_it(webhook: Webhook) -> None:
    response = webhook.admit(review(privileged_pod("strict")))
    assert response["allowed"] is False
    assert response["status"]["code"] == 403 and response["status"]["reason"] == "Forbidden"
    message = response["status"]["message"]
    assert message.startswith('pod violates PodSecurity "restricted:latest": privileged (container "app" must not')
    assert response["auditAnnotations"] == {"enforce-policy": "restricted:latest"}
    assert "warnings" not in response  # no warnings on a request that is refused


def test_warn_and_audit_levels_speak_without_denying(webhook: Webhook) -> None:
    response = webhook.admit(review(pod("p", "layered")))  # baseline passes, restricted does not
    assert response["allowed"] is True
    warnings = response["warnings"]
    assert warnings and all(w.startswith('would violate PodSecurity "restricted:v1.30": ') for w in warnings)
    assert all(len(w) <= 120 for w in warnings)
    annotations = response["auditAnnotations"]
    assert annotations["enforce-policy"] == "baseline:latest"  # a level label without a version: latest
    assert annotations["audit-violations"].startswith('would violate PodSecurity "restricted:latest": ')


def test_workload_resources_are_warned_and_audited_never_denied(webhook: Webhook) -> None:
    spec = privileged_pod("x")["spec"]
    quiet = webhook.admit(review(deployment("web", "strict", spec)))
    assert quiet == {"uid": quiet["uid"], "allowed": True}  # enforce only: the plugin says nothing
    loud = webhook.admit(review(deployment("web", "layered", spec)))
    assert loud["allowed"] is True
    assert loud["warnings"] and "audit-violations" in loud["auditAnnotations"]
    assert "enforce-policy" not in loud["auditAnnotations"]
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "layered"},
        "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {"spec": spec}}}},
    }
    assert webhook.admit(review(cron))["warnings"]


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        (review(privileged_pod("strict"), user="ci-bot"), "user"),
        (review(privileged_pod("kube-system")), "namespace"),
        (review(privileged_pod("strict", runtimeClassName="kata")), "runtimeClass"),
    ],
)
def test_exemptions(webhook: Webhook, sent: dict[str, Any], reason: str) -> None:
    response = webhook.admit(sent)
    assert response == {"uid": response["uid"], "allowed": True, "auditAnnotations": {"exempt": reason}}


def test_an_update_that_changes_nothing_pod_security_judges_is_not_checked(webhook: Webhook) -> None:
    old = privileged_pod("strict")
    relabelled = json.loads(json.dumps(old))
    relabelled["metadata"]["labels"] = {"tier": "front"}
    relabelled["spec"]["activeDeadlineSeconds"] = 30
    same = webhook.admit(review(relabelled, operation="UPDATE", old=old))
    assert same == {"uid": same["uid"], "allowed": True}  # not even the enforce-policy annotation
    reimaged = json.loads(json.dumps(old))
    reimaged["spec"]["containers"][0]["image"] = "registry.example.com/other:1"
    assert webhook.admit(review(reimaged, operation="UPDATE", old=old))["allowed"] is False
    seccomp = json.loads(json.dumps(old))
    seccomp["metadata"]["annotations"] = {"container.seccomp.security.alpha.kubernetes.io/app": "unconfined"}
    assert webhook.admit(review(seccomp, operation="UPDATE", old=old))["allowed"] is False
    debug = json.loads(json.dumps(old))
    debug["spec"]["ephemeralContainers"] = [{"name": "debug", "image": "busybox"}]
    sent = review(debug, operation="UPDATE", old=old, sub_resource="ephemeralcontainers")
    assert webhook.admit(sent)["allowed"] is False  # an added ephemeral container is judged


def test_ignored_subresources_and_operations(webhook: Webhook) -> None:
    bad = privileged_pod("strict")
    for sent in (
        review(bad, operation="UPDATE", old=bad, sub_resource="status"),
        review(bad, operation="UPDATE", old=bad, sub_resource="binding"),
        review(None, operation="DELETE", old=bad),
        review(deployment("web", "layered", bad["spec"]), operation="UPDATE", sub_resource="scale"),
    ):
        response = webhook.admit(sent)
        assert response == {"uid": response["uid"], "allowed": True}


def test_a_namespace_that_cannot_be_looked_up_is_an_internal_error(webhook: Webhook) -> None:
    for sent in (review(pod("p", "nowhere")), review(deployment("web", "nowhere", pod()["spec"]))):
        response = webhook.admit(sent)
        assert response["allowed"] is False
        assert response["status"] == {
            "code": 500,
            "message": "failed to lookup namespace nowhere",
            "reason": "InternalError",
            "status": "Failure",
        }


def test_an_unparsable_enforce_label_enforces_restricted_and_says_so(webhook: Webhook) -> None:
    response = webhook.admit(review(pod("p", "typo")))
    assert response["allowed"] is False
    assert response["status"]["message"].startswith('pod violates PodSecurity "restricted:latest"')
    assert response["auditAnnotations"]["error"] == (
        'Failed to parse policy: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "restricetd":'
        " must be one of privileged, baseline, restricted"
    )


def test_namespace_labels_are_validated_when_they_change(webhook: Webhook) -> None:
    def namespace(labels: dict[str, str]) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team", "labels": labels}}

    refused = webhook.admit(review(namespace({ENFORCE: "strict", "pod-security.kubernetes.io/warn-version": "1.30"})))
    assert refused["allowed"] is False and refused["status"]["code"] == 422
    assert refused["status"]["message"] == (
        'Namespace "team" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict":'
        " must be one of privileged, baseline, restricted, metadata.labels[pod-security.kubernetes.io/warn-version]:"
        ' Invalid value: "1.30": must be "latest" or "v1.x"'
    )
    assert webhook.admit(review(namespace({ENFORCE: "baseline"})))["allowed"] is True
    bad = namespace({ENFORCE: "strict"})
    relabelled = namespace({ENFORCE: "strict", "team": "payments"})
    assert webhook.admit(review(relabelled, operation="UPDATE", old=bad))["allowed"] is True  # already there
    assert webhook.admit(review(bad, operation="UPDATE", old=namespace({})))["allowed"] is False


def test_versions_are_read_as_the_plugin_reads_them(tmp_path: Path) -> None:
    unconfined = pod("p", "pinned", **SECCOMP_UNCONFINED)
    settings = {
        "modes": {"default": "off"},
        "pod-security": {"defaults": {"enforce": "baseline", "enforce-version": "v1.0"}},
    }
    namespaces = StaticNamespaces({"pinned": NAMESPACES["pinned"], "labelled": {ENFORCE: "baseline"}, "bare": {}})
    with serving(tmp_path, settings, namespaces) as webhook:
        assert webhook.admit(review(unconfined))["allowed"] is True  # baseline v1.0 predates the seccomp check
        unlabelled = webhook.admit(review(pod("p", "bare", **SECCOMP_UNCONFINED)))
        assert unlabelled["allowed"] is True  # the configured default: baseline v1.0
        assert unlabelled["auditAnnotations"]["enforce-policy"] == "baseline:v1.0"
        labelled = webhook.admit(review(pod("p", "labelled", **SECCOMP_UNCONFINED)))
        assert labelled["allowed"] is False  # a level label without a version means latest, not v1.0
        assert labelled["status"]["message"].startswith('pod violates PodSecurity "baseline:latest": seccompProfile')


FIXTURES = discover()


def test_enforce_allows_exactly_what_pss_evaluation_allows_for_every_fixture(tmp_path: Path) -> None:
    levels = {(f.level, f.minor) for f in FIXTURES}
    namespaces = StaticNamespaces(
        {
            f"{level}-v1-{minor}": {ENFORCE: level, "pod-security.kubernetes.io/enforce-version": f"v1.{minor}"}
            for level, minor in levels
        }
    )
    mismatches: list[str] = []
    judged = {"pass": 0, "fail": 0}
    with serving(tmp_path, {"modes": {"default": "off"}}, namespaces) as webhook:
        for fixture in FIXTURES:
            manifest = fixture.load()
            namespace = f"{fixture.level}-v1-{fixture.minor}"
            manifest.setdefault("metadata", {})["namespace"] = namespace
            answer = webhook.admit(review(manifest, namespace=namespace))
            expected = evaluate_pod(
                manifest["metadata"], manifest["spec"], fixture.level, parse_version(fixture.version)
            )
            if answer["allowed"] != expected.allowed or answer["allowed"] != (fixture.verdict == "pass"):
                mismatches.append(f"{fixture.id}: webhook {answer['allowed']}, pss {expected.allowed}")
            elif not answer["allowed"]:
                detail = ", ".join(v.message for v in expected.violations)
                assert (
                    answer["status"]["message"]
                    == f'pod violates PodSecurity "{fixture.level}:v1.{fixture.minor}": {detail}'
                )
            judged[fixture.verdict] += 1
    assert mismatches == []
    assert sum(judged.values()) == len(FIXTURES) > 3000
    assert judged["pass"] > 800 and judged["fail"] > 2000
