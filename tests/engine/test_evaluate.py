"""The evaluation loop: statuses, fingerprints, waivers, pod-template discovery."""

from __future__ import annotations

import datetime as dt

import pytest

from stockade.engine.evaluate import evaluate, fingerprint
from stockade.engine.waivers import WaiversFileError, parse_waivers
from stockade.model.finding import ResourceRef, Status
from stockade.model.inventory import Inventory
from stockade.model.podspec import parse_template_path_option
from stockade.rules import load_rules, rule_aliases
from tests.helpers import inventory_from_yaml, resources_from_yaml

RULES = load_rules()
ALIASES = rule_aliases(RULES)
PRIVILEGED = RULES["WL-001"]

PRIVILEGED_DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: a
          image: x
          securityContext: {privileged: true}
        - name: b
          image: y
"""


def test_fail_and_pass_are_counted_per_container() -> None:
    result = evaluate(inventory_from_yaml(PRIVILEGED_DEPLOYMENT), [PRIVILEGED])
    failed = result.failed
    assert [(f.container, f.path) for f in failed] == [
        ("a", "spec.template.spec.containers[0].securityContext.privileged")
    ]
    assert result.passes.by_rule == {"WL-001": 1}
    assert failed[0].resource == ResourceRef("apps/v1", "Deployment", "shop", "web")


def test_include_passed_keeps_pass_findings() -> None:
    result = evaluate(inventory_from_yaml(PRIVILEGED_DEPLOYMENT), [PRIVILEGED], include_passed=True)
    assert sorted(f.status.value for f in result.findings) == ["fail", "pass"]


def test_fingerprint_is_stable_and_ignores_origin() -> None:
    first = evaluate(inventory_from_yaml(PRIVILEGED_DEPLOYMENT), [PRIVILEGED]).failed[0]
    moved = Inventory(resources_from_yaml("---\n# moved\n" + PRIVILEGED_DEPLOYMENT, file="other.yaml"))
    second = evaluate(moved, [PRIVILEGED]).failed[0]
    assert first.fingerprint == second.fingerprint
    assert first.location.file != second.location.file


def test_fingerprint_changes_with_rule_object_and_path() -> None:
    ref = ResourceRef("apps/v1", "Deployment", "shop", "web")
    base = fingerprint("WL-001", ref, "a", "p")
    assert base != fingerprint("WL-002", ref, "a", "p")
    assert base != fingerprint("WL-001", ResourceRef("apps/v1", "Deployment", "shop", "web2"), "a", "p")
    assert base != fingerprint("WL-001", ref, "a", "q")
    assert base != fingerprint("WL-001", ResourceRef("apps/v1", "Deployment", "other", "web"), "a", "p")


def test_annotation_waiver_with_reason_excepts() -> None:
    text = PRIVILEGED_DEPLOYMENT.replace(
        "metadata: {name: web, namespace: shop}",
        "metadata:\n  name: web\n  namespace: shop\n  annotations:\n"
        "    stockade.io/ignore: privileged-container\n    stockade.io/ignore-reason: lab only",
    )
    result = evaluate(inventory_from_yaml(text), [PRIVILEGED], rule_aliases=ALIASES)
    assert [f.status for f in result.findings] == [Status.EXCEPTED]
    assert result.findings[0].waiver is not None and result.findings[0].waiver.reason == "lab only"


def test_annotation_waiver_without_reason_stays_open_and_says_why() -> None:
    text = PRIVILEGED_DEPLOYMENT.replace(
        "metadata: {name: web, namespace: shop}",
        "metadata:\n  name: web\n  namespace: shop\n  annotations:\n    stockade.io/ignore: WL-001",
    )
    result = evaluate(inventory_from_yaml(text), [PRIVILEGED], rule_aliases=ALIASES)
    assert [f.status for f in result.findings] == [Status.FAIL]
    assert any("ignore-reason" in n for n in result.notices)


def _entries(items: list[dict[str, object]]) -> list[object]:
    return list(parse_waivers({"exceptions": items}, "ex.yaml", ALIASES))


def test_exceptions_file_waives_until_expiry_then_reopens() -> None:
    entries = _entries([{"rule": "WL-001", "namespace": "sh*", "name": "web", "reason": "r", "expires": "2030-01-01"}])
    inventory = inventory_from_yaml(PRIVILEGED_DEPLOYMENT)
    before = evaluate(inventory, [PRIVILEGED], exceptions=entries, today=dt.date(2029, 12, 31))  # type: ignore[arg-type]
    assert [f.status for f in before.findings] == [Status.EXCEPTED]
    after = evaluate(inventory, [PRIVILEGED], exceptions=entries, today=dt.date(2030, 1, 2))  # type: ignore[arg-type]
    assert [f.status for f in after.findings] == [Status.FAIL]
    assert "expired on 2030-01-01" in after.findings[0].message
    assert after.findings[0].waiver is not None and after.findings[0].waiver.expired


def test_stale_exception_is_reported() -> None:
    entries = _entries(
        [
            {"rule": "WL-001", "name": "web", "reason": "used"},
            {"rule": "WL-001", "name": "gone-*", "reason": "nothing matches"},
        ]
    )
    result = evaluate(inventory_from_yaml(PRIVILEGED_DEPLOYMENT), [PRIVILEGED], exceptions=entries)  # type: ignore[arg-type]
    assert [e.name for e in result.stale_exceptions] == ["gone-*"]


def test_container_scoped_exception_only_waives_that_container() -> None:
    text = PRIVILEGED_DEPLOYMENT.replace(
        "- name: b\n          image: y",
        "- name: b\n          image: y\n          securityContext: {privileged: true}",
    )
    entries = _entries([{"rule": "WL-001", "container": "b", "reason": "r"}])
    result = evaluate(inventory_from_yaml(text), [PRIVILEGED], exceptions=entries)  # type: ignore[arg-type]
    assert {(f.container, f.status) for f in result.findings} == {("a", Status.FAIL), ("b", Status.EXCEPTED)}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"rule": "WL-001"}, "'reason' is required"),
        ({"rule": "NOPE-1", "reason": "r"}, "unknown rule"),
        ({"rule": "WL-001", "reason": "r", "expires": "next week"}, "'expires' must be a date"),
        ({"rule": "WL-001", "reason": "r", "colour": "red"}, "unknown field"),
        ({"rule": "WL-001", "reason": "   "}, "must not be empty"),
        ("WL-001", "must be a mapping"),
    ],
)
def test_malformed_exceptions_are_config_errors(item: object, message: str) -> None:
    with pytest.raises(WaiversFileError, match=message):
        parse_waivers({"exceptions": [item]}, "ex.yaml", ALIASES)


def test_rule_crash_is_an_error_finding_not_a_pass() -> None:
    from stockade.rules.base import Rule

    def broken(ctx: object, container: object) -> list[object]:
        raise KeyError("boom")

    rule = Rule(**{**{f: getattr(PRIVILEGED, f) for f in PRIVILEGED.__dataclass_fields__}, "check": broken})
    result = evaluate(inventory_from_yaml(PRIVILEGED_DEPLOYMENT), [rule])
    assert {f.status for f in result.findings} == {Status.ERROR}
    assert result.passes.by_rule == {}


def test_not_applicable_rule_is_skipped_with_reason() -> None:
    from stockade.rules.base import Rule, RuleNotApplicable

    def needs_config(ctx: object, container: object) -> list[object]:
        raise RuleNotApplicable("no allow-list")

    rule = Rule(**{**{f: getattr(PRIVILEGED, f) for f in PRIVILEGED.__dataclass_fields__}, "check": needs_config})
    result = evaluate(inventory_from_yaml(PRIVILEGED_DEPLOYMENT), [rule])
    assert result.skipped_rules == {"WL-001": "no allow-list"}
    assert result.findings == [] and result.passes.by_rule == {}


def test_controller_owned_objects_are_not_counted_twice() -> None:
    text = (
        PRIVILEGED_DEPLOYMENT
        + """---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-abc
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, controller: true}]
spec:
  template:
    spec:
      containers: [{name: a, image: x, securityContext: {privileged: true}}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: orphan
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: deleted, controller: true}]
spec:
  template:
    spec:
      containers: [{name: a, image: x, securityContext: {privileged: true}}]
