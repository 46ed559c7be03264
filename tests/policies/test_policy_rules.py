"""User policies as rules: ids, selection, exceptions, bad input, and one engine everywhere (scan,
the watcher's incremental evaluator and the admission webhook give the same findings)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

import stockade
from stockade.admission.config import parse_admission_config
from stockade.admission.decide import AdmissionDecider
from stockade.admission.namespaces import StaticNamespaces
from stockade.admission.review import parse_review
from stockade.api import ScanOptions, catalogue, scan
from stockade.engine.incremental import IncrementalEvaluator
from stockade.errors import SelectionError
from stockade.model.finding import Status
from stockade.model.resource import Origin, resource_from_raw
from stockade.policies.load import read_policies
from stockade.rules import rule_aliases
from tests.admission.support import review

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "examples" / "policies"


def deployment(
    name: str, namespace: str = "shop", replicas: int = 2, team: str | None = "storefront"
) -> dict[str, Any]:
    labels = {"team": team} if team is not None else {}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": "registry.example.com/app:1.0.0"}]},
            },
        },
    }


def service(name: str, namespace: str = "shop", kind: str = "NodePort") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"type": kind, "selector": {"app": name}, "ports": [{"port": 80}]},
    }


OBJECTS = [
    deployment("fine"),
    deployment("orphan", team=None),
    deployment("swarm", replicas=40),
    service("debug"),
    service("edge", namespace="ingress"),
    service("internal", kind="ClusterIP"),
]


def write_objects(tmp_path: Path, objects: list[dict[str, Any]]) -> Path:
    path = tmp_path / "objects.yaml"
    path.write_text(yaml.safe_dump_all(objects))
    return path


def policy_findings(result: stockade.ScanResult) -> set[tuple[str, str, str, str]]:
    return {
        (f.rule_id, f.resource.display, f.status.value, f.message)
        for f in result.findings
        if f.rule_id.startswith("POL-")
    }


def test_each_binding_and_constraint_is_a_rule_with_its_own_id() -> None:
    policies = read_policies([POLICIES])
    assert policies.problems == ()
    assert sorted(rule.id for rule in policies.rules) == [
        "POL-max-replicas",
        "POL-no-nodeport-services",
        "POL-require-team-label",
    ]
    titles = {rule.id: (rule.title, rule.severity.value) for rule in policies.rules}
    assert titles["POL-require-team-label"] == ("Workload without an owning team", "low")
    assert titles["POL-no-nodeport-services"] == ("Service of type NodePort", "medium")
    assert policies.admission_modes == {
        "POL-max-replicas": "enforce",
        "POL-no-nodeport-services": "enforce",
        "POL-require-team-label": "warn",
    }


def test_scan_reports_what_each_policy_says(tmp_path: Path) -> None:
    result = scan(stockade.FileSource([str(write_objects(tmp_path, OBJECTS))]), ScanOptions(policies=[POLICIES]))
    assert result.errors == []
    assert policy_findings(result) == {
        ("POL-require-team-label", "Deployment/shop/orphan", "fail", "Deployment orphan has no team label"),
        ("POL-max-replicas", "Deployment/shop/swarm", "fail", "replicas 40 is above the ceiling of 10"),
        ("POL-no-nodeport-services", "Service/shop/debug", "fail", "Service debug is of type NodePort"),
    }
    # Built-in rules run beside them, as in any scan.
    assert any(f.rule_id.startswith("WL-") for f in result.findings)


def test_policy_rules_are_selected_and_skipped_like_any_rule(tmp_path: Path) -> None:
    source = stockade.FileSource([str(write_objects(tmp_path, OBJECTS))])
    only = scan(source, ScanOptions(rules=["POL-max-replicas"], policies=[POLICIES]))
    assert {f.rule_id for f in only.findings} == {"POL-max-replicas"}
    family = scan(source, ScanOptions(rules=["POL"], skip_rules=["pol-require-team-label"], policies=[POLICIES]))
    assert {f.rule_id for f in family.findings} == {"POL-max-replicas", "POL-no-nodeport-services"}
    with pytest.raises(SelectionError):
        scan(source, ScanOptions(rules=["POL-max-replicas"]))  # no policies read: no such rule


def test_exceptions_waive_policy_rules(tmp_path: Path) -> None:
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text(
        "exceptions:\n"
        "- {rule: POL-max-replicas, namespace: shop, kind: Deployment, name: swarm, reason: load test,"
        " expires: 2099-01-01}\n"
    )
    result = scan(
        stockade.FileSource([str(write_objects(tmp_path, OBJECTS))]),
        ScanOptions(rules=["POL"], policies=[POLICIES], waivers=exceptions),
    )
    statuses = {(f.rule_id, f.resource.name): f.status for f in result.findings}
    assert statuses[("POL-max-replicas", "swarm")] is Status.EXCEPTED
    assert statuses[("POL-no-nodeport-services", "debug")] is Status.FAIL


BROKEN_VAP = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: broken}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}]
  validations:
  - expression: "object.spec.replicas >>>> 3"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: broken}
spec: {policyName: broken, validationActions: [Deny]}
"""

