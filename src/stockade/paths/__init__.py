"""Attack paths ("threat vectors"): how an attacker gets from an entry point to a crown jewel.

``build_graph`` turns an inventory and a scan's findings into an `AttackGraph`; `Analysis` answers
the questions asked of it (ranked paths, blast radius, who reaches a jewel, risk per finding, the
fixes that cut the most paths). `analyse` does both for a `ScanResult`.
"""

from __future__ import annotations

from collections.abc import Sequence

from stockade._gc import collector_paused
from stockade.model.result import ScanResult
from stockade.paths.catalogue import ATTACKS, Attack, AttackInfo
from stockade.paths.fixes import PATH_RULES
from stockade.paths.graph import AttackGraph, GraphOptions, build_graph
from stockade.paths.model import Edge, Fix, GraphNode, NodeKind
from stockade.paths.search import DEFAULT_MAX_STEPS, Analysis, AttackPath, BlastRadius, Reachers, Remediation

__all__ = [
    "ATTACKS",
    "DEFAULT_MAX_STEPS",
    "PATH_RULES",
    "Analysis",
    "Attack",
    "AttackGraph",
    "AttackInfo",
    "AttackPath",
    "BlastRadius",
    "Edge",
    "Fix",
    "GraphNode",
    "GraphOptions",
    "NodeKind",
    "Reachers",
    "Remediation",
    "analyse",
    "build_graph",
]


def analyse(result: ScanResult, jewels: Sequence[str] = (), max_steps: int = DEFAULT_MAX_STEPS) -> Analysis:
    """The attack graph of a scan (its inventory and findings), ready to be asked."""
    if result.inventory is None:
        raise ValueError("the scan result carries no inventory (was it read from a store?)")
    options = GraphOptions(jewels=tuple(jewels), live="server_version" in result.facts)
    with collector_paused():  # millions of small objects, no cycles: the collector only slows it down
        return Analysis(build_graph(result.inventory, result.findings, options), max_steps)
