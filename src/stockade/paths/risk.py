"""Risk per finding: its severity, raised by how many attack paths from entry points it lies on.

``score = weight(severity) × (1 + paths)``, where ``paths`` counts the ranked entry-to-jewel paths
one of whose steps the finding enables. A critical finding on no path scores 10; a medium one on
three paths scores 16: the finding an attacker can actually use comes first. Findings of equal
score keep the scan's order (worst severity, then rule and object), so the ranking is stable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from stockade.model.finding import Finding, Severity
from stockade.paths.search import Analysis

WEIGHTS = {
    Severity.CRITICAL: 10,
    Severity.HIGH: 7,
    Severity.MEDIUM: 4,
    Severity.LOW: 2,
}


@dataclass(frozen=True, slots=True)
class Risk:
    score: int
    paths: int


def risk_of(finding: Finding, paths: int) -> Risk:
    return Risk(WEIGHTS.get(finding.severity, 1) * (1 + paths), paths)


def risks(analysis: Analysis, findings: Iterable[Finding]) -> dict[str, Risk]:
    """Fingerprint → risk, for every finding (those on no path keep their severity's weight)."""
    on_paths: dict[str, int] = {}
    for path in analysis.paths:
        for fix in path.fixes:
            if fix.fingerprint:
                on_paths[fix.fingerprint] = on_paths.get(fix.fingerprint, 0) + 1
    return {f.fingerprint: risk_of(f, on_paths.get(f.fingerprint, 0)) for f in findings}


def rank_by_risk(findings: list[Finding], scores: dict[str, Risk]) -> list[Finding]:
    """``findings`` highest risk first; a stable sort, so equal scores keep their order."""
    return sorted(findings, key=lambda f: -scores[f.fingerprint].score if f.fingerprint in scores else 0)
