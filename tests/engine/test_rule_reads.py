"""Every rule declares what it reads (``reads=``, ``reads_owner=``), and reads nothing more.

Incremental evaluation re-runs a rule when an object of a kind it reads changes; a rule reading a
kind it does not declare would keep stale findings. Each rule runs over a rich inventory (the
demo, the real-world corpus, and the changing pool of the property test in each of its states)
through an Inventory that notes every kind asked of it, with a context of its own so that the
analyses it uses are built, and read, on its behalf.
"""

from __future__ import annotations

import copy
import dataclasses
from functools import cache
from pathlib import Path
from typing import Any, cast

import pytest

from stockade.api import collect
from stockade.engine.evaluate import evaluate
from stockade.engine.incremental import input_kinds
from stockade.model.inventory import Inventory, placement_of
from stockade.model.podspec import DEFAULT_EXTRA_TEMPLATE_PATHS, find_pod_template
from stockade.model.resource import Origin, Resource
from stockade.model.rule import READS_ANY, READS_PLACEMENT, Scope
from stockade.rules import load_rules
from stockade.rules.base import Rule, RuleConfig
from stockade.sources.files import FileSource
from tests.engine.pool import pool, resource
from tests.engine.reads import CRD, record_reads

ROOT = Path(__file__).resolve().parents[2]
CONFIG = RuleConfig(allowed_registries=("registry.example.com",))
RULES = list(load_rules().values())


@cache
def inventories() -> tuple[tuple[Resource, ...], ...]:
    read = collect([FileSource([str(ROOT / "examples" / "demo"), str(ROOT / "tests" / "data" / "corpus")])])
    assert read.resources
    files = tuple(dataclasses.replace(r, origin=Origin("files")) for r in read.resources)
    slots = pool()
    states = tuple(
        tuple(resource(variants[min(k, len(variants) - 1)]) for variants in slots)
        for k in range(max(len(v) for v in slots))
    )
    return (files, *states)


@pytest.mark.parametrize("rule_id", [rule.id for rule in RULES])
def test_a_rule_reads_only_what_it_declares(rule_id: str) -> None:
    rule = load_rules()[rule_id]
    for resources in inventories():
        recorded = record_reads(rule, list(resources), CONFIG)
        undeclared = set() if READS_ANY in rule.reads else recorded.read - {CRD} - rule.reads
        assert not undeclared, f"{rule.id} reads {sorted(undeclared)} but declares reads={sorted(rule.reads)}"
        assert not recorded.owner_lookups or rule.reads_owner, f"{rule.id} looks up controllers: reads_owner=True"


def test_the_recording_sees_the_reads_analyses_make_for_a_rule() -> None:
    """RB-017 reads ServiceAccounts itself and, through the RBAC review it asks for, Secrets and
    every pod template; NS-001 asks for the controllers of the objects it judges."""
    by_id = load_rules()
    seen_any = seen_owner = False
    for resources in inventories():
        review = record_reads(by_id["RB-017"], list(resources), CONFIG)
        assert {"ServiceAccount", "RoleBinding", "ClusterRoleBinding", "ClusterRole"} <= review.read
        seen_any = seen_any or {READS_PLACEMENT, "Secret"} <= review.read
        seen_owner = seen_owner or bool(record_reads(by_id["NS-001"], list(resources), CONFIG).owner_lookups)
    assert seen_any
    assert seen_owner


def test_rules_that_read_nothing_else_say_so() -> None:
    """A declaration is not a catch-all: rules judging one object alone declare nothing."""
    by_id = load_rules()
    assert by_id["WL-001"].reads == frozenset()
    assert by_id["SA-002"].reads == frozenset({"ServiceAccount"})
    assert by_id["PSS-022"].reads == frozenset({"Namespace"})
    assert by_id["NS-001"].reads_owner
    assert all(rule.reads for rule in RULES if rule.scope is Scope.INVENTORY)


def test_input_kinds_are_what_the_rules_judge_and_read() -> None:
    by_id = load_rules()
    only_pods = input_kinds([by_id["WL-001"]])
    assert {"Pod", "Deployment", "ReplicaSet", "CronJob", "Rollout", CRD} <= only_pods
    assert "ServiceAccount" not in only_pods
    assert input_kinds([by_id["NP-002"]]) == {"Service", CRD}
    assert input_kinds([by_id["SA-002"]]) >= {"ServiceAccount", "Pod"}
    rbac = input_kinds([by_id["RB-001"]])
    assert rbac == {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", CRD}
    # A rule reading every kind (pod templates, namespaces in use) needs the pod carriers listed.
    assert {"Secret", "Pod", "Deployment"} <= input_kinds([by_id["RB-017"]])
    extra = input_kinds([by_id["WL-001"]], {("example.com", "Runner"): ("spec", "template")})
    assert "Runner" in extra
    assert READS_ANY not in input_kinds(RULES)


def _touched(original: Resource) -> Resource:
    """``original`` changed everywhere but its placement: labels, annotations, and in its pod
    template the containers and the pod-level security settings."""
    raw = copy.deepcopy(dict(original.raw))
    metadata = raw.setdefault("metadata", {})
    if isinstance(metadata, dict):
        metadata["labels"] = {**(metadata.get("labels") or {}), "stockade.test/touched": "yes"}
        metadata["annotations"] = {**(metadata.get("annotations") or {}), "stockade.test/note": "touched"}
    template = find_pod_template(resource(raw))
    if template is not None:
        spec = cast(dict[str, Any], template.spec)
        spec.update(hostNetwork=True, hostPID=True, securityContext={"runAsUser": 0})
        spec["containers"] = [
            {"name": "swapped", "image": "docker.io/library/busybox", "securityContext": {"privileged": True}}
        ]
    touched = resource(raw)
    touched = dataclasses.replace(touched, origin=original.origin)
    assert placement_of(touched, DEFAULT_EXTRA_TEMPLATE_PATHS) == placement_of(original, DEFAULT_EXTRA_TEMPLATE_PATHS)
    return touched


def _outcomes(rules: list[Rule], resources: list[Resource]) -> dict[str, tuple[object, ...]]:
    result = evaluate(Inventory(resources), rules, config=CONFIG, include_passed=True, max_findings_per_rule=0)
    return {f.fingerprint: (f.status, f.severity, f.message) for f in result.findings}


PLACEMENT_READERS = [rule for rule in RULES if READS_PLACEMENT in rule.reads]


def test_rules_reading_placement_exist() -> None:
    assert {"NP-001", "RB-003", "RB-017"} <= {rule.id for rule in PLACEMENT_READERS}


@pytest.mark.parametrize("rule_id", [rule.id for rule in PLACEMENT_READERS])
def test_a_placement_reader_ignores_everything_else_of_kinds_it_does_not_name(rule_id: str) -> None:
    """READS_PLACEMENT is a promise: change every object of a kind the rule does not name, keeping
    only its placement, and the rule's findings stay exactly as they were."""
    rule = load_rules()[rule_id]
    compared = 0
    for resources in inventories():
        touched = [r if r.kind in rule.reads else _touched(r) for r in resources]
        compared += sum(1 for before, after in zip(resources, touched, strict=True) if before is not after)
        assert _outcomes([rule], touched) == _outcomes([rule], list(resources))
    assert compared > 100
