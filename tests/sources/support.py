"""Shared helpers for the file-source tests: write a tree of inputs, scan it, look at the result."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from stockade.model.finding import InputProblem, SkippedInput
from stockade.sources.base import SourceResult
from stockade.sources.files import collect_paths
from stockade.sources.limits import ParseLimits

GOOD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: good
  namespace: shop
spec:
  replicas: 2
"""


def write(root: Path, files: Mapping[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def scan_with_good(root: Path, files: Mapping[str, str | bytes], *, limits: ParseLimits | None = None) -> SourceResult:
    """Scan ``files`` plus a good manifest in one call; the good object must always come through."""
    write(root, {**files, "zz-good.yaml": GOOD})
    names = [str(root / name) for name in sorted(files)] + [str(root / "zz-good.yaml")]
    result = collect_paths(names, limits=limits or ParseLimits())
    good = [r.display for r in result.resources if r.origin.file == str(root / "zz-good.yaml")]
    assert good == ["Deployment/shop/good"], result
    return result


def only_error(result: SourceResult, source: str) -> InputProblem:
    errors = [e for e in result.errors if e.source == source]
    assert len(errors) == 1, result.errors
    return errors[0]


def skipped_for(result: SourceResult, source: str) -> list[SkippedInput]:
    return [s for s in result.skipped if s.source == source]