"""
    )
    result = evaluate(inventory_from_yaml(text), [PRIVILEGED])
    assert sorted(f.resource.name for f in result.failed) == ["orphan", "web"]


def test_every_workload_kind_and_crd_template_is_seen() -> None:
    spec = "containers: [{name: c, image: x, securityContext: {privileged: true}}]"
    text = f"""
apiVersion: batch/v1
kind: CronJob
metadata: {{name: cron, namespace: n}}
spec: {{jobTemplate: {{spec: {{template: {{spec: {{{spec}}}}}}}}}}}
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {{name: ro, namespace: n}}
spec: {{template: {{spec: {{{spec}}}}}}}
---
apiVersion: example.com/v1
kind: Runner
metadata: {{name: custom, namespace: n}}
spec: {{podTemplate: {{spec: {{{spec}}}}}}}
"""
    resources = resources_from_yaml(text)
    default = evaluate(Inventory(resources), [PRIVILEGED])
    assert sorted(f.resource.kind for f in default.failed) == ["CronJob", "Rollout"]
    key, path = parse_template_path_option("Runner.example.com=spec.podTemplate")
    custom = evaluate(Inventory(resources, {key: path}), [PRIVILEGED])
    assert sorted(f.resource.kind for f in custom.failed) == ["CronJob", "Runner"]
    assert default.failed[0].path.startswith("spec.jobTemplate.spec.template.spec.containers[0]")


def test_malformed_pod_specs_never_crash_rules() -> None:
    text = """
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: n}
spec:
  containers: "not-a-list"
  securityContext: 7
