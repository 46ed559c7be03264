"""The scorecard: for each area, the stage reached, the evidence for each criterion, the findings
that block the next stage, and the next step (criteria: :mod:`stockade.posture.criteria`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from stockade.model.finding import Area, Finding, Stage, Status
from stockade.model.inventory import Inventory
from stockade.model.result import ScanResult
from stockade.posture.criteria import AREA_CRITERIA, Criterion, Outside, Present, RulesPass

STAGES = (Stage.CRAWL, Stage.WALK, Stage.RUN)


class Met(StrEnum):
    MET = "met"
    NOT_MET = "not met"
    NOT_ASSESSED = "not assessed"


@dataclass(frozen=True, slots=True)
class CriterionResult:
    criterion: Criterion
    met: Met
    evidence: str
    blockers: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class StageResult:
    stage: Stage
    criteria: tuple[CriterionResult, ...]

    @property
    def met(self) -> Met:
        """Not met when a criterion is not; met when the ones Stockade can judge are (steps outside
        the cluster are named, not counted); not assessed when it can judge none."""
        judged = [c for c in self.criteria if not isinstance(c.criterion.check, Outside)]
        states = {c.met for c in judged}
        if Met.NOT_MET in states:
            return Met.NOT_MET
        if not judged or Met.NOT_ASSESSED in states:
            return Met.NOT_ASSESSED
        return Met.MET


@dataclass(frozen=True, slots=True)
class AreaResult:
    area: Area
    reached: Stage | None  # None: not even crawl
    stages: tuple[StageResult, ...]
    next_step: str

    @property
    def assessed(self) -> bool:
        """Whether any criterion of the area could be judged from this source."""
        return any(c.met is not Met.NOT_ASSESSED for s in self.stages for c in s.criteria)

    @property
    def summary(self) -> str:
        """``run``, ``walk``, ``crawl``, ``not crawling``, ``not assessed``, or ``walk, then not
        assessed`` when the next stage is one Stockade cannot judge from what it read."""
        first = next((s for s in self.stages if s.met is not Met.MET), None)
        if first is None:
            return "run"
        if first.met is Met.NOT_MET:
            return self.reached.value if self.reached else "not crawling"
        return f"{self.reached.value}, then not assessed" if self.reached else "not assessed"

    def to_json(self) -> dict[str, Any]:
        return {
            "area": self.area.value,
            "label": self.area.label,
            "reached": self.reached.value if self.reached else None,
            "summary": self.summary,
            "next_step": self.next_step,
            "stages": [
                {
                    "stage": s.stage.value,
                    "status": s.met.value,
                    "criteria": [
                        {
                            "criterion": c.criterion.text,
                            "guide": c.criterion.guide,
                            "status": c.met.value,
                            "evidence": c.evidence,
                            "blockers": [f"{f.rule_id} {f.resource.display}" for f in c.blockers],
                        }
                        for c in s.criteria
                    ],
                }
                for s in self.stages
            ],
        }


@dataclass(slots=True)
class Scorecard:
    areas: list[AreaResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"areas": [a.to_json() for a in self.areas]}


def scorecard(result: ScanResult, live: bool) -> Scorecard:
    """``live``: the objects came from a cluster or a snapshot (so an add-on's absence means it is
    not installed); from manifests alone, absence proves nothing."""
    rules_by = defaultdict(list)
    for rule in result.rules:
        rules_by[(rule.area, rule.stage)].append(rule.id)
    failed: dict[str, list[Finding]] = defaultdict(list)
    judged: dict[str, int] = defaultdict(int)
    for finding in result.findings:
        judged[finding.rule_id] += 1
        if finding.status is Status.FAIL:
            failed[finding.rule_id].append(finding)
    for rule_id, count in result.passes.by_rule.items():
        judged[rule_id] += count
    inventory = result.inventory or Inventory(())
    card = Scorecard()
    for area, stages in AREA_CRITERIA.items():
        results = []
        for stage_criteria in stages:
            checks = []
            for criterion in stage_criteria.criteria:
                rules = rules_by[(area, stage_criteria.stage)]
                checks.append(_judge(criterion, rules, failed, judged, inventory, live))
            results.append(StageResult(stage_criteria.stage, tuple(checks)))
        reached: Stage | None = None
        next_step = "Keep it there: every stage is met."
        for stage_result, stage_criteria in zip(results, stages, strict=True):
            if stage_result.met is not Met.MET:
                next_step = stage_criteria.next_step
                if stage_result.met is Met.NOT_ASSESSED:
                    next_step += " (Stockade cannot see this from what it read.)"
                break
            reached = stage_result.stage
        card.areas.append(AreaResult(area, reached, tuple(results), next_step))
    return card


def _judge(
    criterion: Criterion,
    stage_rules: list[str],
    failed: dict[str, list[Finding]],
    judged: dict[str, int],
    inventory: Inventory,
    live: bool,
) -> CriterionResult:
    check = criterion.check
    if isinstance(check, Outside):
        return CriterionResult(criterion, Met.NOT_ASSESSED, f"happens in {check.where}, outside the cluster's objects")
    if isinstance(check, RulesPass):
        rules = list(check.rules) or stage_rules
        seen = [r for r in rules if judged.get(r)]
        if not seen:
            listed = ", ".join(rules) if rules else "no rule"
            return CriterionResult(criterion, Met.NOT_ASSESSED, f"{listed} judged nothing in what was read")
        blockers = tuple(f for r in seen for f in failed.get(r, ()))
        if blockers:
            ids = sorted({f.rule_id for f in blockers})
            return CriterionResult(criterion, Met.NOT_MET, f"{len(blockers)} findings of {', '.join(ids)}", blockers)
        return CriterionResult(
            criterion, Met.MET, f"{', '.join(seen)} passed on {sum(judged[r] for r in seen)} objects"
        )
    found = _present(check, inventory)
    if found:
        return CriterionResult(criterion, Met.MET, f"found {found}")
    if live:
        return CriterionResult(criterion, Met.NOT_MET, f"none of {', '.join(check.names or check.kinds)} was found")
    return CriterionResult(criterion, Met.NOT_ASSESSED, "manifests alone do not show the cluster's add-ons")


def _present(check: Present, inventory: Inventory) -> str:
    for resource in inventory.of_kind(*check.kinds):
        if check.groups and resource.group not in check.groups:
            continue
        if check.names and resource.name not in check.names and resource.labels.get("app") not in check.names:
            continue
        if any(resource.labels.get(key) != value for key, value in check.labels):
            continue
        return resource.display
    return ""
