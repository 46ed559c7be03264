"""``stockade posture``: the crawl / walk / run stage each area has reached, and the next step.

    stockade posture --cluster                  # every area, live
    stockade posture k8s/ --detail              # with the evidence and the findings that block each stage
    stockade posture --snapshot s.json -f json

Exit codes: 0 the scorecard was made, 2 usage error, 3 something could not be read.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from stockade.cli.errors import EXIT_CLEAN, EXIT_UNREADABLE
from stockade.cli.inputs import add_source_options, progress_display, sources_from_args, usage_errors, wants_cluster
from stockade.cli.output_options import add_output_options, write_output


def add_posture_parser(sub: Any) -> None:
    posture = sub.add_parser(
        "posture",
        help="the crawl / walk / run stage of each area, with evidence and the next step",
        description="Judge every area (container privileges, secrets, service accounts, namespaces, registries, RBAC, "
        "admission, east-west, control plane, authentication, node files, logging, monitoring, GitOps) against "
        "written crawl / walk / run criteria that cite the guides; areas the input cannot show are 'not assessed'.",
    )
    add_source_options(posture)
    posture.add_argument("--detail", action="store_true", help="every criterion with its evidence and blockers")
    add_output_options(posture, ("table", "markdown", "json"), "table")


def run_posture(args: argparse.Namespace) -> int:
    from stockade.api import ScanOptions, scan
    from stockade.posture import scorecard
    from stockade.report.posture import render_posture
    from stockade.report.problems import render_problems

    sources = sources_from_args(args)
    with usage_errors(), progress_display(args) as progress:
        result = scan(sources, ScanOptions(rules=["all"], pod_templates=args.pod_template, progress=progress))
    live = wants_cluster(args) or bool(args.snapshot)
    write_output(render_posture(scorecard(result, live), args.format, args.detail), args.output)
    sys.stderr.write(render_problems(result.errors, result.skipped_inputs))
    return EXIT_UNREADABLE if result.errors else EXIT_CLEAN