---
apiVersion: v1
kind: Pod
metadata: {name: q, namespace: n}
spec:
  containers: [5, {name: c, securityContext: [1], resources: "x", ports: {a: 1}}]
  volumes: "x"
"""
    result = evaluate(inventory_from_yaml(text), list(RULES.values()))
    errors = {(f.resource.name, f.rule_id, f.message) for f in result.findings if f.status is Status.ERROR}
    # Rules that must read a malformed field say so, naming it; no rule crashes on the shapes.
    context = "could not evaluate: MalformedField: spec.containers[1].securityContext must be an object, not [1]"
    ports = "could not evaluate: MalformedField: spec.containers[1].ports must be a list of objects, not {'a': 1}"
    volumes = "could not evaluate: MalformedField: spec.volumes must be a list of objects, not 'x'"
    readers = ("WL-001", "WL-002", "WL-003", "WL-004", "WL-005", "WL-011", "WL-012", "WL-013")
    image = "could not evaluate: MalformedField: spec.containers[1].image must name an image, not missing (the API server requires it)"
    assert errors == {("q", rule_id, context) for rule_id in readers} | {
        ("q", "WL-010", ports),
        ("q", "WL-009", volumes),
        *(("q", rule_id, image) for rule_id in ("IM-001", "IM-002", "IM-004")),
    }
    # What hides containers from every rule is an input problem naming the field.
    assert sorted((p.object, p.message) for p in result.errors) == [
        ("Pod/n/p", "spec.containers must be a list of objects, not 'not-a-list'; no rule checks what it holds"),
        ("Pod/n/q", "spec.containers[0] must be an object, not 5; no rule checks what it holds"),
    ]


def test_progress_reaches_the_total() -> None:
    pods = "".join(
        f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: n}}\nspec: {{containers: [{{name: c, image: x}}]}}\n"
        for i in range(450)
    )
    seen: list[tuple[int, int]] = []
    rules = [RULES["WL-001"], RULES["NP-002"], RULES["NP-001"]]  # container, object and inventory scopes
    evaluate(inventory_from_yaml(pods), rules, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (200, 452)
    assert seen[-1] == (452, 452)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_placing_a_line_keeps_every_other_field() -> None:
    import dataclasses

    from stockade.engine.evaluate import _at_line
    from stockade.model.finding import Finding, Location, ResourceRef, Severity, Status, Waiver

    found = Finding(
        "WL-001",
        Status.EXCEPTED,
        Severity.HIGH,
        ResourceRef("v1", "Pod", "shop", "web"),
        "message",
        Location("pod.yaml", 1),
        "fingerprint",
        "spec.containers[0]",
        "app",
        "fix it",
        Waiver("annotation", "reviewed"),
    )
    # Every field set to a value other than its default, so a field the copy forgets shows.
    assert all(getattr(found, f.name) != f.default for f in dataclasses.fields(Finding))
    assert _at_line(found, 7) == dataclasses.replace(found, location=Location("pod.yaml", 7))
