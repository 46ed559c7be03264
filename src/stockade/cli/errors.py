"""Exit codes and the one way the CLI gives up."""

from __future__ import annotations

import sys
from typing import NoReturn

from stockade.model.result import EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNREADABLE, EXIT_USAGE
from stockade.model.text import visible

__all__ = ["EXIT_CLEAN", "EXIT_FINDINGS", "EXIT_UNREADABLE", "EXIT_USAGE", "fatal"]


def fatal(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``stockade: error: message`` on stderr and exit (2 = usage or configuration error).

    Messages quote what the user or an input gave: control, bidirectional and zero-width characters
    in it are shown as escapes, so the line says what it seems to say."""
    sys.stderr.write(f"stockade: error: {visible(message)}\n")
    raise SystemExit(code)
