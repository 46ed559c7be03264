"""Helm charts, rendered with ``helm template`` when helm is installed."""

from __future__ import annotations

import os

from stockade.sources.base import SourceResult
from stockade.sources.limits import ParseLimits
from stockade.sources.render import RENDER_TIMEOUT, render


def is_chart(directory: str) -> bool:
    """Whether ``directory`` is a Helm chart (then its templates are never read as plain YAML)."""
    return os.path.isfile(os.path.join(directory, "Chart.yaml"))


def render_chart(directory: str, limits: ParseLimits, *, timeout: float = RENDER_TIMEOUT) -> SourceResult:
    """The objects ``helm template <directory>`` produces with the chart's default values,
    origin ``"<directory> (helm)"``; a clear error when helm is not installed."""
    return render(
        "helm",
        ["template", directory],
        directory=directory,
        label="helm",
        missing=(f"helm is not installed; cannot render chart {directory}: install helm or scan rendered manifests"),
        limits=limits,
        timeout=timeout,
    )
