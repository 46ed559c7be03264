"""The PSS scan rules: one per upstream check, exact paths and patches, namespaces, compliance."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest

from stockade.engine.compliance import summarize
from stockade.engine.evaluate import evaluate
from stockade.engine.selection import Selection, select_rules
from stockade.frameworks import framework_ids, load_framework
from stockade.model.finding import Finding, Status
from stockade.model.result import ScanResult
from stockade.pss import LATEST, checks_for, evaluate_pod, parse_version
from stockade.rules import load_rules
from stockade.rules._pss import field_path
from stockade.rules.base import Rule
from tests.helpers import inventory_from_raw, inventory_from_yaml
from tests.pss.fixtures import discover
from tests.pss.pods import apply_patch

RULES = load_rules()
PSS = [r for r in RULES.values() if r.family == "PSS"]
CHECK_RULES = {r.id: r for r in PSS if "pss-baseline" in r.frameworks or "pss-restricted" in r.frameworks}


def rule_check(rule: Rule) -> str:
    (check,) = {c for controls in rule.frameworks.values() for c in controls}
    return check


BY_CHECK = {rule_check(r): r for r in CHECK_RULES.values()}


def scan(raws: list[dict[str, Any]], rules: list[Rule] | None = None) -> ScanResult:
    return evaluate(inventory_from_raw(raws), rules or PSS)


def failed(result: ScanResult) -> list[Finding]:
    return [f for f in result.findings if f.status is Status.FAIL]


def test_one_rule_per_check_of_the_newest_policy() -> None:
    checks = {c.id for level in ("baseline", "restricted") for c in checks_for(level, LATEST)}
    assert set(BY_CHECK) == checks
    assert sorted(CHECK_RULES) == [f"PSS-{n:03d}" for n in range(1, 20)]
    for rule in CHECK_RULES.values():
        assert rule.name.startswith("pss-")


def test_framework_catalogues_are_the_check_ids_of_each_level() -> None:
    for level in ("baseline", "restricted"):
        framework = load_framework(f"pss-{level}")
        assert {c.id for c in framework.controls} == {c.id for c in checks_for(level, LATEST)}
        mapped = {c for r in CHECK_RULES.values() for c in r.frameworks.get(framework.id, ())}
        assert mapped == {c.id for c in framework.controls}


# Every v1.33 fixture: the check rules that fire are exactly the checks the newest policy violates.
FIXTURES = [f for f in discover() if f.minor == 33]


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.id)
def test_rules_fire_exactly_for_the_violated_checks(fixture: Any) -> None:
    pod = fixture.load()
    expected = set()
    for level in ("baseline", "restricted"):
        result = evaluate_pod(pod.get("metadata") or {}, pod["spec"], level, LATEST)
        expected |= {
            BY_CHECK[v.check].id for v in result.violations if BY_CHECK[v.check].frameworks.get(f"pss-{level}")
        }
    fired = {f.rule_id for f in failed(scan([pod], list(CHECK_RULES.values())))}
    assert fired == expected


def test_each_pod_is_evaluated_once_per_level_in_a_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    import stockade.pss

    calls: list[str] = []
    real = stockade.pss.evaluate_view

    def counted(view: Any, level: Any, version: Any) -> Any:
        calls.append(level)
        return real(view, level, version)

    monkeypatch.setattr(stockade.pss, "evaluate_view", counted)
    raws = [fixture.load() for fixture in FIXTURES[:20]]
    evaluate(inventory_from_raw(raws), list(CHECK_RULES.values()))
    assert len(calls) == 2 * len(raws)
    assert set(calls) == {"baseline", "restricted"}


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {container.apparmor.security.beta.kubernetes.io/web: unconfined}
    spec:
      hostNetwork: true
      containers:
        - name: web
          image: registry.example.com/shop/web:3.2
          ports: [{containerPort: 8080, hostPort: 80}]
          securityContext:
            privileged: true
            capabilities: {add: [SYS_ADMIN]}
        - name: sidecar
          image: registry.example.com/shop/proxy:1.0
      volumes:
        - {name: cache, emptyDir: {}}
        - {name: root, hostPath: {path: /}}
"""


