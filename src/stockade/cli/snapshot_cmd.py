"""``stockade snapshot``: save what the sources read, to scan later without cluster access."""

from __future__ import annotations

import argparse
import sys

from stockade.cli.errors import EXIT_CLEAN, EXIT_UNREADABLE, fatal
from stockade.cli.inputs import progress_display, sources_from_args, usage_errors


def run_snapshot(args: argparse.Namespace) -> int:
    from stockade.api import collect
    from stockade.report._summary import clean
    from stockade.report.problems import render_problems
    from stockade.sources.snapshot import write_snapshot

    sources = sources_from_args(args)
    with usage_errors(), progress_display(args) as progress:
        source = collect(sources, progress)
    try:
        path = write_snapshot(source, args.output)
    except OSError as exc:
        fatal(clean(f"cannot write {args.output}: {exc.strerror or exc}"))
    sys.stderr.write(render_problems(source.errors, source.skipped))
    version = source.facts.get("server_version")
    # The file name and the server's version are not ours: one line, escaped, like every warning.
    sys.stderr.write(
        "stockade: "
        + clean(
            f"wrote {len(source.resources)} objects to {path}"
            + (f" (server {version})" if version else "")
            + (f"; {len(source.errors)} could not be read (kept in the snapshot)" if source.errors else "")
        )
        + "\n"
    )
    return EXIT_UNREADABLE if source.errors else EXIT_CLEAN
