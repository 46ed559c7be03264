"""``stockade`` (also ``kubectl stockade``): the entry point. Imports are lazy to start fast."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

from stockade import __version__
from stockade.cli.config_cmd import ALL_KEYS, add_config_options, add_config_parser, apply_project_config
from stockade.cli.inputs import add_source_options
from stockade.cli.output_options import add_output_options, resolve_output_options
from stockade.cli.policy_cmd import add_policy_options, add_policy_parser
from stockade.engine.limits import MAX_FINDINGS_PER_RULE
from stockade.model.result import FAIL_ON
from stockade.report import FORMATS

SEVERITIES = ("critical", "high", "medium", "low", "info")
INTERRUPTED = 130  # the shell's code for a process ended by SIGINT


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        from stockade.cli.errors import fatal

        fatal(f"{message} (see `{self.prog} --help`)")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def _add_scan(sub: argparse._SubParsersAction[_Parser]) -> None:
    scan = sub.add_parser(
        "scan",
        help="scan manifests for misconfigurations",
        description="Scan Kubernetes manifests (files, directories, kustomize, helm, stdin) for misconfigurations.",
    )
    add_source_options(scan)
    add_output_options(scan, FORMATS, "table", "report format")
    from stockade.cli.history_cmd import add_store_options

    add_store_options(scan)
    scan.add_argument(
        "--rules",
        action="append",
        default=[],
        metavar="SEL",
        help="only these rule ids, names, families or areas (comma-separated, repeatable)",
    )
    scan.add_argument(
        "--skip-rules",
        action="append",
        default=[],
        metavar="SEL",
        help="leave out these rules (same forms as --rules)",
    )
    scan.add_argument(
        "--framework",
        action="append",
        default=[],
        metavar="ID",
        help="only rules mapped to this framework, and print its compliance summary (e.g. cis-1.10, pss-restricted)",
    )
    scan.add_argument("--min-severity", choices=SEVERITIES, help="only rules of this severity or above")
    scan.add_argument(
        "--fail-on",
        default="high",
        choices=FAIL_ON,
        help="exit 1 when a finding at or above this severity fails (default: high)",
    )
    scan.add_argument(
        "--exceptions",
        metavar="FILE",
        help="exceptions file (rule, namespace, kind, name glob, reason, expires)",
    )
    add_policy_options(scan)
    scan.add_argument("--include-passed", action="store_true", help="keep pass results in the report")
    scan.add_argument(
        "--node-results",
        action="append",
        default=[],
        metavar="DIR",
        help="also read the node snapshots `stockade node collect` wrote into DIR (one per node)",
    )
    scan.add_argument(
        "--posture",
        action="store_true",
        help="add the crawl / walk / run scorecard (stockade posture) to the report, judged by the rules selected",
    )
    scan.add_argument(
        "--rank-by-risk",
        action="store_true",
        help="order findings by attack-path risk (severity, raised for each path from an entry point a finding "
        "lies on) and add the attack paths to the report",
    )
    scan.add_argument(
        "--max-findings-per-rule",
        type=_count,
        default=MAX_FINDINGS_PER_RULE,
        metavar="N",
        help=f"list at most N findings of a rule, the rest counted in one (default {MAX_FINDINGS_PER_RULE:,}; 0: all)",
    )
    scan.add_argument(
        "--allowed-registries",
        metavar="LIST",
        help="comma-separated registries (host or host/path prefix) images may come from",
    )
    scan.add_argument(
        "--secret-entropy-threshold",
        type=float,
        default=3.5,
        metavar="BITS",
        help="Shannon entropy (bits per character) above which a literal value looks like a secret (default 3.5)",
    )
    scan.add_argument("--no-color", action="store_true", help="plain text output")
    add_config_options(scan, ALL_KEYS)


def _policies_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policies", action="append", default=[], metavar="PATH", help="also the rules of these user policies"
    )


def _add_rules(sub: argparse._SubParsersAction[_Parser]) -> None:
    rules = sub.add_parser(
        "rules", help="list and explain rules", description="List, explain and document Stockade's rules."
    )
    rules_sub = rules.add_subparsers(dest="rules_command", required=True, parser_class=_Parser)
    listing = rules_sub.add_parser("list", help="list rules (filterable)")
    listing.add_argument("--rules", action="append", default=[], metavar="SEL", help="ids, names, families or areas")
    listing.add_argument("--framework", action="append", default=[], metavar="ID")
    listing.add_argument("--min-severity", choices=SEVERITIES)
    _policies_option(listing)
    add_output_options(listing, ("table", "json"), "table")
    explain = rules_sub.add_parser("explain", help="show a rule's documentation")
    explain.add_argument("rule", metavar="ID_OR_NAME")
    _policies_option(explain)
    docs = rules_sub.add_parser("docs", help="write docs/rules/*.md from the rule code")
    docs.add_argument("directory", nargs="?", default="docs/rules")
    docs.add_argument("--check", action="store_true", help="exit 1 when the files on disk are stale")


def _add_snapshot(sub: argparse._SubParsersAction[_Parser]) -> None:
    snapshot = sub.add_parser(
        "snapshot",
        help="save a cluster (or files) to one file to scan later",
        description="Collect objects (from a live cluster, files or other snapshots) into one snapshot file "
        "(gzip JSON when FILE ends in .gz) that every command accepts with --snapshot. Secret values are "
        "never stored: only key names.",
    )
    add_source_options(snapshot)
    snapshot.add_argument("-o", "--output", required=True, metavar="FILE", help="snapshot file to write (0600)")


def _add_pss(sub: argparse._SubParsersAction[_Parser]) -> None:
    from stockade.cli.pss_cmd import add_pss_evaluate_options

    pss = sub.add_parser(
        "pss",
        help="evaluate pods against the Pod Security Standards",
        description="Evaluate pods and pod templates against the Pod Security Standards, as admission would.",
    )
    pss_sub = pss.add_subparsers(dest="pss_command", required=True, parser_class=_Parser)
    evaluate = pss_sub.add_parser(
        "evaluate",
        help="evaluate every pod at a level, or at its namespace's enforced level",
        description="Evaluate every Pod and pod template (any workload kind) at --level/--version, or at the "
        "level its namespace enforces (pod-security.kubernetes.io labels of the Namespace objects in the input). "
        "Exit codes: 0 all allowed, 1 some denied, 2 usage error, 3 some input could not be read.",
    )
    add_source_options(evaluate)
    add_pss_evaluate_options(evaluate)
    add_config_options(evaluate, ("pod-templates", "kubernetes-version"))


def _add_rbac(sub: argparse._SubParsersAction[_Parser]) -> None:
    from stockade.cli.rbac_cmd import add_rbac_parser

    add_rbac_parser(sub)


def build_parser(prog: str = "stockade") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description="Stockade: Kubernetes Security Posture Management.",
        epilog="Exit codes: 0 clean, 1 findings at/above --fail-on, 2 usage or configuration error, "
        "3 some input could not be read.",
    )
    parser.add_argument("--version", action="version", version=f"stockade {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_scan(sub)
    add_config_parser(sub)
    _add_rules(sub)
    _add_snapshot(sub)
    _add_pss(sub)
    _add_rbac(sub)
    from stockade.cli.paths_cmd import add_paths_parser

    add_paths_parser(sub)
    from stockade.cli.posture_cmd import add_posture_parser

    add_posture_parser(sub)
    from stockade.cli.network_cmd import add_network_parser

    add_network_parser(sub)
    from stockade.cli.drift_cmd import add_drift_parser

    add_drift_parser(sub)
    from stockade.cli.node_cmd import add_node_parser

    add_node_parser(sub)
    from stockade.cli.audit_cmd import add_audit_parser

    add_audit_parser(sub)
    from stockade.cli.completion import add_completion_parser
    from stockade.cli.history_cmd import add_history_parser

    add_history_parser(sub)
    from stockade.cli.dashboard_cmd import add_dashboard_parser
    from stockade.cli.watch_cmd import add_watch_parser

    add_watch_parser(sub)
    add_dashboard_parser(sub)
    from stockade.cli.deploy_cmd import add_deploy_parser

    add_deploy_parser(sub)
    from stockade.cli.admission_cmd import add_admission_parser

    add_admission_parser(sub)
    add_policy_parser(sub)
    from stockade.cli.version_cmd import add_version_parser

    add_completion_parser(sub)
    add_version_parser(sub)
    return parser


# Commands that read everything, report and exit. They build large trees of dicts that hold no
# reference cycles worth collecting; the cyclic collector re-walking them costs a fifth of a
# 10,000-object scan (benchmarks/RESULTS.md, fast paths). Long-running commands keep the collector.
BATCH_COMMANDS = frozenset({"scan", "pss", "rbac", "paths", "node", "snapshot", "rules"})


def main(argv: Sequence[str] | None = None, *, plugin: bool | None = None) -> int:
    """``plugin``: run as ``kubectl stockade`` (default: when started as ``kubectl-stockade``)."""
    from stockade.cli.kubectl_plugin import invoked_as_plugin

    plugin = invoked_as_plugin(sys.argv[0]) if plugin is None else plugin
    parser = build_parser("kubectl stockade" if plugin else "stockade")
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (see `stockade completion`)
        from stockade.cli.completion import complete

        complete(parser)
    arguments = list(sys.argv[1:] if argv is None else argv)
    if plugin:
        from stockade.cli.kubectl_plugin import move_global_flags

        arguments = move_global_flags(arguments, parser)
    if arguments[:1] == ["--version"]:  # `--version -f json` is the version command
        arguments[0] = "version"
    args = parser.parse_args(arguments)
    if plugin:
        from stockade.cli.kubectl_plugin import read_current_context_by_default

        read_current_context_by_default(args)
    if hasattr(args, "_formats"):
        resolve_output_options(args)
    if hasattr(args, "_config_keys"):
        apply_project_config(args)
    if args.command in BATCH_COMMANDS and argv is None:
        import gc

        gc.disable()
    return _dispatch(args)


def _dispatch(args: argparse.Namespace) -> int:
    try:
        if args.command == "scan":
            from stockade.cli.scan import run_scan

            return run_scan(args)
        if args.command == "snapshot":
            from stockade.cli.snapshot_cmd import run_snapshot

            return run_snapshot(args)
        if args.command == "rules":
            from stockade.cli.rules_cmd import run_rules

            return run_rules(args)
        if args.command == "pss":
            from stockade.cli.pss_cmd import run_pss

            return run_pss(args)
        if args.command == "config":
            from stockade.cli.config_cmd import run_config

            return run_config(args)
        if args.command == "rbac":
            from stockade.cli.rbac_cmd import run_rbac

            return run_rbac(args)
        if args.command == "audit":
            from stockade.cli.audit_cmd import run_audit

            return run_audit(args)
        if args.command == "node":
            from stockade.cli.node_cmd import run_node

            return run_node(args)
        if args.command == "posture":
            from stockade.cli.posture_cmd import run_posture

            return run_posture(args)
        if args.command == "network":
            from stockade.cli.network_cmd import run_network

            return run_network(args)
        if args.command == "drift":
            from stockade.cli.drift_cmd import run_drift

            return run_drift(args)
        if args.command == "paths":
            from stockade.cli.paths_cmd import run_paths

            return run_paths(args)
        if args.command == "history":
            from stockade.cli.history_cmd import run_history

            return run_history(args)
        if args.command == "watch":
            from stockade.cli.watch_cmd import run_watch

            return run_watch(args)
        if args.command == "dashboard":
            from stockade.cli.dashboard_cmd import run_dashboard

            return run_dashboard(args)
        if args.command == "deploy":
            from stockade.cli.deploy_cmd import run_deploy

            return run_deploy(args)
        if args.command == "admission":
            from stockade.cli.admission_cmd import run_admission

            return run_admission(args)
        if args.command == "policy":
            from stockade.cli.policy_cmd import run_policy

            return run_policy(args)
        if args.command == "completion":
            from stockade.cli.completion import run_completion

            return run_completion(args)
        if args.command == "version":
            from stockade.cli.version_cmd import run_version

            return run_version(args)
    except KeyboardInterrupt:
        sys.stderr.write("stockade: interrupted\n")
        return INTERRUPTED
    except BrokenPipeError:
        return 0
    raise AssertionError(f"unhandled command {args.command}")


def run() -> NoReturn:
    """The console scripts' entry point: ``main()``, then exit with its code."""
    code = main()
    if code == INTERRUPTED and _threads_still_working():
        # A worker blocked on a read the interrupt abandoned would hold the interpreter's exit
        # until the read times out; the user asked to stop now, and cleanup has already run.
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _threads_still_working() -> bool:
    return any(t is not threading.main_thread() and t.is_alive() and not t.daemon for t in threading.enumerate())


if __name__ == "__main__":
    run()
