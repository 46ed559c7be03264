"""Per-scan analyses shared by rules: built on first use, kept for the scan, dropped with it.

Several rules read the same derived view of the inventory (the RBAC index, which pods the network
policies select, each pod's Pod Security result). Building it once per scan is the point; keeping
it on the :class:`~stockade.rules.base.RuleContext` (instead of a module-level memo) means two scans,
two threads or two tests never see each other's results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar, cast

from stockade.model.inventory import Inventory
from stockade.pss import LATEST, CheckResults, evaluate_check, evaluate_view

if TYPE_CHECKING:
    from stockade.model.podspec import PodTemplate
    from stockade.pss import CheckViolation, Level, PolicyVersion, PssResult

T = TypeVar("T")


class Analyses:
    """The analyses of one inventory. ``get(build)`` runs ``build(inventory)`` once and keeps it."""

    __slots__ = ("_built", "_inventory", "_pods")

    def __init__(self, inventory: Inventory, built: dict[Callable[[Inventory], object], object] | None = None) -> None:
        self._inventory = inventory
        # ``built`` may be handed over to keep the inventory-wide analyses of an earlier context
        # (incremental evaluation does, until an input of theirs changes); the per-pod caches
        # below always start empty.
        self._built: dict[Callable[[Inventory], object], object] = {} if built is None else built
        # id of the pod spec → (the spec, its results by (level, minor), its check results by minor):
        # each check runs once per pod and version, whether a level's evaluation or a rule asking for
        # that one check needs it. Holding the spec keeps its id from being reused while the entry
        # lives; the identity check covers templates built elsewhere.
        self._pods: dict[int, _PodResults] = {}

    @property
    def inventory(self) -> Inventory:
        return self._inventory

    def get(self, build: Callable[[Inventory], T]) -> T:
        try:
            return cast(T, self._built[build])
        except KeyError:
            value = self._built[build] = build(self._inventory)
            return value

    def pss(self, pod: PodTemplate, level: Level, version: PolicyVersion | None = None) -> PssResult:
        """The Pod Security result of ``pod`` at ``level`` and ``version`` (default: latest).

        Evaluated on the pod's typed view, the one its container rules read too."""
        version = version or LATEST
        cached = self._of(pod)
        key = (level, version.effective_minor)
        result = cached.results.get(key)
        if result is None:
            checks = cached.checks.setdefault(version.effective_minor, {})
            result = cached.results[key] = evaluate_view(pod.view, level, version, checks)
        return result

    def pss_check(self, pod: PodTemplate, check: str, version: PolicyVersion | None = None) -> CheckViolation | None:
        """One Pod Security check's violation for ``pod`` at ``version`` (default: latest), or None."""
        version = version or LATEST
        checks = self._of(pod).checks.setdefault(version.effective_minor, {})
        return evaluate_check(pod.view, check, version, checks)

    def forget_pod(self, pod: PodTemplate) -> None:
        """Drop what is kept for ``pod`` (incremental evaluation judges one object at a time;
        keeping every pod's results for a whole pass would hold them all at once)."""
        self._pods.pop(id(pod.spec), None)

    def _of(self, pod: PodTemplate) -> _PodResults:
        cached = self._pods.get(id(pod.spec))
        if cached is None or cached.spec is not pod.spec:
            cached = self._pods[id(pod.spec)] = _PodResults(pod.spec)
        return cached


@dataclass(slots=True)
class _PodResults:
    spec: object
    results: dict[tuple[Level, int], PssResult] = field(default_factory=dict)
    checks: dict[int, CheckResults] = field(default_factory=dict)
