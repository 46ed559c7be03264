"""``-f/--format`` and ``-o/--output``: one meaning in every command, as Trivy and Kubescape use them.

``-f`` picks the format, ``-o`` names the file. ``-o json`` with no ``-f`` would quietly write a
file called ``json`` in the default format; it is nearly always a mistake, so it is refused with
the command the user most likely meant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from stockade.cli.errors import fatal
from stockade.outputs import write_text_output


def add_output_options(parser: argparse.ArgumentParser, formats: Sequence[str], default: str, what: str = "") -> None:
    """Add ``-f/--format`` (one of ``formats``; ``default`` when absent) and ``-o/--output FILE``."""
    listed = "|".join(formats)
    parser.add_argument(
        "-f",
        "--format",
        choices=formats,
        default=None,
        metavar="FORMAT",
        help=f"{what or 'output format'}: {listed} (default: {default})",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    parser.set_defaults(_format_default=default, _formats=tuple(formats))


def resolve_output_options(args: argparse.Namespace) -> None:
    """Fill in the default format; refuse ``-o FORMAT`` without ``-f`` (exit 2)."""
    formats: tuple[str, ...] = getattr(args, "_formats", ())
    output = getattr(args, "output", None)
    if args.format is None:
        if output is not None and output in formats:
            fatal(
                f"-o names the output file; for the {output} format use `-f {output}` "
                f"(and `-o FILE` to write it to a file; `-o ./{output}` if a file called {output} is meant)"
            )
        args.format = args._format_default


def write_output(text: str, output: str | None) -> None:
    """``text`` on standard output, or into ``output`` (atomically; see :mod:`stockade.outputs`)."""
    if output is None:
        sys.stdout.write(text)
        if text and not text.endswith("\n"):
            sys.stdout.write("\n")
        sys.stdout.flush()
        return
    try:
        write_text_output(output, text)
    except OSError as exc:
        from stockade.report._summary import clean

        fatal(clean(f"cannot write {output}: {exc.strerror or exc}"))
