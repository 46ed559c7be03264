"""``stockade pss evaluate``: every pod and pod template against a Pod Security level.

Options → :func:`stockade.pss.admission.evaluate_inventory` → :mod:`stockade.report.pss`. With
``--level`` every pod is evaluated at that level (and ``--version``, default ``latest``); without
it each pod gets the level its namespace enforces, else ``--default-level`` (privileged unless told
otherwise, as for a cluster without an admission configuration).

Output: one JSON object per pod (JSON lines), or ``--format table``. Exit 0 when every pod is
allowed, 1 when any is denied, 2 for a usage error, 3 when some input could not be read.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from stockade.cli.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNREADABLE, fatal
from stockade.cli.output_options import add_output_options, write_output

if TYPE_CHECKING:  # the parser is built for every command: the evaluator loads only when run
    from stockade.pss import PolicyVersion
    from stockade.pss.admission import Policy

LEVELS = ("privileged", "baseline", "restricted")
FORMATS = ("json", "table")


def add_pss_evaluate_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``stockade pss evaluate`` beside the shared source options."""
    parser.add_argument(
        "--level", choices=LEVELS, help="evaluate every pod at this level (default: its namespace's enforce label)"
    )
    parser.add_argument(
        "--version",
        dest="policy_version",
        metavar="VERSION",
        help="policy version for --level: v1.0 … v1.37 or latest (default: the configuration's "
        "kubernetes-version, else latest)",
    )
    parser.add_argument(
        "--default-level",
        choices=LEVELS,
        default="privileged",
        help="level for namespaces without an enforce label or not in the input (default: privileged)",
    )
    parser.add_argument(
        "--default-version",
        metavar="VERSION",
        help="version for those namespaces (default: the configuration's kubernetes-version, else latest)",
    )
    add_output_options(parser, FORMATS, "json", "json (one object per line) or table")


def _version(text: str, option: str) -> PolicyVersion:
    from stockade.pss import parse_version

    try:
        return parse_version(text)
    except ValueError as exc:
        fatal(f"{option}: {exc}")


def _configured_version(args: argparse.Namespace) -> str:
    """The project's ``kubernetes-version`` (see stockade.config), else the newest policy."""
    return getattr(args, "kubernetes_version", None) or "latest"


def _fixed_policy(args: argparse.Namespace) -> Policy | None:
    from stockade.pss.admission import Policy

    if args.level is not None:
        return Policy(args.level, _version(args.policy_version or _configured_version(args), "--version"), "--level")
    if args.policy_version is not None:
        fatal("--version goes with --level; without --level each namespace's enforce-version label decides")
    return None


def run_pss(args: argparse.Namespace) -> int:
    from stockade.cli.inputs import read_inputs
    from stockade.pss.admission import evaluate_inventory
    from stockade.pss.namespaces import Default
    from stockade.report.problems import render_notices, render_problems
    from stockade.report.pss import render_json_lines, render_notes, render_table

    if args.pss_command != "evaluate":
        raise AssertionError(f"unhandled pss command {args.pss_command}")
    fixed = _fixed_policy(args)
    default = Default(
        args.default_level, _version(args.default_version or _configured_version(args), "--default-version")
    )
    read = read_inputs(args)
    assert read.inventory is not None
    evaluation = evaluate_inventory(read.inventory, fixed, default)
    sys.stderr.write(render_problems(read.errors, read.skipped_inputs) + render_notices(read.notices))
    write_output(render_table(evaluation) if args.format == "table" else render_json_lines(evaluation), args.output)
    sys.stderr.write(render_notes(evaluation, inputs_complete=read.complete))
    if read.gate("none") == EXIT_UNREADABLE:
        return EXIT_UNREADABLE
    return EXIT_FINDINGS if evaluation.denied else EXIT_CLEAN
