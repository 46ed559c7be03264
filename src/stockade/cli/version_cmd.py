"""``stockade version`` (and ``stockade --version -f json``): the version, for people and for tooling."""

from __future__ import annotations

import argparse
from typing import Any

from stockade import __version__
from stockade.cli.output_options import add_output_options


def add_version_parser(sub: Any) -> None:
    version = sub.add_parser(
        "version",
        help="print the version (-f json adds the Python version and platform)",
        description="Print Stockade's version; `-f json` prints {version, python, platform} for tooling.",
    )
    add_output_options(version, ("text", "json"), "text")


def run_version(args: argparse.Namespace) -> int:
    import platform

    from stockade.cli.output_options import write_output

    if args.format == "json":
        import json

        info = {"version": __version__, "python": platform.python_version(), "platform": platform.platform()}
        write_output(json.dumps(info), args.output)
    else:
        write_output(f"stockade {__version__}", args.output)
    return 0
