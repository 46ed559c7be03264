"""The evaluation loop: run selected rules over an Inventory and build findings.

Pure: no files, no network. Line numbers come from an injected ``locate`` callable, asked once
for every finding of the scan after the rules ran (the file source reads only the documents that
have findings, and a large batch on two cores).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from sys import intern
from typing import cast

from stockade.engine.limits import MAX_FINDINGS_PER_RULE, MAX_FINDINGS_PER_RULE_AND_OBJECT
from stockade.engine.waivers import WaiverBook, annotation_waiver
from stockade.model.finding import (
    Finding,
    InputProblem,
    Location,
    ResourceRef,
    Severity,
    Status,
    Waiver,
)
from stockade.model.inventory import Inventory
from stockade.model.podspec import (
    MAX_CHECKED_CONTAINERS,
    ContainerRef,
    PodTemplate,
    UncheckedContainers,
    pod_shape_problems,
)
from stockade.model.request import RequestFacts
from stockade.model.resource import EMPTY, Origin, Resource
from stockade.model.result import ScanResult
from stockade.model.rule import Scope
from stockade.model.text import safe_text
from stockade.model.waiver import WaiverEntry
from stockade.rules.base import (
    ContainerCheck,
    InventoryCheck,
    ObjectCheck,
    Outcome,
    Path,
    PodCheck,
    Rule,
    RuleConfig,
    RuleContext,
    RuleNotApplicable,
    Violation,
    format_path,
)

# The lines of many (origin, path) requests, in order.
Locate = Callable[[Sequence[tuple[Origin, Path]]], list[int]]
# Told (done, total) as the evaluation advances; units are pod templates plus one per other rule.
ProgressCallback = Callable[[int, int], None]


@dataclasses.dataclass(slots=True)
class _RuleOverflow:
    """The findings of one rule past the scan-wide listing limit, counted by outcome."""

    rule: Rule
    failed: int = 0
    excepted: int = 0
    severity: Severity | None = None  # the worst of the open ones


@dataclasses.dataclass(slots=True)
class _Overflow:
    """The findings of one rule on one object past the listing limit: counted, not kept."""

    rule: Rule
    resource: Resource
    annotations: Mapping[str, object] | None
    severity: Severity
    count: int = 0


def fingerprint(rule_id: str, ref: ResourceRef, container: str | None, path: str) -> str:
    """Stable across runs: same rule + object + container + path → same id."""
    group = ref.api_version.rpartition("/")[0]
    key = "\x1f".join((rule_id, group, ref.kind, ref.namespace or "", ref.name, container or "", path))
    # surrogatepass: a name holding undecodable bytes still has one stable fingerprint.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:20]


class Judge:
    """Runs rules and turns what they yield into findings (fingerprints, waivers, severities,
    limits, errors): the one implementation behind a full scan (:func:`evaluate`) and incremental
    evaluation (:mod:`stockade.engine.incremental`), which points ``result`` at a fresh
    ``ScanResult`` to collect what one object or one rule gives."""

    def __init__(
        self,
        inventory: Inventory,
        rules: Sequence[Rule],
        config: RuleConfig,
        exceptions: WaiverBook,
        rule_aliases: Mapping[str, str],
        today: dt.date,
        include_passed: bool,
        locate: Locate | None,
        progress: ProgressCallback | None = None,
        max_findings_per_rule: int = MAX_FINDINGS_PER_RULE,
        severity_overrides: Mapping[str, Severity] | None = None,
        request: RequestFacts | None = None,
    ) -> None:
        # The user's severity for a rule wins over the rule's and over a violation's own: it says
        # how much the rule matters to this project.
        self.forced = dict(severity_overrides or {})
        rules = [dataclasses.replace(r, severity=self.forced[r.id]) if r.id in self.forced else r for r in rules]
        self.inventory = inventory
        self.max_findings_per_rule = max_findings_per_rule
        self.ctx = RuleContext.of(inventory, config, request)
        self.exceptions = exceptions
        self.rule_aliases = rule_aliases
        self.today = today
        self.include_passed = include_passed
        self.locate = locate
        self.progress = progress
        self.rules = list(rules)
        self.result = ScanResult(rules=list(rules), resources_scanned=len(inventory), inventory=inventory)
        # False: every finding carries its rule's remediation rather than the one written for its
        # object (a kubectl patch naming it), for a caller that never shows them and would otherwise
        # hold a few hundred bytes for each of a million findings (the watcher).
        self.specific_remediations = True
        self._refs: dict[int, ResourceRef] = {}
        self._locations: dict[int, tuple[Origin, Location]] = {}  # the origin it was made from, kept
        # Findings whose line is the document's start until place_lines() asks for the field's.
        self._unplaced: list[tuple[int, Origin, Path]] = []
        # Findings listed so far per (rule, object), and those past the limit; both emptied by
        # summarise_overflow() once the object (or the inventory rule) is done.
        self._listed: dict[tuple[str, int], int] = {}
        self._overflows: dict[tuple[str, int], _Overflow] = {}
        self._per_rule: dict[str, int] = {}
        self._rule_overflows: dict[str, _RuleOverflow] = {}

    def forget_objects(self) -> None:
        """Drop the references kept per object (keyed by ``id``, which a freed object gives up)."""
        self._refs.clear()
        self._locations.clear()

    def ref(self, resource: Resource) -> ResourceRef:
        key = id(resource)
        ref = self._refs.get(key)
        if ref is None:
            ref = ResourceRef(
                resource.api_version,
                resource.kind,
                self.inventory.effective_namespace(resource),
                resource.name,
            )
            self._refs[key] = ref
        return ref

    # -- outcomes --------------------------------------------------------------------------------
    def record(
        self,
        rule: Rule,
        resource: Resource,
        violations: Iterable[Violation],
        container: str | None = None,
        template_annotations: Mapping[str, object] | None = None,
    ) -> None:
        any_violation = False
        findings = self.result.findings
        key = (rule.id, id(resource))
        listed = self._listed.get(key, 0)
        for violation in violations:
            any_violation = True
            if listed >= MAX_FINDINGS_PER_RULE_AND_OBJECT:
                self.overflow(key, rule, resource, violation, template_annotations)
                continue
            if self.max_findings_per_rule:
                so_far = self._per_rule.get(rule.id, 0)
                if so_far >= self.max_findings_per_rule:
                    self.rule_overflow(rule, resource, violation, container, template_annotations)
                    continue
                self._per_rule[rule.id] = so_far + 1
            listed += 1
            if violation.path and self.locate is not None:
                self._unplaced.append((len(findings), resource.origin, violation.path))
            findings.append(self.finding(rule, resource, violation, container, template_annotations))
        if any_violation:
            self._listed[key] = listed
        else:
            self.result.passes.add(rule.id)
            if self.include_passed:
                ref = self.ref(resource)
                self.result.findings.append(
                    Finding(
                        rule_id=rule.id,
                        status=Status.PASS,
                        severity=rule.severity,
                        resource=ref,
                        message=f"{rule.title}: passed",
                        location=self.location(resource),
                        fingerprint=fingerprint(rule.id, ref, container, ""),
                        container=container,
                    )
                )

    def overflow(
        self,
        key: tuple[str, int],
        rule: Rule,
        resource: Resource,
        violation: Violation,
        annotations: Mapping[str, object] | None,
    ) -> None:
        severity = self.severity(rule, violation)
        over = self._overflows.get(key)
        if over is None:
            over = self._overflows[key] = _Overflow(rule, resource, annotations, severity)
        elif severity.rank > over.severity.rank:
            over.severity = severity
        over.count += 1

    def rule_overflow(
        self,
        rule: Rule,
        resource: Resource,
        violation: Violation,
        container: str | None,
        annotations: Mapping[str, object] | None,
    ) -> None:
        """Count a finding past the scan-wide limit; an excepted one stays excepted."""
        over = self._rule_overflows.get(rule.id)
        if over is None:
            over = self._rule_overflows[rule.id] = _RuleOverflow(rule)
        status, _, _ = self.waive(rule, resource, self.ref(resource), container, annotations, violation.message)
        if status is Status.EXCEPTED:
            over.excepted += 1
            return
        over.failed += 1
        severity = self.severity(rule, violation)
        if over.severity is None or severity.rank > over.severity.rank:
            over.severity = severity

    def summarise_rule_overflow(self) -> None:
        """One finding per rule past the scan-wide limit, open (at the worst severity it stands
        for) when any of them is, so the gate still sees them; and one notice saying so."""
        limit = self.max_findings_per_rule
        for rule_id, over in self._rule_overflows.items():
            rule = over.rule
            parts = [f"{over.failed:,} open"] if over.failed else []
            parts += [f"{over.excepted:,} excepted"] if over.excepted else []
            message = (
                f"and {over.failed + over.excepted:,} more findings of this rule ({', '.join(parts)}), not listed:"
                f" at most {limit:,} per rule are (--max-findings-per-rule changes it)"
            )
            self.result.findings.append(
                Finding(
                    rule_id=rule_id,
                    status=Status.FAIL if over.failed else Status.EXCEPTED,
                    severity=over.severity or rule.severity,
                    resource=SCAN_TARGET,
                    message=message,
                    location=Location("<scan>"),
                    fingerprint=fingerprint(rule_id, SCAN_TARGET, None, "<more>"),
                    remediation=rule.remediation,
                    waiver=None if over.failed else Waiver("exceptions", "every unlisted finding is excepted"),
                )
            )
            self.result.notices.append(
                f"{rule_id} found {limit + over.failed + over.excepted:,} problems; the first {limit:,} are"
                f" listed, the rest are summarised in one finding"
            )
        self._rule_overflows.clear()

    def summarise_overflow(self) -> None:
        """One finding (at the worst severity it stands for) and one notice per rule and object
        whose findings passed the listing limit, so the gate and the report still see them."""
        limit = MAX_FINDINGS_PER_RULE_AND_OBJECT
        for over in self._overflows.values():
            rule, resource = over.rule, over.resource
            ref = self.ref(resource)
            text = f"and {over.count:,} more findings of this rule on this object, not listed (at most {limit} are)"
            status, waiver, message = self.waive(rule, resource, ref, None, over.annotations, text)
            self.result.findings.append(
                Finding(
                    rule_id=rule.id,
                    status=status,
                    severity=over.severity,
                    resource=ref,
                    message=safe_text(message),
                    location=self.location(resource),
                    fingerprint=fingerprint(rule.id, ref, None, "<more>"),
                    remediation=rule.remediation,
                    waiver=waiver,
                )
            )
            self.notice(
                rule.id,
                f"{ref.display}: {rule.id} found {limit + over.count:,} problems; the first {limit} are listed,"
                f" {over.count:,} more are summarised in one finding",
            )
        self._overflows.clear()
        self._listed.clear()

    def finding(
        self,
        rule: Rule,
        resource: Resource,
        violation: Violation,
        container: str | None,
        template_annotations: Mapping[str, object] | None,
    ) -> Finding:
        ref = self.ref(resource)
        # Interned: a large cluster holds a million findings whose paths, messages and remediations
        # repeat (18 distinct paths over 187,000 findings); one copy each keeps a watcher's memory down.
        path = intern(format_path(violation.path))
        status, waiver, message = self.waive(rule, resource, ref, container, template_annotations, violation.message)
        return Finding(
            rule_id=rule.id,
            status=status,
            severity=self.severity(rule, violation),
            resource=ref,
            message=intern(safe_text(message)),
            location=self.location(resource),
            fingerprint=fingerprint(rule.id, ref, container, path),
            path=path,
            container=container,
            remediation=self.remediation(rule, violation),
            waiver=waiver,
        )

    def remediation(self, rule: Rule, violation: Violation) -> str:
        """The violation's own remediation when wanted and given (written now if deferred), else the rule's."""
        own = violation.remediation
        if not own or not self.specific_remediations:
            return rule.remediation
        text = own if isinstance(own, str) else own()
        return intern(text) if text else rule.remediation

    def location(self, resource: Resource) -> Location:
        """One Location per object, shared by its findings (each is frozen)."""
        origin = resource.origin
        known = self._locations.get(id(resource))
        if known is not None and known[0] is origin:
            return known[1]
        found = Location(safe_text(origin.file), origin.line)
        self._locations[id(resource)] = (origin, found)
        return found

    def severity(self, rule: Rule, violation: Violation) -> Severity:
        return self.forced.get(rule.id) or violation.severity or rule.severity

    def waive(
        self,
        rule: Rule,
        resource: Resource,
        ref: ResourceRef,
        container: str | None,
        template_annotations: Mapping[str, object] | None,
        message: str,
    ) -> tuple[Status, Waiver | None, str]:
        for carried in (resource.annotations, template_annotations or EMPTY):
            annotated = annotation_waiver(carried, self.rule_aliases)
            if annotated is None or rule.id not in annotated.rules:
                continue
            if annotated.reason is None:
                self.notice(
                    rule.id,
                    f"{ref.display}: stockade.io/ignore names {rule.id} but has no stockade.io/ignore-reason;"
                    " the finding stays open",
                )
                break
            return Status.EXCEPTED, Waiver("annotation", annotated.reason), message
        entry = self.exceptions.find(rule.id, ref.kind, ref.namespace, ref.name, container)
        if entry is None:
            return Status.FAIL, None, message
        waiver = entry.waiver(self.today)
        if waiver.expired:
            return Status.FAIL, waiver, f"{message} (exception {entry.source} expired on {waiver.expires})"
        return Status.EXCEPTED, waiver, message

    def notice(self, rule_id: str, text: str) -> None:
        """Something the reader should know about ``rule_id``'s findings."""
        self.result.notices.append(text)

    def error(self, rule: Rule, resource: Resource | None, message: str, container: str | None = None) -> None:
        """A rule that could not be evaluated: an ``error`` finding (on the object when there is
        one, else on the scan as a whole), the one channel for every rule failure."""
        ref = self.ref(resource) if resource is not None else SCAN_TARGET
        location = self.location(resource) if resource is not None else Location("<scan>")
        self.result.findings.append(
            Finding(
                rule_id=rule.id,
                status=Status.ERROR,
                severity=rule.severity,
                resource=ref,
                message=safe_text(f"could not evaluate: {message}"),
                location=location,
                fingerprint=fingerprint(rule.id, ref, container, "<error>"),
                container=container,
            )
        )

    # -- loop ------------------------------------------------------------------------------------
    def run(self) -> ScanResult:
        by_scope: dict[Scope, list[Rule]] = {scope: [] for scope in Scope}
        for rule in self.rules:
            by_scope[rule.scope].append(rule)
        pods = self.inventory.pod_templates if by_scope[Scope.CONTAINER] or by_scope[Scope.POD] else ()
        # Every definition is evaluated below, each on its own; the reader learns there are several.
        self.result.notices.extend(self.inventory.duplicate_notices())
        if by_scope[Scope.CONTAINER] or by_scope[Scope.POD]:
            self.result.notices.extend(unchecked_container_notices(self.inventory))
            self.result.errors.extend(self.shape_problems())
        object_rules = by_scope[Scope.OBJECT]
        total = len(pods) + len(object_rules) + len(by_scope[Scope.INVENTORY])
        done = 0
        for done, pod in enumerate(pods, start=1):
            self.run_pod(pod, by_scope[Scope.POD], by_scope[Scope.CONTAINER])
            self.summarise_overflow()
            if self.progress is not None and done % 200 == 0:
                self.progress(done, total)
        for rule in object_rules:
            assert rule.kinds is not None
            check = cast(ObjectCheck, rule.check)
            for resource in self.inventory.of_kind(*sorted(rule.kinds)):
                if rule.id in self.result.skipped_rules:
                    break
                self.call(rule, resource, None, None, partial(check, self.ctx, resource))
            self.summarise_overflow()
            done += 1
            if self.progress is not None:
                self.progress(done, total)
        for rule in by_scope[Scope.INVENTORY]:
            self.run_inventory_rule(rule)
            self.summarise_overflow()
            done += 1
            if self.progress is not None:
                self.progress(done, total)
        self.summarise_rule_overflow()
        self.result.stale_exceptions = self.exceptions.stale()
        self.place_lines()
        return self.result

    def place_lines(self) -> None:
        """Give each finding the line of its field (one batch: documents are read once each)."""
        if self.locate is None or not self._unplaced:
            return
        lines = self.locate([(origin, path) for _, origin, path in self._unplaced])
        findings = self.result.findings
        for (position, _, _), line in zip(self._unplaced, lines, strict=True):
            found = findings[position]
            if line != found.location.line:
                findings[position] = _at_line(found, line)
        self._unplaced.clear()

    def run_pod(self, pod: PodTemplate, pod_rules: Sequence[Rule], container_rules: Sequence[Rule]) -> None:
        if pod.view.not_checked:
            self.result.errors.append(self.not_checked_problem(pod))
        self.judge_pod(pod, pod_rules, container_rules)

    def judge_pod(self, pod: PodTemplate, pod_rules: Sequence[Rule], container_rules: Sequence[Rule]) -> None:
        """Run the pod and container rules on one pod template."""
        annotations = pod.annotations
        ctx = self.ctx
        for rule in pod_rules:
            if rule.id not in self.result.skipped_rules:
                pod_check = cast(PodCheck, rule.check)
                self.call(rule, pod.carrier, None, annotations, partial(pod_check, ctx, pod))
        if container_rules:
            containers: list[ContainerRef] = list(pod.containers())
            for rule in container_rules:
                if rule.id in self.result.skipped_rules:
                    continue
                check = cast(ContainerCheck, rule.check)
                for container in containers:
                    self.call(
                        rule,
                        pod.carrier,
                        container.name,
                        annotations,
                        partial(check, ctx, container),
                    )

    def not_checked_problem(self, pod: PodTemplate) -> InputProblem:
        """The containers past the per-template limit: one error for all of them."""
        view, origin = pod.view, pod.carrier.origin
        checked = len(view.containers)
        return InputProblem(
            origin.file,
            f"{format_path(pod.spec_path)} holds {checked + view.not_checked:,} containers; the first"
            f" {checked:,} are checked, {view.not_checked:,} are not (at most {MAX_CHECKED_CONTAINERS:,}"
            " per pod template)",
            self.line(origin, pod.spec_path),
            object=pod.carrier.display,
            kind="limit",
        )

    def line(self, origin: Origin, path: Path) -> int | None:
        """The line of one field, for the rare problem reported before the findings are placed."""
        line = self.locate([(origin, path)])[0] if self.locate is not None else origin.line
        return line or None

    def shape_problems(self) -> Iterator[InputProblem]:
        """Pods whose containers no rule can see because a value on the way has the wrong type."""
        for resource in self.inventory.resources:
            yield from self.shape_problems_of(resource)

    def shape_problems_of(self, resource: Resource) -> Iterator[InputProblem]:
        for problem in pod_shape_problems(resource, self.inventory.template_paths):
            shown = repr(problem.value)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            yield InputProblem(
                resource.origin.file,
                f"{format_path(problem.path)} must be {problem.expected}, not {shown}; no rule checks what it holds",
                self.line(resource.origin, problem.path),
                object=resource.display,
                kind="parse",
            )

    def judge_object(self, rule: Rule, resource: Resource) -> None:
        """Run one object rule on one object of its kinds."""
        if rule.id not in self.result.skipped_rules:
            self.call(rule, resource, None, None, partial(cast(ObjectCheck, rule.check), self.ctx, resource))

    def call(
        self,
        rule: Rule,
        resource: Resource,
        container: str | None,
        annotations: Mapping[str, object] | None,
        run: Callable[[], Iterable[object]],
    ) -> None:
        try:
            produced = list(run())
        except RuleNotApplicable as reason:
            self.result.skipped_rules[rule.id] = str(reason)
            return
        except Exception as exc:  # a rule bug or a shape it did not expect: an error result, never a pass
            self.error(rule, resource, f"{type(exc).__name__}: {exc}", container)
            return
        wrong = next((item for item in produced if not isinstance(item, Violation)), _NONE)
        if wrong is not _NONE:
            self.error(rule, resource, f"the rule yielded {type(wrong).__name__}, not a Violation", container)
            return
        self.record(rule, resource, cast(list[Violation], produced), container, annotations)

    def run_inventory_rule(self, rule: Rule) -> None:
        check = cast(InventoryCheck, rule.check)
        try:
            produced = list(check(self.ctx))
        except RuleNotApplicable as reason:
            self.result.skipped_rules[rule.id] = str(reason)
            return
        except Exception as exc:
            self.error(rule, None, f"{type(exc).__name__}: {exc}")
            return
        for outcome in produced:
            if not isinstance(outcome, Outcome):
                self.error(rule, None, f"the rule yielded {type(outcome).__name__}, not an Outcome")
                continue
            wrong = next((v for v in outcome.violations if not isinstance(v, Violation)), _NONE)
            if wrong is not _NONE:
                self.error(rule, outcome.target, f"the rule's outcome holds {type(wrong).__name__}, not a Violation")
                continue
            if outcome.error is not None:
                self.error(rule, outcome.target, outcome.error, outcome.container)
                continue
            self.record(rule, outcome.target, outcome.violations, outcome.container)


