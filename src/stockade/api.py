"""The library: ``scan(sources, options) -> ScanResult``. Every command, the watcher and the
admission webhook call this and nothing below it.

::

    import stockade

    result = stockade.scan([stockade.FileSource(["k8s/"])], stockade.ScanOptions(rules=["WL", "RB"]))
    for finding in result.failed:
        print(finding.rule_id, finding.resource.display, finding.message)
    raise SystemExit(result.gate("high"))  # 3 if anything could not be read, 1 on findings, else 0

A source that cannot be read in part (a malformed file, a forbidden kind) is reported in
``result.errors`` and the gate fails on it; only what cannot start at all raises (see
:mod:`stockade.errors`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from stockade._gc import collector_paused
from stockade.drift import DriftOptions, DriftReport, compare
from stockade.engine.compliance import summarize
from stockade.engine.evaluate import evaluate
from stockade.engine.limits import MAX_FINDINGS_PER_RULE
from stockade.engine.selection import Selection, select_rules
from stockade.engine.waivers import parse_waivers
from stockade.errors import ConfigFileError, SelectionError, TemplatePathError, WaiversFileError
from stockade.frameworks import framework_ids, load_framework
from stockade.model.compliance import ComplianceSummary
from stockade.model.finding import Severity
from stockade.model.gitops import GitOpsScope, discover
from stockade.model.inventory import Inventory
from stockade.model.podspec import DEFAULT_EXTRA_TEMPLATE_PATHS, parse_template_path_option
from stockade.model.result import ScanResult
from stockade.model.text import did_you_mean, safe_text
from stockade.model.waiver import WaiverEntry
from stockade.policies.load import EMPTY as EMPTY_POLICIES
from stockade.policies.load import PolicySet, merged_catalogue, policies_from, read_policies
from stockade.rules import load_rules, rule_aliases
from stockade.rules.base import Rule, RuleConfig
from stockade.sources.base import ProgressCallback, Source, SourceResult
from stockade.sources.component_flags import parse_version
from stockade.sources.locate import locate_lines
from stockade.sources.redaction import redact_result

TemplatePaths = Mapping[tuple[str, str], tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What to check and how. The defaults are a default ``stockade scan``.

    ``rules`` / ``skip_rules``: ids, names, families (``WL``), areas (``container-privileges``) or
    ``all``; empty means the rules that run by default. ``frameworks``: keep rules mapped to these.
    ``waivers``: exception entries, or the path of an exceptions file. ``pod_templates``: extra
    ``KIND.GROUP=path.to.template`` for CRDs that carry pods. ``severity_overrides``: rule id or
    name → the severity its findings get, for this project. ``run_rules=False`` reads and indexes
    the sources only (for RBAC and Pod Security questions asked of ``result.inventory``).
    ``max_findings_per_rule``: findings of one rule listed over the scan (0: all); the rest are
    counted into one summary finding, so memory stays bounded on hostile inputs.
    ``policies``: files or directories of user policies (ValidatingAdmissionPolicies and their
    bindings, Gatekeeper ConstraintTemplates and Constraints, their params), or a
    :class:`~stockade.policies.load.PolicySet` already read; each binding or constraint is the rule
    ``POL-<name>``. ``policies_in_sources``: also use the policies among the scanned objects (those
    already in a cluster).
    """

    rules: Sequence[str] = ()
    skip_rules: Sequence[str] = ()
    frameworks: Sequence[str] = ()
    min_severity: Severity | str | None = None
    waivers: Sequence[WaiverEntry] | str | os.PathLike[str] | None = None
    config: RuleConfig = field(default_factory=RuleConfig)
    pod_templates: Sequence[str] = ()
    severity_overrides: Mapping[str, Severity | str] = field(default_factory=dict)
    include_passed: bool = False
    run_rules: bool = True
    today: dt.date | None = None
    progress: ProgressCallback | None = None
    max_findings_per_rule: int = MAX_FINDINGS_PER_RULE
    policies: Sequence[str | os.PathLike[str]] | PolicySet = ()
    policies_in_sources: bool = False


