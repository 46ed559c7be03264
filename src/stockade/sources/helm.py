"""Helm charts, rendered with ``helm template`` when helm is installed.

``helm template`` writes ``# Source: <chart>/templates/<file>`` above every document; objects
are led back to that template file (without a line: rendered lines do not match the template's).
"""

from __future__ import annotations

import os
import re
from dataclasses import replace

from stockade.model.resource import Origin
from stockade.sources.base import SourceResult
from stockade.sources.documents import split_documents
from stockade.sources.limits import ParseLimits
from stockade.sources.render import RENDER_TIMEOUT, render

_SOURCE_COMMENT = re.compile(r"^# Source: (\S.*?)\s*$", re.MULTILINE)


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
        trace=lambda result, text: _trace_templates(result, text, directory),
    )


def _trace_templates(result: SourceResult, text: str, directory: str) -> None:
    templates: dict[int, str] = {}
    for index, segment in enumerate(split_documents(text)):
        found = _SOURCE_COMMENT.search(text, segment.start, segment.end)
        if found is None:
            continue
        # "<chart name>/templates/x.yaml" (subcharts: "<chart>/charts/<sub>/templates/x.yaml"):
        # the chart's name need not be its directory's, so the first component is replaced.
        _, _, inside = found[1].partition("/")
        path = os.path.normpath(os.path.join(directory, inside))
        if inside and os.path.isfile(path):
            templates[index] = path
    for position, resource in enumerate(result.resources):
        template = templates.get(resource.origin.document)
        if template is not None:
            origin = Origin(template, -1, 0, resource.origin.item)
            result.resources[position] = replace(resource, origin=origin)
