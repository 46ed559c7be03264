"""Where the vendored test data lives (tests/data, with its licences and sources). No test reads a
path outside the repository; a missing tree is a failure, never an empty parametrisation."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


def vendored(*parts: str) -> Path:
    """A vendored tree or file under tests/data; fails loudly when it is not there."""
    path = DATA.joinpath(*parts)
    if not path.exists():
        raise AssertionError(f"vendored test data missing: {path} (see tests/data/*/README.md)")
    return path


POD_SECURITY = vendored("pod-security")
CORPUS = vendored("corpus", "real-world")
