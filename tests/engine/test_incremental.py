"""IncrementalEvaluator: what a flush judges, when a debounced recompute runs, what a delta says."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

from stockade.engine.evaluate import evaluate
from stockade.engine.incremental import IncrementalEvaluator
from stockade.model.finding import Area, Severity, Stage, Status
from stockade.model.inventory import Inventory
from stockade.model.podspec import ContainerRef
from stockade.model.waiver import WaiverEntry
from stockade.rules import load_rules
from stockade.rules.base import Rule, RuleContext, Violation, container_rule, rule_of
from tests.engine.pool import resource

DOC = """Counts the containers it is called with.

## What it does
Counts.

## Why is this bad?
It is a test.

## Example
```yaml
a: 1
```

## Use instead
```yaml
a: 2
```

## Remediation
None.
"""

CALLS: Counter[str] = Counter()


def count_containers(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
    CALLS[container.pod.carrier.name] += 1
    return iter(())


count_containers.__doc__ = DOC
_counting = rule_of(
    container_rule(
        id="WL-990",
        name="counting",
        title="Counting",
        severity=Severity.LOW,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.CRAWL,
        remediation="none",
    )(count_containers)
)
assert _counting is not None
COUNTING: Rule = _counting
RULES = load_rules()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def pod(name: str, namespace: str = "shop", *, privileged: bool = False, **meta: Any) -> dict[str, Any]:
    container = {"name": "app", "image": "registry.example.com/app:1", "securityContext": {"privileged": privileged}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}, **meta},
        "spec": {"containers": [container]},
    }


def deployment(name: str, namespace: str = "shop", *, privileged: bool = False) -> dict[str, Any]:
    template = pod(name, namespace, privileged=privileged)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": {"metadata": template["metadata"], "spec": template["spec"]}},
    }


def policy(name: str, selector: dict[str, Any], namespace: str = "shop") -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"podSelector": selector},
    }


def evaluator(*rule_ids: str, clock: Clock | None = None, **options: Any) -> IncrementalEvaluator:
    rules = [COUNTING if r == COUNTING.id else RULES[r] for r in rule_ids]
    return IncrementalEvaluator(rules, clock=clock or Clock(), **options)


def test_a_flush_after_one_pod_change_judges_that_pod_only() -> None:
    engine = evaluator("WL-990", "WL-001", "NP-005", "SA-002")
    engine.reset(resource(pod(f"p{i}")) for i in range(50))
    first = engine.flush(force=True)
    assert first.judged == 50
    assert sum(CALLS[f"p{i}"] for i in range(50)) >= 50
    CALLS.clear()
    engine.upsert(resource(pod("p7", privileged=True)))
    delta = engine.flush()
    assert delta.judged == 1
    assert dict(CALLS) == {"p7": 1}
    assert [f.rule_id for f in delta.changed.values()] == ["WL-001"]
    assert delta.recomputed == ()  # a Pod is read by none of these rules: nothing is waiting
    assert not engine.pending()


def test_the_delta_says_what_appeared_changed_and_went() -> None:
    engine = evaluator("WL-001", "WL-008")
    engine.upsert(resource(pod("web")))
    assert not engine.flush()  # a clean pod: no finding, an empty delta
    engine.upsert(resource(pod("web", privileged=True)))
    opened = engine.flush()
    (fingerprint, finding) = next(iter(opened.changed.items()))
    assert finding.rule_id == "WL-001" and finding.status is Status.FAIL
    assert opened.removed == frozenset()
    assert {ref.display for ref in opened.objects} == {"Pod/shop/web"}
    assert engine.findings() == [finding]
    waived = pod(
        "web",
        privileged=True,
        annotations={"stockade.io/ignore": "WL-001", "stockade.io/ignore-reason": "node agent"},
    )
    engine.upsert(resource(waived))
    changed = engine.flush()
    assert set(changed.changed) == {fingerprint}
    assert changed.changed[fingerprint].status is Status.EXCEPTED
    engine.upsert(resource(waived))  # the same object again: nothing to say
    assert not engine.flush()
    engine.delete("", "Pod", "shop", "web")
    gone = engine.flush()
    assert gone.removed == {fingerprint} and not gone.changed
    assert engine.findings() == []


def test_a_context_rule_is_recomputed_when_its_debounce_is_due_and_not_before() -> None:
    clock = Clock()
    engine = evaluator("NP-005", clock=clock, debounce=2.0)
    engine.reset(resource(pod(f"p{i}")) for i in range(3))
    opened = engine.flush(force=True)
    assert len(opened.changed) == 3  # no policy: every pod is open
    clock.now += 10
    engine.upsert(resource(policy("deny-all", {})))
    assert engine.pending() and engine.due_at() == 112.0
    clock.now += 1.9
    early = engine.flush()
    assert not early and early.recomputed == ()
    assert engine.pending()
    assert len(engine.findings()) == 3  # still the old word until the recompute
    clock.now += 0.1
    due = engine.flush()
    assert due.recomputed == ("NP-005",)
    assert len(due.removed) == 3 and not due.changed
    assert not engine.pending() and engine.due_at() is None
    engine.upsert(resource(policy("deny-all", {"matchLabels": {"app": "p1"}})))
    forced = engine.flush(force=True)  # forced: no waiting
    assert forced.recomputed == ("NP-005",)
    assert len(forced.changed) == 2


def test_a_changed_object_of_a_context_rule_is_judged_at_once() -> None:
    clock = Clock()
    engine = evaluator("NP-005", clock=clock)
    engine.upsert(resource(policy("web-only", {"matchLabels": {"app": "web"}})))
    engine.flush(force=True)
    engine.upsert(resource(pod("api")))
    delta = engine.flush()  # the pod is new: judged now
    assert [f.resource.name for f in delta.changed.values()] == ["api"]
    assert not engine.pending()
    engine.upsert(resource(policy("web-only", {"matchExpressions": [{"key": "app", "operator": "Exists"}]})))
    engine.upsert(resource(pod("worker")))
    delta = engine.flush()  # judged at once, against the policies as last analysed
    assert [f.resource.name for f in delta.changed.values()] == ["worker"]
    assert engine.pending()
    clock.now += 2
    settled = engine.flush()  # the recompute brings every pod up to date
    assert settled.recomputed == ("NP-005",)
    assert len(settled.removed) == 2 and engine.findings() == []


def test_adding_a_controller_takes_the_template_off_what_it_controls_at_once() -> None:
    engine = evaluator("WL-001", "WL-990")
    owned = pod("api-1", privileged=True, ownerReferences=[{"kind": "Deployment", "name": "api", "controller": True}])
    engine.upsert(resource(owned))
    assert {f.resource.name for f in engine.flush().changed.values()} == {"api-1"}
    engine.upsert(resource(deployment("api", privileged=True)))
    delta = engine.flush()
    assert {f.resource.display for f in delta.changed.values()} == {"Deployment/shop/api"}
    assert len(delta.removed) == 1  # the pod's finding: its owner carries the template now
    engine.delete("apps", "Deployment", "shop", "api")
    back = engine.flush()
    assert {f.resource.display for f in back.changed.values()} == {"Pod/shop/api-1"}


def test_an_exception_that_expires_reopens_its_finding_the_day_after() -> None:
    day = [dt.date(2030, 1, 31)]
    entry = WaiverEntry(rules=("WL-001",), reason="vendor", source="x.yaml#1", expires=dt.date(2030, 1, 31))
    engine = evaluator("WL-001", "RB-001", exceptions=[entry], today=lambda: day[0])
    engine.upsert(resource(pod("web", privileged=True)))
    (finding,) = engine.flush().changed.values()
    assert finding.status is Status.EXCEPTED
    day[0] += dt.timedelta(days=1)
    (reopened,) = engine.flush().changed.values()
    assert reopened.status is Status.FAIL and "expired on 2030-01-31" in reopened.message


def test_a_crd_change_recomputes_everything_once_due() -> None:
    clock = Clock()
    engine = evaluator("NS-001", clock=clock)
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    engine.upsert(resource(widget))
    assert not engine.flush(force=True)  # unknown scope, no namespace: not in default
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Widget", "plural": "widgets"}},
    }
    engine.upsert(resource(crd))
    assert engine.pending()
    clock.now += 2
    assert "NS-001" in engine.flush().recomputed
    assert engine.findings() == []  # NS-001 does not judge Widgets; their scope is what changed
    result = engine.result()
    assert result.inventory is not None and result.inventory.effective_namespace(resource(widget)) == "default"


def test_the_result_is_what_a_fresh_evaluation_returns() -> None:
    rules = [RULES[r] for r in ("WL-001", "IM-003", "NP-001", "RB-001")]
    objects = [resource(pod("web", privileged=True)), resource(pod("api")), resource(policy("deny", {}, "other"))]
    engine = IncrementalEvaluator(rules, clock=Clock())
    engine.reset(objects)
    engine.flush(force=True)
    got = engine.result()
    fresh = evaluate(Inventory(objects), rules, max_findings_per_rule=0)
    assert got.findings == fresh.findings
    assert got.passes == fresh.passes
    assert got.skipped_rules == fresh.skipped_rules == {"IM-003": got.skipped_rules["IM-003"]}
    assert got.resources_scanned == 3
    assert [r.id for r in got.rules] == [r.id for r in rules]


def _cluster_admin(account: str, namespace: str = "shop") -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": f"{account}-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
    }


def _exec_role(account: str, namespace: str = "shop") -> list[dict[str, Any]]:
    rbac = "rbac.authorization.k8s.io"
    return [
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "Role",
            "metadata": {"name": "debug", "namespace": namespace},
            "rules": [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}],
        },
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "debug", "namespace": namespace},
            "roleRef": {"apiGroup": rbac, "kind": "Role", "name": "debug"},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
        },
    ]


def _runs_as(raw: dict[str, Any], account: str) -> dict[str, Any]:
    raw["spec"]["template"]["spec"]["serviceAccountName"] = account
    return raw


def test_a_workload_change_recomputes_placement_readers_only_when_its_placement_moves() -> None:
    """RB-017 reads, of a Deployment, only which service account its pods run as: a new image is
    no reason to re-run it; a new service account is, and the result then equals a fresh scan."""
    clock = Clock()
    engine = evaluator("RB-017", "WL-001", clock=clock)
    objects = [_cluster_admin("admin"), *_exec_role("dev"), _runs_as(deployment("api"), "default")]
    engine.reset(resource(raw) for raw in objects)
    engine.flush(force=True)
    engine.upsert(resource(_runs_as(deployment("api", privileged=True), "default")))
    assert not engine.pending()  # only WL-001 judges the new container, at once
    assert engine.flush().recomputed == ()
    moved = _runs_as(deployment("api", privileged=True), "admin")
    engine.upsert(resource(moved))
    assert engine.pending()
    assert engine.flush(force=True).recomputed == ("RB-017",)
    fresh = evaluate(
        Inventory([resource(raw) for raw in [*objects[:-1], moved]]), engine.rules, max_findings_per_rule=0
    )
    assert {f.fingerprint: f.message for f in engine.findings()} == {f.fingerprint: f.message for f in fresh.findings}
    assert [f.message for f in engine.findings() if "ServiceAccount/shop/dev" in f.message] == [
        "ServiceAccount/shop/dev is cluster-admin-equivalent: can create pods/exec in namespace shop, "
        "where pods run as ServiceAccount/shop/admin"
    ]


def test_an_object_that_comes_or_goes_always_recomputes_placement_readers() -> None:
    engine = evaluator("NP-001")
    engine.reset([resource(pod("a"))])
    engine.flush(force=True)
    engine.upsert(resource(pod("a", privileged=True)))
    assert not engine.pending()
    engine.upsert(resource(pod("b", namespace="web")))
    assert engine.pending()
    assert {f.resource.name for f in engine.flush(force=True).changed.values()} == {"web"}
    engine.delete("", "Pod", "web", "b")
    assert engine.pending()
    assert set(engine.flush(force=True).removed)


def test_without_specific_remediations_findings_carry_their_rules_and_are_otherwise_the_same() -> None:
    objects = [resource(deployment("api", privileged=True)), resource(pod("lone", privileged=True))]
    full = evaluator("WL-001", "WL-005")
    slim = evaluator("WL-001", "WL-005", specific_remediations=False)
    for engine in (full, slim):
        engine.reset(objects)
        engine.flush(force=True)
    by_id = {rule.id: rule for rule in slim.rules}
    assert [f.remediation for f in slim.findings()] == [by_id[f.rule_id].remediation for f in slim.findings()]
    assert any(f.remediation != by_id[f.rule_id].remediation for f in full.findings())  # kubectl patches
    assert [(f.fingerprint, f.status, f.message) for f in slim.findings()] == [
        (f.fingerprint, f.status, f.message) for f in full.findings()
    ]


def test_what_was_derived_from_a_pod_to_judge_it_is_not_kept() -> None:
    """A watcher holds every object of a cluster; the typed views and Pod Security results built
    to judge each pod would outweigh its findings if they were kept."""
    engine = evaluator("WL-001", "PSS-002")
    engine.reset([resource(deployment(f"d{i}", privileged=True)) for i in range(5)])
    engine.flush(force=True)
    templates = [t for _, t in engine._targets(engine.rules[0])]
    assert len(templates) == 5
    assert all(t._view is None for t in templates)
    assert not engine._judge.ctx.analyses._pods
    assert len(engine.findings()) == 10


def test_findings_judged_one_object_at_a_time_are_safe_to_show_as_a_scans_are() -> None:
    raw = pod("api", privileged=True)
    raw["spec"]["containers"][0]["name"] = "app\udcff"
    engine = evaluator("WL-001")
    engine.reset([resource(raw)])
    engine.flush(force=True)
    [found] = engine.findings()
    assert "app\\xff" in found.message
    found.message.encode()  # a lone surrogate would not encode