ORPHAN_CONSTRAINT = """\
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sNoSuchTemplate
metadata: {name: orphan-constraint}
spec: {match: {kinds: [{apiGroups: [""], kinds: [Pod]}]}}
"""


def test_a_broken_policy_is_an_input_problem_and_the_rest_still_judge(tmp_path: Path) -> None:
    extra = tmp_path / "more"
    extra.mkdir()
    (extra / "broken.yaml").write_text(BROKEN_VAP)
    (extra / "orphan.yaml").write_text(ORPHAN_CONSTRAINT)
    result = scan(
        stockade.FileSource([str(write_objects(tmp_path, OBJECTS))]),
        ScanOptions(rules=["POL"], policies=[POLICIES, extra]),
    )
    problems = {(Path(p.source.split(":")[0]).name, p.object) for p in result.errors}
    assert ("broken.yaml", "ValidatingAdmissionPolicy/broken") in problems
    assert ("orphan.yaml", "K8sNoSuchTemplate/orphan-constraint") in problems
    assert any("K8sNoSuchTemplate" in p.message for p in result.errors)
    assert result.gate("high") == 3
    assert {f.rule_id for f in result.findings} >= {"POL-max-replicas", "POL-no-nodeport-services"}


def test_an_unbound_policy_is_reported_skipped(tmp_path: Path) -> None:
    policy = tmp_path / "unbound.yaml"
    policy.write_text(BROKEN_VAP.split("---")[0].replace(">>>> 3", "> 3"))
    result = scan(
        stockade.FileSource([str(write_objects(tmp_path, OBJECTS))]), ScanOptions(rules=["POL"], policies=[policy])
    )
    assert result.skipped_rules == {
        "POL-broken": "ValidatingAdmissionPolicy 'broken' has no ValidatingAdmissionPolicyBinding"
    }