def unchecked_container_notices(inventory: Inventory) -> list[str]:
    """One notice per kind and place where a ``containers`` list sits that no pod rule sees."""
    places: dict[tuple[str, str, str], list[UncheckedContainers]] = {}
    for found in inventory.unchecked_containers:
        resource = found.resource
        where = format_path((*found.path, "containers"))
        places.setdefault((resource.group, resource.kind, where), []).append(found)
    notices = []
    for (group, kind, where), items in places.items():
        first = items[0]
        target = f"{kind}.{group}" if group else kind
        others = f" (and {len(items) - 1} more)" if len(items) > 1 else ""
        head = f"{first.resource.display}{others}: the containers at {where} are not checked"
        if first.template is not None:
            notices.append(f"{head}; add --pod-template {target}={'.'.join(first.template)} to check them")
        else:
            notices.append(f"{head} (no --pod-template path can name them: they are not in a pod template's spec)")
    return notices


def _at_line(found: Finding, line: int) -> Finding:
    """``found`` with its location's line set (spelled out: ``dataclasses.replace`` inspects the
    fields on every call, a tenth of a second over a 30,000-finding scan)."""
    return Finding(
        found.rule_id,
        found.status,
        found.severity,
        found.resource,
        found.message,
        Location(found.location.file, line),
        found.fingerprint,
        found.path,
        found.container,
        found.remediation,
        found.waiver,
    )