def _patch_of(finding: Finding) -> dict[str, Any]:
    assert finding.remediation is not None
    words = shlex.split(finding.remediation)
    assert words[:4] == ["kubectl", "patch", "deployment", "web"], words
    assert words[4:7] == ["-n", "shop", "--type=strategic"]
    patch = json.loads(words[-1])
    assert isinstance(patch, dict)
    return patch


def test_findings_point_into_the_template_and_their_patches_fix_the_carrier() -> None:
    inventory = inventory_from_yaml(DEPLOYMENT)
    result = evaluate(inventory, PSS)
    by_rule = {f.rule_id: f for f in failed(result)}
    assert by_rule["PSS-002"].path == "spec.template.spec.containers[0].securityContext.privileged"
    assert by_rule["PSS-001"].path == "spec.template.spec.hostNetwork"
    assert by_rule["PSS-004"].path == "spec.template.spec.volumes[1].hostPath"
    assert by_rule["PSS-005"].path == "spec.template.spec.containers[0].ports[0].hostPort"
    assert by_rule["PSS-006"].path == (
        "spec.template.metadata.annotations.container.apparmor.security.beta.kubernetes.io/web"
    )
    assert by_rule["PSS-002"].message == (
        'Pod Security baseline: privileged (container "web" must not set securityContext.privileged=true)'
    )
    assert _patch_of(by_rule["PSS-002"]) == {
        "spec": {"template": {"spec": {"containers": [{"name": "web", "securityContext": {"privileged": False}}]}}}
    }
    raw = dict(inventory.resources[0].raw)
    for finding in failed(result):
        fixed = apply_patch(raw, _patch_of(finding))
        again = {f.rule_id for f in failed(evaluate(inventory_from_raw([fixed]), [RULES[finding.rule_id]]))}
        assert finding.rule_id not in again, finding
    # All patches together leave a pod the restricted level admits.
    for finding in failed(result):
        raw = apply_patch(raw, _patch_of(finding))
    assert failed(evaluate(inventory_from_raw([raw]), list(CHECK_RULES.values()))) == []


def test_remediation_for_pods_and_custom_resources_is_the_manifest_patch() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "a"},
        "spec": {"hostPID": True, "containers": [{"name": "c", "image": "x"}]},
    }
    rollout = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "r", "namespace": "a"},
        "spec": {"template": {"spec": {"hostPID": True, "containers": [{"name": "c", "image": "x"}]}}},
    }
    findings = failed(scan([pod, rollout], [RULES["PSS-001"]]))
    text = {f.resource.kind: f.remediation or "" for f in findings}
    assert text["Pod"].startswith("a Pod's spec cannot be patched in place")
    assert text["Pod"].endswith('{"spec":{"hostPID":false}}')
    assert text["Rollout"].endswith('(pod template at spec.template): {"spec":{"template":{"spec":{"hostPID":false}}}}')


def test_rules_explain_shows_the_docstring_remediation(capsys: pytest.CaptureFixture[str]) -> None:
    from stockade.cli.main import main

    assert main(["rules", "explain", "pss-privileged"]) == 0
    out = capsys.readouterr().out
    assert "PSS-002" in out
    assert RULES["PSS-002"].doc.remediation.splitlines()[0] in out


def test_restricted_framework_selection_gives_a_compliance_summary() -> None:
    rules = select_rules(RULES, Selection(frameworks=("pss-restricted",)), framework_ids())
    assert {r.id for r in rules} == {r.id for r in CHECK_RULES.values() if "pss-restricted" in r.frameworks}
    result = evaluate(inventory_from_yaml(DEPLOYMENT), rules)
    summary = summarize(result, load_framework("pss-restricted"))
    status = {c.control_id: c.status for c in summary.controls}
    assert "not-evaluated" not in status.values()
    assert status["privileged"] == "fail"
    assert status["runAsUser"] == "pass"
    assert status["procMount_restricted"] == "pass"
    assert 0 < summary.score < 100


def test_field_path_keeps_annotation_keys_whole() -> None:
    assert field_path("spec.containers[0].securityContext.privileged") == (
        "spec",
        "containers",
        0,
        "securityContext",
        "privileged",
    )
    assert field_path("metadata.annotations[container.apparmor.security.beta.kubernetes.io/a.b]") == (
        "metadata",
        "annotations",
        "container.apparmor.security.beta.kubernetes.io/a.b",
    )
    assert field_path("spec.containers") == ("spec", "containers")
    assert field_path("spec.volumes[x") == ("spec", "volumes", "x")


