"""The PSS check rules (one per upstream check), generated from the evaluator's check table.

A check rule's module states the rule's metadata and docstring and names its check; this factory
gives it the rest from :data:`stockade.pss.registry.CHECKS`: the level the check belongs to, the
framework controls (the check id, in ``pss-baseline`` and/or ``pss-restricted`` as the newest
policy runs it), and the check itself. The check reads the evaluator's result for the pod at
policy ``latest``, computed once per pod and level within a scan, and reports its own check's
violation: the first offending field as the path, the evaluator's patch placed in the carrier as
the remediation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final, Unpack

from stockade.model.podspec import PodTemplate
from stockade.pss import LATEST, Level, checks_for
from stockade.pss.registry import CHECKS
from stockade.rules._pss import remediation_text, violation_path
from stockade.rules.base import PodCheck, Rule, RuleContext, RuleMeta, Scope, Violation, make_rule

_LEVELS: Final[Mapping[str, Level]] = {check.id: check.level for check in CHECKS}


def frameworks_of(check_id: str) -> dict[str, list[str]]:
    """The check as a control of each level whose newest policy runs it (restricted replaces some
    baseline checks with stricter ones; those count towards ``pss-baseline`` only)."""
    return {
        f"pss-{level}": [check_id]
        for level in ("baseline", "restricted")
        if any(info.id == check_id for info in checks_for(level, LATEST))
    }


def _check_of(check_id: str, level: Level) -> PodCheck:
    def check(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
        for found in ctx.analyses.pss(pod, level).violations:
            if found.check == check_id:
                yield Violation(
                    f"Pod Security {level}: {found.message}",
                    violation_path(pod, found),
                    remediation=remediation_text(pod, found.remediation),
                )

    check.__name__ = check.__qualname__ = f"pss_{check_id}"
    return check


def check_rule(check_id: str, doc: str | None, **meta: Unpack[RuleMeta]) -> Rule:
    """The rule for the evaluator's check ``check_id``, documented by ``doc`` (its module docstring)."""
    if check_id not in _LEVELS:
        raise ValueError(f"{meta.get('id', '?')}: no Pod Security check {check_id!r}")
    if "frameworks" in meta:
        raise ValueError(f"{meta.get('id', '?')}: a check rule's frameworks come from the check table")
    level = _LEVELS[check_id]
    return make_rule(_check_of(check_id, level), Scope.POD, {**meta, "frameworks": frameworks_of(check_id)}, doc=doc)
