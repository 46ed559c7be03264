"""Incremental evaluation: findings kept current as objects change, at a cost that follows the change.

The watcher feeds object changes (``upsert``, ``delete``, ``reset`` on a relist) and calls
``flush()``; each flush returns what changed (:class:`FindingDelta`). Pure: no I/O.

How much a change costs depends on what the rules declare they read (``RuleSpec.reads``):

- a changed object is judged again at once by every container, pod and object rule that applies
  to it, and by nothing else; so is every object whose controller it is (adding a Deployment
  takes the pods of its ReplicaSets off the ReplicaSets, as a fresh scan's pod templates do);
- a rule that reads other kinds (an inventory rule, or e.g. SA-002 reading ServiceAccounts) is
  re-run over everything it judges when an object of such a kind changes, once per debounce
  period: due ``debounce`` seconds after the first change, or at once with ``flush(force=True)``.
  A CustomResourceDefinition change re-runs everything (it can move objects between namespaces);
- a date change re-judges the findings that an exceptions-file entry with an expiry matched.

Between a change of a read kind and the recompute, an object judged at once is judged against the
analyses (RBAC index, policy index) as they were built; the recompute then brings every target up
to date. After ``flush(force=True)`` the findings equal those of a fresh
:func:`~stockade.engine.evaluate.evaluate` over the same objects (same fingerprints, statuses,
severities, messages and waivers) run with ``max_findings_per_rule=0``: findings are never
capped per rule here, since a cap over the whole cluster would make one object's findings depend
on every other's. The per-rule-and-object cap applies as in a scan. Objects come from a cluster,
so findings carry no field lines (``locate`` is None).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from stockade.engine.evaluate import Judge, finding_order, unchecked_container_notices
from stockade.engine.live_inventory import CRD_KIND, Identity, LiveInventory, identity_of
from stockade.engine.waivers import WaiverBook
from stockade.model.finding import Finding, InputProblem, PassCounts, ResourceRef, Severity, Status
from stockade.model.inventory import placement_of
from stockade.model.podspec import BUILTIN_TEMPLATE_PATHS, DEFAULT_EXTRA_TEMPLATE_PATHS, PodTemplate
from stockade.model.resource import Resource
from stockade.model.result import ScanResult
from stockade.model.rule import EVERY_KIND_READS, READS_ANY, READS_PLACEMENT, RuleSpec, Scope
from stockade.model.waiver import WaiverEntry
from stockade.rules.analyses import Analyses
from stockade.rules.base import Rule, RuleConfig, RuleContext

TemplatePaths = Mapping[tuple[str, str], tuple[str, ...]]
FailingKey = tuple[str, str, str]  # severity, rule id, namespace ("" when cluster-scoped)


def input_kinds(
    rules: Iterable[RuleSpec], template_paths: TemplatePaths = DEFAULT_EXTRA_TEMPLATE_PATHS
) -> frozenset[str]:
    """The kinds ``rules`` judge or read: what a watcher lists and watches (and what the in-cluster
    ClusterRole grants). Object rules' kinds; every pod-carrying kind (built-in, and the CRD paths
    in ``template_paths``) when a rule judges pods or reads every kind (even if only their
    placement: pod templates and the namespaces in use); every declared ``reads``; and
    CustomResourceDefinition, which decides the scope of custom kinds."""
    kinds: set[str] = {CRD_KIND}
    carriers = False
    for rule in rules:
        if rule.scope is Scope.OBJECT and rule.kinds:
            kinds |= rule.kinds
        carriers = carriers or rule.scope in (Scope.POD, Scope.CONTAINER) or bool(rule.reads & EVERY_KIND_READS)
        kinds |= rule.reads - EVERY_KIND_READS
    if carriers:
        kinds |= {kind for _, kind in BUILTIN_TEMPLATE_PATHS}
        kinds |= {kind for _, kind in template_paths}
    return frozenset(kinds)


@dataclass(frozen=True, slots=True)
class FindingDelta:
    """What one flush changed. ``changed``: fingerprint -> the finding as it is now (new, or its
    status, severity, message or waiver changed); ``removed``: fingerprints no longer found;
    ``objects``: the objects those findings are on; ``recomputed``: the rules re-run over
    everything they judge; ``judged``: how many objects were judged by the per-object rules."""

    changed: Mapping[str, Finding]
    removed: frozenset[str]
    objects: frozenset[ResourceRef]
    recomputed: tuple[str, ...] = ()
    judged: int = 0

    def __bool__(self) -> bool:
        return bool(self.changed or self.removed)


_NO_RULES: list[RuleSpec] = []


class _Collector(Judge):
    skipped: dict[str, str]
    rule_notices: list[tuple[str, str]]

    """The shared Judge, pointed at a fresh result for each object or rule it runs; the rules found
    not to apply (``skipped``) are kept across them."""

    def begin(self) -> None:
        self.result = ScanResult(rules=_NO_RULES, skipped_rules=self.skipped)
        self.rule_notices = []

    def notice(self, rule_id: str, text: str) -> None:
        self.rule_notices.append((rule_id, text))


@dataclass(slots=True)
class _State:
    """What the rules said of one object (or, for an inventory rule, of the whole inventory)."""

    findings: dict[str, tuple[Finding, ...]]  # rule id -> its findings (rules that have some)
    passes: tuple[tuple[str, int], ...]  # rule id -> passes (shared between objects when equal)
    notices: tuple[tuple[str, str], ...] = ()  # (rule id, text)
    problems: tuple[InputProblem, ...] = ()


class _Changes:
    """The delta of one flush, built slot by slot."""

    def __init__(self, current: dict[str, Finding], failing: Counter[FailingKey]) -> None:
        self.current = current
        self.failing = failing
        self.changed: dict[str, Finding] = {}
        self.removed: set[str] = set()
        self.objects: set[ResourceRef] = set()

    def replace(self, old: tuple[Finding, ...], new: tuple[Finding, ...]) -> None:
        if old == new:
            return
        before = {f.fingerprint: f for f in old}
        after = {f.fingerprint: f for f in new}
        for fingerprint, found in before.items():
            if fingerprint not in after:
                self.removed.add(fingerprint)
                self.changed.pop(fingerprint, None)
                self._count(self.current.pop(fingerprint, None), -1)
                self.objects.add(found.resource)
        for fingerprint, found in after.items():
            if before.get(fingerprint) != found:
                self.changed[fingerprint] = found
                self.removed.discard(fingerprint)
                self._count(self.current.get(fingerprint), -1)
                self._count(found, 1)
                self.current[fingerprint] = found
                self.objects.add(found.resource)

    def _count(self, finding: Finding | None, step: int) -> None:
        if finding is not None and finding.status is Status.FAIL:
            key = (finding.severity.value, finding.rule_id, finding.resource.namespace or "")
            self.failing[key] += step
            if not self.failing[key]:
                del self.failing[key]

    def delta(self, recomputed: Iterable[str], judged: int) -> FindingDelta:
        return FindingDelta(
            dict(self.changed), frozenset(self.removed), frozenset(self.objects), tuple(recomputed), judged
        )


class IncrementalEvaluator:
    """Findings of ``rules`` over objects that change one at a time (see the module docstring).

    ``clock`` (monotonic seconds) times the debounce; ``today`` decides exception expiry.
    ``specific_remediations=False``: findings carry their rule's remediation, not the one written
    for their object (memory, for callers that never show remediations).
    """

    def __init__(
        self,
        rules: Sequence[Rule],
        *,
        config: RuleConfig | None = None,
        exceptions: Sequence[WaiverEntry] = (),
        rule_aliases: Mapping[str, str] | None = None,
        template_paths: TemplatePaths = DEFAULT_EXTRA_TEMPLATE_PATHS,
        severity_overrides: Mapping[str, Severity] | None = None,
        debounce: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], dt.date] = dt.date.today,
        specific_remediations: bool = True,
    ) -> None:
        aliases = (
            rule_aliases if rule_aliases is not None else {r.id: r.id for r in rules} | {r.name: r.id for r in rules}
        )
        self._live = LiveInventory(template_paths)
        self._config = config or RuleConfig()
        self._exceptions = list(exceptions)
        self._dated = any(entry.expires is not None for entry in self._exceptions)
        self._clock = clock
        self._today = today
        self._day = today()
        self._debounce = debounce
        self._judge = _Collector(
            self._live,
            rules,
            self._config,
            WaiverBook(list(exceptions)),
            aliases,
            self._day,
            False,
            None,
            max_findings_per_rule=0,
            severity_overrides=severity_overrides,
        )
        self._judge.skipped = {}
        self._judge.rule_notices = []
        self._judge.specific_remediations = specific_remediations
        self.rules: list[Rule] = self._judge.rules  # with the severity overrides applied
        self._pod_rules = [r for r in self.rules if r.scope is Scope.POD]
        self._container_rules = [r for r in self.rules if r.scope is Scope.CONTAINER]
        self._judges_pods = bool(self._pod_rules or self._container_rules)
        self._object_rules: dict[str, list[Rule]] = {}
        for rule in self.rules:
            for kind in sorted(rule.kinds or ()) if rule.scope is Scope.OBJECT else ():
                self._object_rules.setdefault(kind, []).append(rule)
        self._inventory_rules = [r for r in self.rules if r.scope is Scope.INVENTORY]
        self._readers: dict[str, set[str]] = {}
        self._any_readers: set[str] = set()
        self._placement_readers: set[str] = set()
        for rule in self.rules:
            if READS_ANY in rule.reads:
                self._any_readers.add(rule.id)
            elif READS_PLACEMENT in rule.reads:
                self._placement_readers.add(rule.id)
            for kind in rule.reads - EVERY_KIND_READS:
                self._readers.setdefault(kind, set()).add(rule.id)
        # Inventory-wide analyses, kept between flushes until a recompute (their inputs changed).
        self._built: dict[Callable[..., object], object] = {}
        self._states: dict[Identity, _State] = {}
        self._inventory_states: dict[str, _State] = {}
        self._current: dict[str, Finding] = {}
        self._failing: Counter[FailingKey] = Counter()
        self._passes: Counter[str] = Counter()
        self._interned: dict[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]] = {}
        self._dirty: dict[Identity, None] = {}  # objects to judge again, in order
        self._stale: set[str] = set()  # rules waiting for their debounced recompute
        self._due: float | None = None
        self._everything = False  # a CRD changed: the recompute judges every object again
        self._now: set[str] = set()  # inventory rules to re-run in the next flush, whatever the debounce
        self._sorted: list[Finding] | None = None
        self._now = {rule.id for rule in self._inventory_rules}  # judged on the first flush

    # -- changes -----------------------------------------------------------------------------
    def upsert(self, resource: Resource) -> None:
        """Add ``resource``, or replace the object of its identity (API group, kind, namespace, name)."""
        old = self._live.put(resource)
        self._dirty[identity_of(resource)] = None
        if old is None:
            self._presence_changed(resource)
        self._kind_changed(resource.kind, self._placement_moved(old, resource))

    def delete(self, group: str, kind: str, namespace: str | None, name: str) -> None:
        """Remove the object of that identity (nothing happens when there is none)."""
        identity = (group, kind, namespace, name)
        old = self._live.remove(identity)
        if old is None:
            return
        self._dirty[identity] = None
        self._presence_changed(old)
        self._kind_changed(kind, placement=True)

    def reset(self, resources: Iterable[Resource]) -> None:
        """A relist: hold exactly ``resources`` (objects that did not change are not judged again)."""
        fresh = {identity_of(r): r for r in resources}
        for identity in [i for i in self._live.identities if i not in fresh]:
            self.delete(*identity)
        for identity, resource in fresh.items():
            held = self._live.lookup(identity)
            if held is None or (held is not resource and held.raw != resource.raw):
                self.upsert(resource)

    def _presence_changed(self, resource: Resource) -> None:
        """An object came or went: the objects it controls change owner presence."""
        for dependent in self._live.dependents(self._live.name_key(resource)):
            self._dirty[dependent] = None

    def _placement_moved(self, old: Resource | None, new: Resource) -> bool:
        """Whether replacing ``old`` by ``new`` changes what READS_PLACEMENT rules see (an
        object that comes or goes always does)."""
        if old is None or not self._placement_readers:
            return True
        paths = self._live.template_paths
        return placement_of(old, paths) != placement_of(new, paths)

    def _kind_changed(self, kind: str, placement: bool) -> None:
        if kind == CRD_KIND:
            self._everything = True
            self._mark_stale({r.id for r in self.rules})
            return
        readers = self._readers.get(kind)
        if readers:
            self._mark_stale(readers)
        if self._any_readers:
            self._mark_stale(self._any_readers)
        if placement and self._placement_readers:
            self._mark_stale(self._placement_readers)

    def _mark_stale(self, rule_ids: set[str]) -> None:
        if not rule_ids <= self._stale:
            self._stale |= rule_ids
        if self._due is None:
            self._due = self._clock() + self._debounce

    # -- state -------------------------------------------------------------------------------
    def pending(self) -> bool:
        """Whether a debounced recompute is waiting."""
        return bool(self._stale)

    def due_at(self) -> float | None:
        """When the waiting recompute is due (on ``clock``), or None."""
        return self._due if self._stale else None

    def findings(self) -> list[Finding]:
        """Every finding now, sorted as :func:`~stockade.engine.evaluate.evaluate` sorts them."""
        if self._sorted is None:
            self._sorted = sorted(self._current.values(), key=lambda f: (*finding_order(f), f.fingerprint))
        return list(self._sorted)

    def current(self) -> Mapping[str, Finding]:
        """Every finding now by fingerprint (unsorted, not copied: read it before the next flush)."""
        return self._current

    def failing(self) -> Mapping[FailingKey, int]:
        """Open (failing) findings now, counted by (severity, rule id, namespace), kept as findings
        change: what a metrics endpoint shows, without walking a million findings to show it."""
        return self._failing

    def result(self) -> ScanResult:
        """The findings as a ScanResult, as a fresh scan of the objects would return it (the
        inventory is a snapshot; stale exceptions are those no finding matched since the start)."""
        snapshot = self._live.snapshot()
        notices = snapshot.duplicate_notices()
        errors: list[InputProblem] = []
        if self._judges_pods:
            notices.extend(unchecked_container_notices(snapshot))
        for state in (*self._states.values(), *self._inventory_states.values()):
            notices.extend(text for _, text in state.notices)
            errors.extend(state.problems)
        return ScanResult(
            rules=list(self.rules),
            findings=self.findings(),
            passes=PassCounts({rule: count for rule, count in self._passes.items() if count}),
            skipped_rules=dict(self._judge.skipped),
            errors=errors,
            stale_exceptions=self._judge.exceptions.stale(),
            notices=notices,
            resources_scanned=len(snapshot),
            inventory=snapshot,
        )

    # -- judging -----------------------------------------------------------------------------
    def flush(self, *, force: bool = False) -> FindingDelta:
        """Judge what changed since the last flush; re-run the rules whose inputs changed when their
        debounce is due (or ``force``). What changed in the findings."""
        judge = self._judge
        today = self._today()
        if today != self._day:
            self._day = judge.today = today
            self._rejudge_dated()
        recompute = bool(self._stale) and (force or (self._due is not None and self._due <= self._clock()))
        stale: set[str] = set()
        if recompute:
            stale, self._stale, self._due = self._stale, set(), None
            self._built = {}  # rebuilt from the objects as they are now, on first use
            if self._everything:
                self._everything = False
                self._dirty.update(dict.fromkeys(self._live.identities))
        judge.forget_objects()
        judge.ctx = RuleContext(self._live, self._config, Analyses(self._live, self._built))
        changes = _Changes(self._current, self._failing)
        dirty, self._dirty = self._dirty, {}
        for identity in dirty:
            self._judge_object(identity, changes)
        recomputed: list[str] = []
        for rule in self.rules:
            if rule.id in stale:
                recomputed.append(rule.id)
                if rule.scope is Scope.INVENTORY:
                    self._judge_inventory_rule(rule, changes)
                else:
                    for identity, template in self._targets(rule):
                        if identity not in dirty:
                            self._judge_rule_on(rule, identity, template, changes)
            elif rule.id in self._now:
                self._judge_inventory_rule(rule, changes)
        self._now.clear()
        if changes.changed or changes.removed:
            self._sorted = None
        return changes.delta(recomputed, len(dirty))

    def _targets(self, rule: Rule) -> Iterator[tuple[Identity, PodTemplate | None]]:
        """What ``rule`` judges: objects of its kinds, or the pod templates pod rules judge."""
        live = self._live
        if rule.scope is Scope.OBJECT:
            for kind in sorted(rule.kinds or ()):
                yield from ((identity, None) for identity in live.identities_of_kind(kind))
            return
        for identity in live.identities:
            template = live.evaluated_template(identity)
            if template is not None:
                yield identity, template

    def _judge_object(self, identity: Identity, changes: _Changes) -> None:
        """Every per-object rule on one object (its findings go when it is gone)."""
        old = self._states.pop(identity, None)
        resource = self._live.lookup(identity)
        new = None
        if resource is not None:
            judge = self._judge
            judge.begin()
            problems: list[InputProblem] = []
            if self._judges_pods:
                problems.extend(judge.shape_problems_of(resource))
                template = self._live.evaluated_template(identity)
                if template is not None:
                    judge.run_pod(template, self._pod_rules, self._container_rules)
                    self._forget(template)
            for rule in self._object_rules.get(resource.kind, ()):
                judge.judge_object(rule, resource)
            judge.summarise_overflow()
            problems.extend(judge.result.errors)
            new = self._states[identity] = self._collected(tuple(problems), old)
        self._replace(old, new, changes)

    def _judge_rule_on(self, rule: Rule, identity: Identity, template: PodTemplate | None, changes: _Changes) -> None:
        """One rule on one object (``template``: the pod template it judges), its earlier word replaced."""
        resource = self._live.lookup(identity)
        state = self._states.get(identity)
        if resource is None or state is None:
            return
        judge = self._judge
        judge.begin()
        if rule.scope is Scope.OBJECT:
            judge.judge_object(rule, resource)
        else:
            if template is None:
                return
            pod_rules = [rule] if rule.scope is Scope.POD else []
            judge.judge_pod(template, pod_rules, [rule] if not pod_rules else [])
            self._forget(template)
        judge.summarise_overflow()
        fresh = self._collected((), state)
        before, after = state.findings.get(rule.id), fresh.findings.get(rule.id)
        passes = dict(state.passes)
        passed_before, passed_now = passes.pop(rule.id, 0), dict(fresh.passes).get(rule.id, 0)
        if before is after and passed_before == passed_now and not state.notices and not fresh.notices:
            return  # the usual recompute: nothing changed on this object
        findings = {k: v for k, v in state.findings.items() if k != rule.id} | fresh.findings
        if passed_now:
            passes[rule.id] = passed_now
        notices = tuple(n for n in state.notices if n[0] != rule.id) + fresh.notices
        self._states[identity] = _State(findings, self._intern(passes), notices, state.problems)
        self._passes[rule.id] += passed_now - passed_before
        changes.replace(before or (), after or ())

    def _forget(self, template: PodTemplate) -> None:
        """What was derived from a pod to judge it is dropped once it is judged: kept for every pod
        of a large cluster, it would outweigh the findings."""
        self._judge.ctx.analyses.forget_pod(template)
        template.forget_view()

    def _judge_inventory_rule(self, rule: Rule, changes: _Changes) -> None:
        judge = self._judge
        judge.begin()
        judge.run_inventory_rule(rule)
        judge.summarise_overflow()
        old = self._inventory_states.get(rule.id)
        new = self._inventory_states[rule.id] = self._collected((), old)
        self._replace(old, new, changes)

    def _collected(self, problems: tuple[InputProblem, ...], earlier: _State | None) -> _State:
        """What the judge collected, as a state; findings equal to the ``earlier`` state's are kept
        as they were, so that a recompute that changes little leaves little new for the cyclic
        garbage collector to walk (at a million findings, a full collection is seconds)."""
        result = self._judge.result
        by_rule: dict[str, list[Finding]] = {}
        for found in result.findings:
            by_rule.setdefault(found.rule_id, []).append(found)
        before = earlier.findings if earlier is not None else {}
        findings = {}
        for rule, items in by_rule.items():
            fresh = tuple(items)
            kept = before.get(rule)
            findings[rule] = kept if kept is not None and kept == fresh else fresh
        return _State(
            findings,
            self._intern(result.passes.by_rule),
            tuple(self._judge.rule_notices),
            problems,
        )

    def _intern(self, passes: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
        key = tuple(sorted(passes.items()))
        return self._interned.setdefault(key, key)

    def _replace(self, old: _State | None, new: _State | None, changes: _Changes) -> None:
        """Account for ``new`` taking the place of ``old``."""
        if old is not None and new is not None and old.passes is new.passes:
            pass  # interned: the same passes
        else:
            if old is not None:
                self._passes.subtract(dict(old.passes))
            if new is not None:
                self._passes.update(dict(new.passes))
        before = old.findings if old is not None else {}
        after = new.findings if new is not None else {}
        for rule_id in before.keys() | after.keys():
            changes.replace(before.get(rule_id, ()), after.get(rule_id, ()))

    def _rejudge_dated(self) -> None:
        """The day changed: judge again whatever an exceptions entry with an expiry matched."""
        if not self._dated:
            return
        for identity, state in self._states.items():
            if _dated(state):
                self._dirty[identity] = None
        for rule_id, state in self._inventory_states.items():
            if _dated(state):
                self._now.add(rule_id)


def _dated(state: _State) -> bool:
    return any(
        f.waiver is not None and f.waiver.expires is not None and f.waiver.source != "annotation"
        for items in state.findings.values()
        for f in items
    )