# --- namespaces ----------------------------------------------------------------------------------


def _namespace(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {f"pod-security.kubernetes.io/{k.replace('_', '-')}": v for k, v in labels.items()},
        },
    }


def _deployment(namespace: str, pod_spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"template": {"spec": pod_spec}},
    }


HOST_PROBE = {
    "containers": [{"name": "c", "image": "x", "livenessProbe": {"tcpSocket": {"host": "10.0.0.1", "port": 1}}}]
}


def _ids(result: ScanResult, rule_id: str) -> list[str]:
    return [f.resource.name for f in failed(result) if f.rule_id == rule_id]


def test_namespace_without_enforce_label_is_flagged_but_mentioned_namespaces_are_not() -> None:
    result = scan(
        [
            _namespace("bare", warn="restricted"),
            _namespace("ok", enforce="baseline"),
            _deployment("elsewhere", HOST_PROBE),
        ]
    )
    assert _ids(result, "PSS-020") == ["bare"]
    assert result.passes.by_rule["PSS-020"] == 1


def test_namespace_enforcing_privileged_is_flagged() -> None:
    result = scan([_namespace("sys", enforce="privileged"), _namespace("app", enforce="restricted")])
    assert _ids(result, "PSS-021") == ["sys"]


@pytest.mark.parametrize(
    ("labels", "rejected"),
    [
        ({"enforce": "baseline", "enforce_version": "v1.33"}, False),  # the host-probe check starts at v1.34
        ({"enforce": "baseline", "enforce_version": "v1.34"}, True),
        ({"enforce": "baseline"}, True),  # no version label: latest
        ({"enforce": "privileged"}, False),
        ({"warn": "restricted"}, False),  # warn never rejects
        ({}, False),
        ({"enforce": "strict"}, True),  # unreadable enforce level: the plugin fails closed to restricted
    ],
)
def test_workload_rejected_by_its_namespace_level_and_version(labels: dict[str, str], rejected: bool) -> None:
    result = scan([_namespace("shop", **labels), _deployment("shop", HOST_PROBE)], [RULES["PSS-022"]])
    findings = failed(result)
    assert bool(findings) is rejected
    if rejected:
        assert "hostProbesAndHostLifecycle" in findings[0].message
        assert "at the next rollout" in findings[0].message
        assert findings[0].path == "spec.template.spec.containers[0].livenessProbe.tcpSocket.host"
    else:
        assert result.passes.by_rule["PSS-022"] == 1


def test_workload_in_a_namespace_not_in_the_input_passes() -> None:
    result = scan([_deployment("shop", HOST_PROBE)], [RULES["PSS-022"]])
    assert failed(result) == []
    assert result.passes.by_rule["PSS-022"] == 1


def test_rejected_workload_gets_one_patch_for_every_violated_check() -> None:
    spec = {"hostPID": True, "containers": [{"name": "c", "image": "x", "securityContext": {"privileged": True}}]}
    result = scan(
        [_namespace("shop", enforce="restricted", enforce_version="v1.30"), _deployment("shop", spec)],
        [RULES["PSS-022"]],
    )
    (finding,) = failed(result)
    patch = json.loads(shlex.split(finding.remediation or "")[-1])
    fixed = apply_patch(_deployment("shop", spec), patch)
    template = fixed["spec"]["template"]
    assert evaluate_pod({}, template["spec"], "restricted", parse_version("v1.30")).allowed


def test_unreadable_labels_are_reported_with_what_the_plugin_uses() -> None:
    result = scan(
        [_namespace("shop", enforce="baseline", enforce_version="1.30", audit="Restricted")], [RULES["PSS-023"]]
    )
    messages = sorted(f.message for f in failed(result))
    assert len(messages) == 2
    assert "pod-security.kubernetes.io/audit='Restricted' is not one of privileged, baseline, restricted" in messages[0]
    assert "uses privileged instead" in messages[0]
    assert "enforce-version='1.30' is not 'latest' or 'v1.<minor>'; the admission plugin uses latest" in messages[1]
    assert {f.path for f in failed(result)} == {
        "metadata.labels.pod-security.kubernetes.io/audit",
        "metadata.labels.pod-security.kubernetes.io/enforce-version",
    }
