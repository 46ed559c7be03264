"""Exit codes and the one way the CLI gives up."""

from __future__ import annotations

import sys
from typing import NoReturn

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_UNREADABLE = 3


def fatal(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``stockade: error: message`` on stderr and exit (2 = usage or configuration error)."""
    sys.stderr.write(f"stockade: error: {message}\n")
    raise SystemExit(code)
