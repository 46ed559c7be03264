"""The PSS check rules: generated from the evaluator's table, one per upstream check, exact paths
and patches, compliance. (Manifest-to-finding cases are fixtures under tests/rules/PSS-0xx.)"""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest

from stockade.engine.compliance import summarize
from stockade.engine.evaluate import evaluate
from stockade.engine.selection import Selection, select_rules
from stockade.frameworks import framework_ids, load_framework
from stockade.model.finding import Area, Finding, Severity, Stage, Status
from stockade.model.result import ScanResult
from stockade.model.rule import Scope
from stockade.pss import LATEST, checks_for, evaluate_pod
from stockade.pss.registry import CHECKS
from stockade.rules import load_rules
from stockade.rules._pss import field_path
from stockade.rules.base import Rule, RuleContext
from stockade.rules.pss import pss002_pss_privileged as privileged_module
from stockade.rules.pss._checks import check_rule, frameworks_of
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


def test_each_check_runs_once_per_pod_and_its_result_is_shared() -> None:
    inventory = inventory_from_raw([fixture.load() for fixture in FIXTURES[:20]])
    ctx = RuleContext.of(inventory)
    for pod in inventory.pod_templates:
        baseline = ctx.analyses.pss(pod, "baseline")
        restricted = ctx.analyses.pss(pod, "restricted")
        assert ctx.analyses.pss(pod, "baseline") is baseline
        by_check = {v.check: v for v in baseline.violations}
        # A baseline check restricted keeps is the same result at both levels, not a second run...
        for violation in restricted.violations:
            if violation.check in by_check:
                assert violation is by_check[violation.check]
        # ...and what a single rule asks for (the WL rules do) is that result too.
        for violation in (*baseline.violations, *restricted.violations):
            assert ctx.analyses.pss_check(pod, violation.check) is violation
        assert ctx.analyses.pss_check(pod, "privileged") is by_check.get("privileged")


def test_a_check_asked_alone_is_reused_by_the_level_evaluation() -> None:
    inventory = inventory_from_raw([_privileged_pod()])
    (pod,) = inventory.pod_templates
    ctx = RuleContext.of(inventory)
    alone = ctx.analyses.pss_check(pod, "privileged")
    assert alone is not None
    assert alone in ctx.analyses.pss(pod, "baseline").violations
    assert next(v for v in ctx.analyses.pss(pod, "baseline").violations if v.check == "privileged") is alone


def _privileged_pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "a"},
        "spec": {"containers": [{"name": "c", "image": "x", "securityContext": {"privileged": True}}]},
    }


def test_check_rules_take_level_frameworks_and_check_from_the_table() -> None:
    levels = {check.id: check.level for check in CHECKS}
    for rule in CHECK_RULES.values():
        check = rule_check(rule)
        assert rule.frameworks == {key: tuple(ids) for key, ids in frameworks_of(check).items()}
        assert f"pss-{levels[check]}" in rule.frameworks
        assert rule.scope is Scope.POD and rule.default is False
    # Baseline checks that restricted replaces are controls of pss-baseline only.
    assert frameworks_of("capabilities_baseline") == {"pss-baseline": ["capabilities_baseline"]}
    assert frameworks_of("privileged") == {"pss-baseline": ["privileged"], "pss-restricted": ["privileged"]}


def test_check_rule_refuses_an_unknown_check_and_hand_written_frameworks() -> None:
    text = privileged_module.__doc__
    common: dict[str, Any] = {
        "id": "PSS-099",
        "name": "pss-made-up",
        "title": "Made up",
        "severity": Severity.LOW,
        "area": Area.CONTAINER_PRIVILEGES,
        "stage": Stage.CRAWL,
        "remediation": "r",
    }
    with pytest.raises(ValueError, match="no Pod Security check 'privileges'"):
        check_rule("privileges", text, **common)
    with pytest.raises(ValueError, match="frameworks come from the check table"):
        check_rule("privileged", text, frameworks={"pss-baseline": ["privileged"]}, **common)
    made = check_rule("privileged", text, **common)
    assert made.frameworks == RULES["PSS-002"].frameworks
    assert made.doc == RULES["PSS-002"].doc


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
