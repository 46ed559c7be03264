"""Stockade: Kubernetes Security Posture Management, as a library.

The flow runs one way: sources turn files and clusters into raw objects, the model indexes them into
an :class:`Inventory`, the engine runs pure rules over it, and reports turn findings into output.
The public API is :func:`scan` and the names below; everything else is internal.

::

    import stockade

    result = stockade.scan([stockade.FileSource(["k8s/"])], stockade.ScanOptions(rules=["WL"]))
    print(len(result.failed), "failed;", len(result.errors), "inputs could not be read")
    exit_code = result.gate("high")

Names are imported on first use, so ``import stockade`` stays cheap for the command line.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from stockade.api import ScanOptions, collect, compliance, find_drift, gitops_scope, load_waivers, scan, select
    from stockade.errors import SelectionError, SourceError, StockadeError, UsageError, WaiversFileError
    from stockade.model.finding import Area, Finding, InputProblem, Severity, SkippedInput, Stage, Status
    from stockade.model.inventory import Inventory
    from stockade.model.result import ScanResult
    from stockade.model.rule import RuleSpec
    from stockade.model.waiver import WaiverEntry
    from stockade.report import ReportContext, render
    from stockade.rules.base import RuleConfig
    from stockade.sources.base import Source, SourceResult
    from stockade.sources.cluster import ClusterSource
    from stockade.sources.files import FileSource
    from stockade.sources.snapshot import SnapshotSource

_EXPORTS = {
    "scan": "stockade.api",
    "collect": "stockade.api",
    "find_drift": "stockade.api",
    "gitops_scope": "stockade.api",
    "compliance": "stockade.api",
    "load_waivers": "stockade.api",
    "select": "stockade.api",
    "ScanOptions": "stockade.api",
    "StockadeError": "stockade.errors",
    "UsageError": "stockade.errors",
    "SelectionError": "stockade.errors",
    "SourceError": "stockade.errors",
    "WaiversFileError": "stockade.errors",
    "Area": "stockade.model.finding",
    "Finding": "stockade.model.finding",
    "InputProblem": "stockade.model.finding",
    "Severity": "stockade.model.finding",
    "SkippedInput": "stockade.model.finding",
    "Stage": "stockade.model.finding",
    "Status": "stockade.model.finding",
    "Inventory": "stockade.model.inventory",
    "ScanResult": "stockade.model.result",
    "RuleSpec": "stockade.model.rule",
    "WaiverEntry": "stockade.model.waiver",
    "render": "stockade.report",
    "ReportContext": "stockade.report",
    "RuleConfig": "stockade.rules.base",
    "Source": "stockade.sources.base",
    "SourceResult": "stockade.sources.base",
    "ClusterSource": "stockade.sources.cluster",
    "FileSource": "stockade.sources.files",
    "SnapshotSource": "stockade.sources.snapshot",
}

__all__ = [
    "Area",
    "ClusterSource",
    "FileSource",
    "Finding",
    "InputProblem",
    "Inventory",
    "ReportContext",
    "RuleConfig",
    "RuleSpec",
    "ScanOptions",
    "ScanResult",
    "SelectionError",
    "Severity",
    "SkippedInput",
    "SnapshotSource",
    "Source",
    "SourceError",
    "SourceResult",
    "Stage",
    "Status",
    "StockadeError",
    "UsageError",
    "WaiverEntry",
    "WaiversFileError",
    "__version__",
    "collect",
    "compliance",
    "find_drift",
    "gitops_scope",
    "load_waivers",
    "render",
    "scan",
    "select",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'stockade' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
