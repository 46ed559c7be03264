"""Per-scan analyses shared by rules: built on first use, kept for the scan, dropped with it.

Several rules read the same derived view of the inventory (the RBAC index, which pods the network
policies select, each pod's Pod Security result). Building it once per scan is the point; keeping
it on the :class:`~stockade.rules.base.RuleContext` (instead of a module-level memo) means two scans,
two threads or two tests never see each other's results.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

from stockade.model.inventory import Inventory
from stockade.pss import LATEST, CheckResults, evaluate_check, evaluate_view

if TYPE_CHECKING:
    from stockade.model.podspec import PodTemplate
    from stockade.pss import CheckViolation, Level, PolicyVersion, PssResult

T = TypeVar("T")


class Analyses:
    """The analyses of one inventory. ``get(build)`` runs ``build(inventory)`` once and keeps it."""

    __slots__ = ("_built", "_checks", "_inventory", "_pss")

    def __init__(self, inventory: Inventory, built: dict[Callable[[Inventory], object], object] | None = None) -> None:
        self._inventory = inventory
        # ``built`` may be handed over to keep the inventory-wide analyses of an earlier context
        # (incremental evaluation does, until an input of theirs changes); the per-pod caches
        # below always start empty.
        self._built: dict[Callable[[Inventory], object], object] = {} if built is None else built
        # (id of the pod spec, level, minor) → (the spec, its result). Holding the spec keeps its id
        # from being reused while the entry lives; the identity check covers templates built elsewhere.
        self._pss: dict[tuple[int, str, int], tuple[object, PssResult]] = {}
        # (id of the pod spec, minor) → (the spec, its check results): each check runs once per pod
        # and version, whether a level's evaluation or a rule asking for that one check needs it.
        self._checks: dict[tuple[int, int], tuple[object, CheckResults]] = {}

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
        key = (id(pod.spec), level, version.effective_minor)
        hit = self._pss.get(key)
        if hit is not None and hit[0] is pod.spec:
            return hit[1]
        result = evaluate_view(pod.view, level, version, self._check_results(pod, version))
        self._pss[key] = (pod.spec, result)
        return result

    def pss_check(self, pod: PodTemplate, check: str, version: PolicyVersion | None = None) -> CheckViolation | None:
        """One Pod Security check's violation for ``pod`` at ``version`` (default: latest), or None."""
        version = version or LATEST
        return evaluate_check(pod.view, check, version, self._check_results(pod, version))

    def _check_results(self, pod: PodTemplate, version: PolicyVersion) -> CheckResults:
        key = (id(pod.spec), version.effective_minor)
        hit = self._checks.get(key)
        if hit is not None and hit[0] is pod.spec:
            return hit[1]
        results: CheckResults = {}
        self._checks[key] = (pod.spec, results)
        return results
