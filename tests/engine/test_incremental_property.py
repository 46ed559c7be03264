"""The property incremental evaluation rests on: after any sequence of changes and a forced flush,
the findings equal those of a fresh evaluation of the same objects (fingerprint -> status,
severity, message, waiver), for every rule selection the watcher may run."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockade.api import ScanOptions, select
from stockade.engine.evaluate import evaluate
from stockade.engine.incremental import IncrementalEvaluator
from stockade.model.finding import Finding, Severity, Status, Waiver
from stockade.model.inventory import Inventory
from stockade.model.resource import Resource
from stockade.rules import load_rules, rule_aliases
from stockade.rules.base import Rule, RuleConfig
from tests.engine.pool import EXPIRY, exceptions, pool, resource

SLOTS = pool()
CONFIG = RuleConfig(allowed_registries=("registry.example.com",))
ALIASES = rule_aliases(load_rules())
SELECTIONS: dict[str, list[Rule]] = {
    "every rule": list(load_rules().values()),
    "all": select(ScanOptions(rules=["all"])),
    "default": select(),
}


@dataclass(frozen=True)
class Upsert:
    slot: int
    variant: int


@dataclass(frozen=True)
class Delete:
    slot: int


@dataclass(frozen=True)
class Relist:
    variants: tuple[int, ...]  # per slot: the variant held, or -1 for none


@dataclass(frozen=True)
class Flush:
    pass


@dataclass(frozen=True)
class NextDay:
    pass


def _slot_variant(draw: st.DrawFn) -> tuple[int, int]:
    slot = draw(st.integers(0, len(SLOTS) - 1))
    return slot, draw(st.integers(0, len(SLOTS[slot]) - 1))


@st.composite
def events(draw: st.DrawFn) -> Any:
    choice = draw(st.sampled_from(("upsert", "upsert", "upsert", "delete", "relist", "flush", "flush", "day")))
    if choice == "upsert":
        return Upsert(*_slot_variant(draw))
    if choice == "delete":
        return Delete(draw(st.integers(0, len(SLOTS) - 1)))
    if choice == "relist":
        return Relist(tuple(draw(st.integers(-1, len(variants) - 1)) for variants in SLOTS))
    return Flush() if choice == "flush" else NextDay()


Summary = dict[str, tuple[Status, Severity, str, Waiver | None]]


def summary(findings: Sequence[Finding]) -> Summary:
    summarised = {f.fingerprint: (f.status, f.severity, f.message, f.waiver) for f in findings}
    assert len(summarised) == len(findings), "fingerprints repeat: the comparison would hide a finding"
    return summarised


class Model:
    """The objects the evaluator should hold, in the order a fresh scan would see them."""

    def __init__(self) -> None:
        self.held: dict[int, Resource] = {}

    def fresh(self, rules: list[Rule], today: dt.date) -> Summary:
        inventory = Inventory([self.held[slot] for slot in sorted(self.held)])
        result = evaluate(
            inventory,
            rules,
            config=CONFIG,
            exceptions=exceptions(),
            rule_aliases=ALIASES,
            today=today,
            max_findings_per_rule=0,
        )
        return summary(result.findings)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(selection=st.sampled_from(sorted(SELECTIONS)), steps=st.lists(events(), min_size=1, max_size=30))
def test_incremental_findings_equal_a_fresh_evaluation(selection: str, steps: list[Any]) -> None:
    rules = SELECTIONS[selection]
    day = [EXPIRY - dt.timedelta(days=1)]
    evaluator = IncrementalEvaluator(
        rules, config=CONFIG, exceptions=exceptions(), rule_aliases=ALIASES, today=lambda: day[0], clock=lambda: 0.0
    )
    model = Model()
    for step in steps:
        if isinstance(step, Upsert):
            model.held[step.slot] = resource(SLOTS[step.slot][step.variant])
            evaluator.upsert(model.held[step.slot])
        elif isinstance(step, Delete):
            gone = model.held.pop(step.slot, None) or resource(SLOTS[step.slot][0])
            evaluator.delete(gone.group, gone.kind, gone.namespace, gone.name)
        elif isinstance(step, Relist):
            model.held = {s: resource(SLOTS[s][v]) for s, v in enumerate(step.variants) if v >= 0}
            evaluator.reset(model.held.values())
        elif isinstance(step, NextDay):
            day[0] += dt.timedelta(days=2)  # past the expiry of the first exceptions entry
        else:
            evaluator.flush(force=True)
            assert summary(evaluator.findings()) == model.fresh(rules, day[0])
    delta = evaluator.flush(force=True)
    assert not evaluator.pending()
    assert summary(evaluator.findings()) == model.fresh(rules, day[0])
    assert not delta.removed & delta.changed.keys()
    failing = Counter(
        (f.severity.value, f.rule_id, f.resource.namespace or "")
        for f in evaluator.findings()
        if f.status is Status.FAIL
    )
    assert evaluator.failing() == failing


def test_the_pool_gives_findings_of_every_scope_and_status() -> None:
    """The property is only as good as its pool: its objects must make rules of every scope fire,
    controllers hide their pods' templates, both kinds of waiver apply, and an entry expire."""
    rules = SELECTIONS["every rule"]
    scopes = {rule.id: rule.scope.value for rule in rules}
    findings: list[Finding] = []
    hidden = set()
    for k in range(max(len(variants) for variants in SLOTS)):
        held = [resource(variants[min(k, len(variants) - 1)]) for variants in SLOTS]
        inventory = Inventory(held)
        hidden |= {r.display for r in held} - {t.carrier.display for t in inventory.pod_templates}
        findings += evaluate(
            inventory,
            rules,
            config=CONFIG,
            exceptions=exceptions(),
            rule_aliases=ALIASES,
            today=EXPIRY + dt.timedelta(days=k % 2 * 2 - 1),
            max_findings_per_rule=0,
        ).findings
    assert {scopes[f.rule_id] for f in findings} == {"container", "pod", "object", "inventory"}
    assert {Status.FAIL, Status.EXCEPTED} <= {f.status for f in findings}
    waivers = [f.waiver for f in findings if f.waiver is not None]
    assert any(w.source == "annotation" for w in waivers)
    assert any(w.expired for w in waivers)
    assert any(not w.expired and w.expires for w in waivers)
    assert any("no stockade.io/ignore-reason" not in f.message and f.rule_id == "WL-008" for f in findings)
    assert {"ReplicaSet/shop/api-5d9", "Pod/shop/api-5d9-x1", "Job/shop/nightly-1"} <= hidden
    assert {f.rule_id for f in findings} >= {"NS-001", "SA-001", "SA-002", "NP-001", "NP-005", "PSS-022", "RB-017"}
