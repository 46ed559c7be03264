"""``stockade scan``: sources → inventory → engine → report → exit code."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Mapping

from stockade import __version__
from stockade.cli.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNREADABLE, fatal
from stockade.cli.inputs import load_inventory
from stockade.model.finding import Severity, Status
from stockade.model.result import ScanResult
from stockade.rules.base import Rule, RuleConfig


def choose_rules(args: argparse.Namespace) -> tuple[list[Rule], Mapping[str, Rule]]:
    from stockade.engine.selection import Selection, select_rules, split_tokens
    from stockade.errors import SelectionError
    from stockade.frameworks import framework_ids
    from stockade.rules import load_rules

    rules = load_rules()
    selection = Selection(
        include=split_tokens(args.rules),
        exclude=split_tokens(getattr(args, "skip_rules", [])),
        frameworks=split_tokens(args.framework),
        min_severity=Severity.parse(args.min_severity) if args.min_severity else None,
    )
    try:
        return select_rules(rules, selection, framework_ids()), rules
    except SelectionError as exc:
        fatal(str(exc))


def load_exceptions(path: str | None, rules: Mapping[str, Rule]) -> list[object]:
    if path is None:
        return []
    from stockade.engine.waivers import parse_waivers
    from stockade.errors import ConfigFileError, WaiversFileError
    from stockade.rules import rule_aliases
    from stockade.sources.configfile import read_config_file

    try:
        return list(parse_waivers(read_config_file(path), path, rule_aliases(rules)))
    except (ConfigFileError, WaiversFileError) as exc:
        fatal(f"exceptions file: {exc}")


def rule_config(args: argparse.Namespace) -> RuleConfig:
    registries = None
    if args.allowed_registries is not None:
        registries = tuple(r.strip() for r in args.allowed_registries.split(",") if r.strip())
        if not registries:
            fatal("--allowed-registries is empty")
    threshold = args.secret_entropy_threshold
    if not 0.0 < threshold <= 8.0:
        fatal("--secret-entropy-threshold must be between 0 and 8 bits per character")
    return RuleConfig(allowed_registries=registries, secret_entropy_threshold=threshold)


def exit_code(result: ScanResult, fail_on: str) -> int:
    """3 when anything could not be read or evaluated (a gate must not pass on it), else 1 / 0."""
    if result.errors or any(f.status is Status.ERROR for f in result.findings):
        return EXIT_UNREADABLE
    if fail_on == "none":
        return EXIT_CLEAN
    floor = Severity.parse(fail_on).rank
    if any(f.status is Status.FAIL and f.severity.rank >= floor for f in result.findings):
        return EXIT_FINDINGS
    return EXIT_CLEAN


def write_output(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        if text and not text.endswith("\n"):
            sys.stdout.write("\n")
        sys.stdout.flush()
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        fatal(f"cannot write {output}: {exc.strerror or exc}")


def run_scan(args: argparse.Namespace) -> int:
    from stockade.report import FORMATS

    if args.format not in FORMATS:
        fatal(f"unknown format {args.format!r} (choose from {', '.join(FORMATS)})")
    selected, all_rules = choose_rules(args)
    exceptions = load_exceptions(args.exceptions, all_rules)
    config = rule_config(args)
    loaded = load_inventory(args)
    source, inventory, progress = loaded.source, loaded.inventory, loaded.progress
    from stockade.engine.evaluate import evaluate
    from stockade.rules import rule_aliases
    from stockade.sources.locate import locate_line

    with progress.bar(f"checking {len(source.resources)} objects against {len(selected)} rules") as update:
        result = evaluate(
            inventory,
            selected,
            config=config,
            exceptions=exceptions,  # type: ignore[arg-type]
            rule_aliases=rule_aliases(all_rules),
            include_passed=args.include_passed,
            locate=locate_line,
            progress=update,
        )
    result.errors[:0] = source.errors
    result.skipped_inputs.extend(source.skipped)
    result.facts.update(source.facts)
    return report_and_exit(args, result)


def report_and_exit(args: argparse.Namespace, result: ScanResult) -> int:
    from stockade.engine.compliance import summarize
    from stockade.frameworks import load_framework
    from stockade.report import ReportContext, render

    compliance = tuple(summarize(result, load_framework(f)) for f in dict.fromkeys(_frameworks(args)))
    color = args.format == "table" and args.output is None and not args.no_color and sys.stdout.isatty()
    ctx = ReportContext(
        result=result,
        compliance=compliance,
        tool_version=__version__,
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        color=color,
        targets=tuple(args.paths),
        fail_on=args.fail_on,
    )
    write_output(render(args.format, ctx), args.output)
    return exit_code(result, args.fail_on)


def _frameworks(args: argparse.Namespace) -> list[str]:
    from stockade.engine.selection import split_tokens

    return list(split_tokens(args.framework))
