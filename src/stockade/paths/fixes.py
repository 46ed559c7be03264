"""Which scan finding stands behind an edge: looked up by rule, object and field.

The graph is built from the objects themselves (a step's conditions are often a conjunction no one
rule states, such as hostPID with SYS_PTRACE), then each condition is matched to the finding that
reports it, so a path names the findings to fix and their fingerprints. A condition whose rule was
not run (or that no finding reports) keeps its rule id and field, with status ``not reported``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from stockade.model.finding import Finding
from stockade.paths.model import Fix

# The rules whose findings an edge can name: a scan for the graph needs no other (a test checks
# that every edge cites one of these).
PATH_RULES = (
    *("WL-001", "WL-003", "WL-004", "WL-006", "WL-008", "WL-009"),
    "SA-002",
    *(f"RB-{n:03d}" for n in range(1, 13)),
    *("NP-002", "NP-003", "NP-005"),
    *("PSS-020", "PSS-021"),
)
_CITED = frozenset(PATH_RULES)


def display(kind: str, namespace: str | None, name: str) -> str:
    """``Kind/namespace/name`` (``Kind/name`` when cluster-scoped): how findings name objects."""
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


class FixLookup:
    """Findings by (rule, object), for `fix`."""

    def __init__(self, findings: Iterable[Finding]) -> None:
        self._by_object: dict[tuple[str, str], list[Finding]] = defaultdict(list)
        for finding in findings:
            if finding.rule_id not in _CITED:
                continue
            self._by_object[(finding.rule_id, finding.resource.display)].append(finding)
        self._memo: dict[tuple[str, str, str, str | None], Fix] = {}

    def fix(self, rule_id: str, resource: str, path: str = "", container: str | None = None) -> Fix:
        """The finding of ``rule_id`` on ``resource`` at ``path`` (or, failing that, on ``container``)."""
        key = (rule_id, resource, path, container)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._find(rule_id, resource, path, container)
        return found

    def _find(self, rule_id: str, resource: str, path: str, container: str | None) -> Fix:
        candidates = self._by_object.get((rule_id, resource), [])
        chosen = next((f for f in candidates if path and f.path == path), None)
        if chosen is None and path:
            chosen = next((f for f in candidates if f.path.startswith(path) or path.startswith(f.path + ".")), None)
        if chosen is None and container is not None:
            chosen = next((f for f in candidates if f.container == container), None)
        if chosen is None and not path and candidates:
            chosen = candidates[0]
        if chosen is None:
            return Fix(rule_id, resource, path)
        return Fix(rule_id, resource, chosen.path, chosen.fingerprint, str(chosen.status))
