"""``stockade scan``: options → :func:`stockade.scan` → report → the result's gate."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import TYPE_CHECKING

from stockade import __version__
from stockade.cli.errors import fatal
from stockade.cli.inputs import listed_option, progress_display, sources_from_args, usage_errors
from stockade.cli.output_options import write_output
from stockade.model.result import ScanResult
from stockade.rules.base import RuleConfig
from stockade.rules.im._imageref import AllowListEntryError, parse_registry_pattern
from stockade.sources.component_flags import parse_version
from stockade.sources.snapshot import SnapshotSource

if TYPE_CHECKING:
    from stockade.paths import Analysis
    from stockade.posture import Scorecard


def rule_config(args: argparse.Namespace) -> RuleConfig:
    registries = None
    if args.allowed_registries is not None:
        registries = tuple(r.strip() for r in args.allowed_registries.split(",") if r.strip())
        if not registries:
            fatal("--allowed-registries is empty")
        for entry in registries:
            try:
                parse_registry_pattern(entry)
            except AllowListEntryError as exc:
                fatal(f"--allowed-registries: {exc}")
    threshold = args.secret_entropy_threshold
    if not 0.0 < threshold <= 8.0:
        fatal("--secret-entropy-threshold must be between 0 and 8 bits per character")
    configured = getattr(args, "kubernetes_version", None)  # the project file's kubernetes-version
    version = parse_version(configured) if configured else None
    return RuleConfig(allowed_registries=registries, secret_entropy_threshold=threshold, kubernetes_version=version)


def run_scan(args: argparse.Namespace) -> int:
    from stockade.api import ScanOptions, scan

    config = rule_config(args)
    for option, values in (("--rules", args.rules), ("--skip-rules", args.skip_rules), ("--framework", args.framework)):
        listed_option(option, values)
    sources = [*sources_from_args(args), *_node_results(args)]
    store = None
    if args.store is not None:
        from stockade.cli.history_cmd import open_store

        store = open_store(args)
    with usage_errors(), progress_display(args) as progress:
        result = scan(
            sources,
            ScanOptions(
                rules=args.rules,
                skip_rules=args.skip_rules,
                frameworks=args.framework,
                min_severity=args.min_severity,
                waivers=args.exceptions,
                policies=args.policies,
                policies_in_sources=args.policies_from_sources,
                config=config,
                pod_templates=args.pod_template,
                severity_overrides=args.severity_overrides or {},
                include_passed=args.include_passed,
                progress=progress,
                max_findings_per_rule=args.max_findings_per_rule,
            ),
        )
    if store is not None:
        from stockade.cli.history_cmd import record_scan

        with store:
            record_scan(store, args, result)
    return report_and_exit(args, result)


def _node_results(args: argparse.Namespace) -> list[SnapshotSource]:
    """A snapshot source per file of each ``--node-results`` directory (``*.json``, ``*.json.gz``)."""
    from pathlib import Path

    found: list[SnapshotSource] = []
    for folder in getattr(args, "node_results", []):
        path = Path(folder)
        if not path.is_dir():
            fatal(f"--node-results {folder}: not a directory")
        files = sorted(p for p in path.iterdir() if p.name.endswith((".json", ".json.gz")))
        if not files:
            fatal(f"--node-results {folder}: no node snapshot (*.json) in it")
        found += [SnapshotSource(str(p)) for p in files]
    return found


def _rank_by_risk(result: ScanResult) -> tuple[Analysis, str]:
    """Reorder ``result.findings`` by risk; the attack graph, and the ranking as text for the table."""
    from stockade.paths import analyse
    from stockade.paths.risk import rank_by_risk, risks
    from stockade.report.paths import render_risk_ranking

    analysis = analyse(result)
    scores = risks(analysis, result.findings)
    result.findings[:] = rank_by_risk(result.findings, scores)
    return analysis, render_risk_ranking(result.findings, scores)


def _posture(args: argparse.Namespace, result: ScanResult) -> Scorecard | None:
    if not getattr(args, "posture", False):
        return None
    from stockade.cli.inputs import wants_cluster
    from stockade.posture import scorecard

    return scorecard(result, wants_cluster(args) or bool(getattr(args, "snapshot", None)))


def report_and_exit(args: argparse.Namespace, result: ScanResult) -> int:
    from stockade.api import compliance
    from stockade.report import ReportContext, render
    from stockade.report.problems import render_problems

    color = args.format == "table" and args.output is None and not args.no_color and sys.stdout.isatty()
    analysis, ranking = _rank_by_risk(result) if getattr(args, "rank_by_risk", False) else (None, "")
    ctx = ReportContext(
        result=result,
        compliance=compliance(result, listed_option("--framework", args.framework)),
        tool_version=__version__,
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        color=color,
        targets=tuple(args.paths),
        fail_on=args.fail_on,
        paths=analysis,
        posture=_posture(args, result),
    )
    text = render(args.format, ctx)
    if args.format == "table" and ctx.posture is not None:
        from stockade.report.posture import render_posture

        ranking = render_posture(ctx.posture, "table", detail=False) + "\n" + ranking
    write_output(ranking + text if args.format == "table" else text, args.output)
    if args.output is not None or args.format != "table":
        # The table on the terminal lists them already; a file or a machine format leaves the
        # person at the terminal without them.
        sys.stderr.write(render_problems(result.errors, result.skipped_inputs))
    return result.gate(args.fail_on)