_NONE = object()
# Where a rule failure that concerns no single object is reported.
SCAN_TARGET = ResourceRef("", "Scan", None, "<all objects>")


def evaluate(
    inventory: Inventory,
    rules: Sequence[Rule],
    *,
    config: RuleConfig | None = None,
    exceptions: Sequence[WaiverEntry] = (),
    rule_aliases: Mapping[str, str] | None = None,
    today: dt.date | None = None,
    include_passed: bool = False,
    locate: Locate | None = None,
    progress: ProgressCallback | None = None,
    max_findings_per_rule: int = MAX_FINDINGS_PER_RULE,
    severity_overrides: Mapping[str, Severity] | None = None,
    request: RequestFacts | None = None,
    specific_remediations: bool = True,
) -> ScanResult:
    """Run ``rules`` over ``inventory``. Findings come back sorted for stable output.

    At most ``max_findings_per_rule`` findings of a rule are listed (0: all); the rest are
    counted into one summary finding per rule and a notice. ``severity_overrides``: rule id →
    the severity its findings get (the project's own ranking). ``request``: the admission request
    the one object of ``inventory`` comes with (the webhook). ``specific_remediations=False``:
    findings carry their rule's remediation (for callers that never show the per-object ones)."""
    aliases = rule_aliases if rule_aliases is not None else {r.id: r.id for r in rules} | {r.name: r.id for r in rules}
    evaluator = Judge(
        inventory,
        rules,
        config or RuleConfig(),
        WaiverBook(list(exceptions)),
        aliases,
        today or dt.date.today(),
        include_passed,
        locate,
        progress,
        max_findings_per_rule,
        severity_overrides,
        request,
    )
    evaluator.specific_remediations = specific_remediations
    result = evaluator.run()
    result.findings.sort(key=finding_order)
    return result


def finding_order(f: Finding) -> tuple[int, str, str, str, str, str]:
    """How a scan's findings are listed: worst first, then by rule and object."""
    return (-f.severity.rank, f.rule_id, f.resource.namespace or "", f.resource.kind, f.resource.name, f.path)