def test_missing_params_with_deny_is_an_error_not_a_pass(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text((POLICIES / "max-replicas.yaml").read_text().split("---\napiVersion: v1\nkind: ConfigMap")[0])
    result = scan(
        stockade.FileSource([str(write_objects(tmp_path, [deployment("any")]))]),
        ScanOptions(rules=["POL"], policies=[policy]),
    )
    found = [f for f in result.findings if f.rule_id == "POL-max-replicas"]
    assert len(found) == 1
    assert found[0].status in (Status.FAIL, Status.ERROR)
    assert "param" in found[0].message.lower()


def test_policies_in_the_sources_are_used_when_asked(tmp_path: Path) -> None:
    objects = write_objects(tmp_path, OBJECTS)
    cluster_like = tmp_path / "cluster"
    cluster_like.mkdir()
    (cluster_like / "objects.yaml").write_text(objects.read_text())
    for path in POLICIES.iterdir():
        (cluster_like / path.name).write_text(path.read_text())
    source = stockade.FileSource([str(cluster_like)])
    without = scan(source, ScanOptions())
    assert not policy_findings(without)
    within = scan(source, ScanOptions(policies_in_sources=True))
    assert {rule for rule, *_ in policy_findings(within)} == {
        "POL-max-replicas",
        "POL-no-nodeport-services",
        "POL-require-team-label",
    }


def test_one_engine_everywhere_scan_watcher_and_webhook(tmp_path: Path) -> None:
    """The same objects give the same policy findings through scan, the incremental evaluator
    and the admission decider (rule ids and messages)."""
    policies = read_policies([POLICIES])
    scanned = scan(
        stockade.FileSource([str(write_objects(tmp_path, OBJECTS))]), ScanOptions(rules=["POL"], policies=policies)
    )
    by_scan = {(rule, display, message) for rule, display, _, message in policy_findings(scanned)}

    rules = stockade.api.select(ScanOptions(rules=["POL"]), policies)
    incremental = IncrementalEvaluator(rules, rule_aliases=rule_aliases(catalogue(policies)), debounce=0)
    for number, raw in enumerate(OBJECTS):
        resource = resource_from_raw(raw, Origin("cluster", number))
        assert not isinstance(resource, str)
        incremental.upsert(resource)
    incremental.flush(force=True)
    by_watcher = {(f.rule_id, f.resource.display, f.message) for f in incremental.findings() if f.status is Status.FAIL}

    config = parse_admission_config({"policies": [str(POLICIES)], "rules": ["POL"], "pod-security": {"enabled": False}})
    decider = AdmissionDecider(config, StaticNamespaces({}))
    by_webhook = set()
    for raw in OBJECTS:
        decision = decider.decide(parse_review(orjson.dumps(review(raw))))
        by_webhook |= {
            (v.rule_id, f"{raw['kind']}/{raw['metadata']['namespace']}/{raw['metadata']['name']}", v.message)
            for v in decision.verdicts
        }
    assert by_scan == by_watcher == by_webhook
    assert len(by_scan) == 3


def test_the_webhook_acts_as_each_policy_asks() -> None:
    config = parse_admission_config({"policies": [str(POLICIES)], "pod-security": {"enabled": False}})
    decider = AdmissionDecider(config, StaticNamespaces({}), today=lambda: dt.date(2026, 1, 1))

    def decide(raw: dict[str, Any], **kwargs: Any) -> Any:
        return decider.decide(parse_review(orjson.dumps(review(raw, **kwargs))))

    denied = decide(deployment("swarm", replicas=40))
    assert not denied.allowed
    assert "POL-max-replicas" in (denied.message or "")
    warned = decide(deployment("orphan", team=None))
    assert warned.allowed
    assert any("[POL-require-team-label] Deployment orphan has no team label" in w for w in warned.warnings)
    assert decide(deployment("fine")).allowed
    # An UPDATE that keeps a violation is still denied: the policy decides updates itself.
    old = deployment("swarm", replicas=40)
    again = decide(deployment("swarm", replicas=41), operation="UPDATE", old=old)
    assert not again.allowed


def test_the_webhook_configuration_can_override_a_policys_own_mode() -> None:
    config = parse_admission_config(
        {
            "policies": [str(POLICIES)],
            "modes": {"rules": {"POL-max-replicas": "warn"}},
            "pod-security": {"enabled": False},
        }
    )
    assert config.rule_modes["POL-max-replicas"] == "warn"
    assert config.rule_modes["POL-no-nodeport-services"] == "enforce"
    decision = AdmissionDecider(config, StaticNamespaces({})).decide(
        parse_review(orjson.dumps(review(deployment("swarm", replicas=40))))
    )
    assert decision.allowed
    assert any("POL-max-replicas" in w for w in decision.warnings)
