"""Exit codes and the one way the CLI gives up."""

from __future__ import annotations

import sys
from typing import NoReturn

from stockade.model.result import EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNREADABLE, EXIT_USAGE

__all__ = ["EXIT_CLEAN", "EXIT_FINDINGS", "EXIT_UNREADABLE", "EXIT_USAGE", "fatal"]


def fatal(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``stockade: error: message`` on stderr and exit (2 = usage or configuration error)."""
    sys.stderr.write(f"stockade: error: {message}\n")
    raise SystemExit(code)
