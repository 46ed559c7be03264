"""Where every command's objects come from: the same source options for scan, rbac and pss."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from stockade.cli.errors import fatal
from stockade.cli.progress import Progress
from stockade.model.inventory import Inventory
from stockade.sources.base import SourceResult


def add_source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or directories (.yaml/.yml/.json, kustomize and helm directories); '-' reads stdin",
    )
    parser.add_argument(
        "--pod-template",
        action="append",
        default=[],
        metavar="KIND.GROUP=PATH",
        help="an extra CRD kind carrying a pod template, e.g. Rollout.argoproj.io=spec.template",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress display on stderr")


def parse_template_paths(values: list[str]) -> dict[tuple[str, str], tuple[str, ...]]:
    from stockade.model.podspec import DEFAULT_EXTRA_TEMPLATE_PATHS, parse_template_path_option

    paths = dict(DEFAULT_EXTRA_TEMPLATE_PATHS)
    for value in values:
        try:
            key, path = parse_template_path_option(value)
        except ValueError as exc:
            fatal(f"--pod-template: {exc}")
        paths[key] = path
    return paths


@dataclass(frozen=True, slots=True)
class Loaded:
    source: SourceResult
    inventory: Inventory
    progress: Progress


def load_inventory(args: argparse.Namespace) -> Loaded:
    """Read every source the user named into one Inventory (errors are kept, never fatal)."""
    if not args.paths:
        fatal("nothing to read: give files, directories or '-' for stdin")
    template_paths = parse_template_paths(args.pod_template)
    progress = Progress(enabled=not args.no_progress and sys.stderr.isatty())
    from stockade.sources.files import collect_paths

    with progress.phase("reading manifests"):
        stdin = sys.stdin.buffer if "-" in args.paths else None
        source = collect_paths(args.paths, stdin=stdin)
    return Loaded(source, Inventory(source.resources, template_paths), progress)