def catalogue(policies: PolicySet = EMPTY_POLICIES) -> Mapping[str, Rule]:
    """Every rule a selection can name: the built-in ones and those of ``policies``."""
    return merged_catalogue(load_rules(), policies) if policies.policies else load_rules()


def load_policies(options: ScanOptions) -> PolicySet:
    """The user policies ``options`` name (read from disk unless given read)."""
    given = options.policies
    return given if isinstance(given, PolicySet) else read_policies(list(given))


def select(options: ScanOptions | None = None, policies: PolicySet = EMPTY_POLICIES) -> list[Rule]:
    """The rules a scan with ``options`` runs; raises :class:`~stockade.errors.SelectionError` when
    the selection is malformed or selects nothing."""
    options = options or ScanOptions()
    severity = options.min_severity
    selection = Selection(
        include=_tokens(options.rules),
        exclude=_tokens(options.skip_rules),
        frameworks=_tokens(options.frameworks),
        min_severity=Severity.parse(severity) if isinstance(severity, str) else severity,
    )
    return select_rules(catalogue(policies), selection, framework_ids())


def severity_overrides(
    overrides: Mapping[str, Severity | str], policies: PolicySet = EMPTY_POLICIES
) -> dict[str, Severity]:
    """Rule id → severity from ``rule id or name → severity``; raises
    :class:`~stockade.errors.SelectionError` naming an unknown rule (with the closest one) or severity."""
    aliases = rule_aliases(catalogue(policies))
    resolved: dict[str, Severity] = {}
    for rule, severity in overrides.items():
        rule_id = aliases.get(rule) or aliases.get(rule.upper())
        if rule_id is None:
            raise SelectionError(f"unknown rule {rule!r}{did_you_mean(rule, aliases)}")
        try:
            resolved[rule_id] = severity if isinstance(severity, Severity) else Severity.parse(severity)
        except ValueError as exc:
            raise SelectionError(f"{rule}: {exc}") from None
    return resolved


def load_waivers(path: str | os.PathLike[str], policies: PolicySet = EMPTY_POLICIES) -> list[WaiverEntry]:
    """Read an exceptions file (its entries may name the rules of ``policies``); raises
    :class:`~stockade.errors.WaiversFileError` naming the problem."""
    from stockade.sources.configfile import read_config_file

    try:
        return parse_waivers(read_config_file(os.fspath(path)), os.fspath(path), rule_aliases(catalogue(policies)))
    except ConfigFileError as exc:
        raise WaiversFileError(str(exc)) from exc


def template_paths(options: Iterable[str]) -> TemplatePaths:
    """The built-in CRD pod-template paths plus ``KIND.GROUP=path`` options."""
    paths = dict(DEFAULT_EXTRA_TEMPLATE_PATHS)
    for value in options:
        try:
            key, path = parse_template_path_option(value)
        except ValueError as exc:
            raise TemplatePathError(f"--pod-template: {exc}") from exc
        paths[key] = path
    return paths


def collect(sources: Source | Sequence[Source], progress: ProgressCallback | None = None) -> SourceResult:
    """Read every source into one result (objects, input problems, skipped inputs, facts).

    Everything read passes here, so this is where no source can skip it: Secret values are blanked
    (:mod:`stockade.sources.redaction`) and undecodable bytes in names made printable
    (:func:`stockade.model.text.safe_text`)."""
    merged = SourceResult()
    for source in [sources] if isinstance(sources, Source) else sources:
        merged.extend(redact_result(source.collect(progress)))
    return safe_names(merged)


def find_drift(
    git: Source | Sequence[Source], cluster: Source | Sequence[Source], options: DriftOptions | None = None
) -> DriftReport:
    """What git says against what the cluster runs: objects missing on either side and fields that
    differ (see :mod:`stockade.drift.compare` for how defaults are told from fields someone set)."""
    wanted, running = collect(git), collect(cluster)
    report = compare(wanted.resources, running.resources, options or DriftOptions())
    return dataclasses.replace(report, errors=(*wanted.errors, *running.errors))


