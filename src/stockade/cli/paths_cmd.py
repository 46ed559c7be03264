"""``stockade paths``: attack paths from entry points to crown jewels, and the fixes that cut them.

    stockade paths k8s/                          # ranked paths and the remediation set
    stockade paths from Deployment/shop/web k8s/ # blast radius of one workload or identity
    stockade paths to secrets --snapshot s.json  # who reaches a crown jewel (secrets, cluster-admin,
                                                 # nodes, control-plane, or any node key)

The objects are scanned first with the rules whose findings a step can name (`PATH_RULES`), so
each step names the findings behind it.
Exit codes: 0 no path, 1 some path exists, 2 usage error, 3 some input could not be read.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from stockade.cli.config_cmd import add_config_options
from stockade.cli.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNREADABLE, fatal
from stockade.cli.inputs import add_source_options, progress_display, sources_from_args, usage_errors
from stockade.cli.output_options import add_output_options, write_output

if TYPE_CHECKING:
    from stockade.paths import Analysis

FORMATS = ("table", "json", "dot", "mermaid")
MODES = ("from", "to")
# Names for the crown jewels every graph has.
JEWEL_NAMES = {
    "cluster-admin": "jewel:cluster-admin",
    "secrets": "jewel:all-secrets",
    "nodes": "jewel:nodes",
    "control-plane": "node:control-plane",
}


def add_paths_parser(sub: Any) -> None:
    command = sub.add_parser(
        "paths",
        help="attack paths to the crown jewels, blast radius, and the fewest fixes that cut them",
        description="Build the attack graph of the objects read (files, cluster, snapshot) and print the paths "
        "from entry points to crown jewels, best first, with the findings behind each step and the fixes that "
        "cut the most paths. `paths from KEY` shows what one workload or identity reaches; `paths to JEWEL` who "
        "reaches a jewel (secrets, cluster-admin, nodes, control-plane, or a node key such as Secret/shop/db). "
        "Exit codes: 0 no path, 1 some path, 2 usage error, 3 some input could not be read.",
    )
    add_source_options(command)
    add_config_options(command, ("pod-templates",))
    add_output_options(command, FORMATS, "table")
    command.add_argument(
        "--jewel",
        action="append",
        default=[],
        metavar="KEY",
        help="also treat this node as a crown jewel (e.g. Secret/shop/db, Deployment/shop/db); repeatable",
    )
    command.add_argument("--limit", type=int, default=20, help="paths to list (default 20)")
    command.add_argument("--max-steps", type=int, default=12, help="longest path listed, in attacker steps (12)")
    command.add_argument("--max-fixes", type=int, default=10, help="largest remediation set (default 10)")


def _mode(args: argparse.Namespace) -> tuple[str, str]:
    """("from"|"to"|"", KEY) taken from the first positionals; the rest are the paths to read."""
    paths: list[str] = args.paths
    if paths and paths[0] in MODES:
        if len(paths) < 2:
            fatal(f"`paths {paths[0]}` needs a node key, e.g. `paths from Deployment/shop/web`")
        args.paths = paths[2:]
        return paths[0], paths[1]
    return "", ""


def run_paths(args: argparse.Namespace) -> int:
    from stockade.api import ScanOptions, scan
    from stockade.model.text import did_you_mean
    from stockade.paths import PATH_RULES, analyse
    from stockade.report.problems import render_problems

    mode, key = _mode(args)
    for option in ("limit", "max_steps", "max_fixes"):
        if getattr(args, option) < 1:
            fatal(f"--{option.replace('_', '-')} must be at least 1")
    sources = sources_from_args(args)
    with usage_errors(), progress_display(args) as progress:
        options = ScanOptions(rules=PATH_RULES, pod_templates=args.pod_template, progress=progress)
        result = scan(sources, options)
    analysis = analyse(result, args.jewel, args.max_steps)
    if mode:
        key = JEWEL_NAMES.get(key, key) if mode == "to" else key
        if key not in analysis.graph.index:
            known = [n.key for n in analysis.graph.nodes] + list(JEWEL_NAMES)
            fatal(f"{key!r} is not a node of the attack graph{did_you_mean(key, known)}")
    text, found = _answer(analysis, mode, key, args)
    write_output(text, args.output)
    sys.stderr.write(render_problems(result.errors, result.skipped_inputs))
    if result.errors:
        return EXIT_UNREADABLE
    return EXIT_FINDINGS if found else EXIT_CLEAN


def _answer(analysis: Analysis, mode: str, key: str, args: argparse.Namespace) -> tuple[str, bool]:
    from stockade.report import paths as report

    if mode == "from":
        blast = analysis.blast_radius(key)
        return report.render_blast_radius(blast, args.format, args.limit), bool(blast.paths)
    if mode == "to":
        reachers = analysis.reachers(key)
        return report.render_reachers(reachers, args.format, args.limit), bool(reachers.paths)
    text = report.render_analysis(analysis, args.format, args.limit, args.max_fixes)
    return text, bool(analysis.pairs)