def gitops_scope(sources: Source | Sequence[Source]) -> tuple[GitOpsScope, SourceResult]:
    """The namespaces Argo CD and Flux deploy into and the identities they write as, read from a
    cluster or a snapshot (with what was read, for its problems)."""
    read = collect(sources)
    return discover(Inventory(read.resources)), read


def safe_names(result: SourceResult) -> SourceResult:
    """Input problems and skipped inputs with undecodable bytes written as ``\\xff`` (in place).

    Objects keep their origin as the file system spells it (their lines are found by reopening the
    file); findings get the printable form once located (:func:`scan`)."""
    result.errors[:] = [
        dataclasses.replace(
            e,
            source=safe_text(e.source),
            message=safe_text(e.message),
            object=safe_text(e.object) if e.object else e.object,
            kind=safe_text(e.kind),
        )
        for e in result.errors
    ]
    result.skipped[:] = [
        dataclasses.replace(s, source=safe_text(s.source), reason=safe_text(s.reason)) for s in result.skipped
    ]
    return result


def scan(sources: Source | Sequence[Source], options: ScanOptions | None = None) -> ScanResult:
    """Read ``sources``, run the selected rules, and return everything found.

    Usage problems (a selection that selects nothing, a malformed exceptions file, a source that
    cannot start) raise before anything is read; input problems are in ``result.errors``.
    """
    options = options or ScanOptions()
    policies = load_policies(options) if options.run_rules else EMPTY_POLICIES
    rules = select(options, policies) if options.run_rules else []
    waivers = options.waivers
    forced = severity_overrides(options.severity_overrides, policies)
    entries = load_waivers(waivers, policies) if isinstance(waivers, str | os.PathLike) else list(waivers or ())
    paths = template_paths(options.pod_templates)
    collected = collect(sources, options.progress)
    if options.policies_in_sources and options.run_rules:
        found = policies_from(collected.resources)
        if found:
            policies = policies + found
            rules = select(options, policies)
            if isinstance(waivers, str | os.PathLike):
                entries = load_waivers(waivers, policies)
    inventory = Inventory(collected.resources, paths)
    config = _with_version(options.config, collected.facts)
    # The evaluation allocates findings, passes and per-scan analyses by the hundred thousand, none
    # in reference cycles; a collector walking the whole heap again and again doubled a large RBAC
    # scan (benchmarks/RESULTS.md). Reference counting frees everything as usual.
    with collector_paused():
        result = evaluate(
            inventory,
            rules,
            config=config,
            exceptions=entries,
            rule_aliases=rule_aliases(catalogue(policies)),
            today=options.today,
            include_passed=options.include_passed,
            locate=locate_lines,
            progress=_evaluation_progress(options.progress),
            max_findings_per_rule=options.max_findings_per_rule,
            severity_overrides=forced,
        )
    result.errors[:0] = [*policies.problems, *collected.errors]
    result.skipped_inputs.extend(collected.skipped)
    result.facts.update(collected.facts)
    return result


def _with_version(config: RuleConfig, facts: Mapping[str, object]) -> RuleConfig:
    """The configured Kubernetes version, else the one the cluster or snapshot reports."""
    if config.kubernetes_version is not None:
        return config
    reported = facts.get("server_version")
    version = parse_version(reported) if isinstance(reported, str) else None
    return dataclasses.replace(config, kubernetes_version=version) if version else config


def compliance(result: ScanResult, frameworks: Iterable[str]) -> tuple[ComplianceSummary, ...]:
    """Per-framework compliance of a scan (passes count; excepted counts as accepted)."""
    return tuple(summarize(result, load_framework(f)) for f in dict.fromkeys(frameworks))


def _tokens(values: Sequence[str] | str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = [values]
    return tuple(token.strip() for value in values for token in value.split(",") if token.strip())


def _evaluation_progress(progress: ProgressCallback | None) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    report = progress

    def told(done: int, total: int) -> None:
        report("checking", done, total)

    return told
