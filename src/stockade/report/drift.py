"""``stockade drift`` output: a table, JSON, or a unified diff per object (git on the left)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import orjson
import yaml

from stockade.drift import MISSING, DriftReport, ObjectDrift
from stockade.drift.fields import Item, Path
from stockade.model.text import visible

FIELDS_SHOWN = 3  # per object in the table; JSON and the diff have them all


def render_drift(report: DriftReport, fmt: str) -> str:
    if fmt == "json":
        return orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2, default=str).decode() + "\n"
    if fmt == "diff":
        return "".join(unified_diff(o) for o in report.drifted)
    return _table(report)


def _table(report: DriftReport) -> str:
    lines = []
    for drift in report.drifted:
        lines.append(f"{drift.state:<8} {drift.key}  {_detail(drift)}")
    unsure = sum(1 for o in report.objects if o.basis == "git fields only")
    lines.append(
        f"{report.count('missing')} missing from the cluster, {report.count('extra')} not in git, "
        f"{report.count('changed')} changed, {report.count('in-sync')} in sync "
        f"(namespaces held to git: {', '.join(report.namespaces) or 'none'})."
    )
    if report.not_compared:
        lines.append(
            f"{len(report.not_compared)} objects in git are outside the namespaces read and were not compared: "
            + ", ".join(report.not_compared[:FIELDS_SHOWN])
            + (" …" if len(report.not_compared) > FIELDS_SHOWN else "")
        )
    if unsure:
        lines.append(
            f"{unsure} objects had neither managedFields nor last-applied-configuration: only the fields git sets "
            "were compared for them."
        )
    return "".join(visible(line) + "\n" for line in lines)


def _detail(drift: ObjectDrift) -> str:
    if drift.state == "missing":
        return f"in git ({drift.origin}), not in the cluster"
    if drift.state == "extra":
        return "in the cluster, not in git"
    names = [change.name for change in drift.changes[:FIELDS_SHOWN]]
    more = len(drift.changes) - FIELDS_SHOWN
    managers = sorted({m for change in drift.changes for m in change.managers})
    text = ", ".join(names) + (f" and {more} more" if more > 0 else "")
    return text + (f" (set by {', '.join(managers)})" if managers else "") + f" [{drift.basis}]"


def unified_diff(drift: ObjectDrift) -> str:
    """Git's side against the cluster's, over the fields compared (defaults the server added and
    status left out), as YAML with sorted keys."""
    left = _yaml(drift.git_view) if drift.state != "extra" else []
    right = _yaml(drift.cluster_view) if drift.state != "missing" else []
    key = visible(drift.key)
    before = f"git/{key}" if drift.state != "extra" else "/dev/null"
    after = f"cluster/{key}" if drift.state != "missing" else "/dev/null"
    lines = difflib.unified_diff(left, right, before, after, n=3)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _yaml(leaves: Mapping[Path, Any]) -> list[str]:
    if not leaves:
        return []
    text = yaml.safe_dump(_nest(leaves), sort_keys=True, default_flow_style=False, allow_unicode=False)
    return [visible(line) + "\n" for line in text.splitlines()]


def _nest(leaves: Mapping[Path, Any]) -> Any:
    root: dict[Any, Any] = {}
    for path, value in leaves.items():
        if value is MISSING or not path:
            continue
        node = root
        for element in path[:-1]:
            child = node.setdefault(element, {})
            node = child if isinstance(child, dict) else node
        node[path[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    """Maps keyed by list items back into lists, in item order."""
    if not isinstance(node, dict):
        return node
    if node and all(isinstance(key, Item) for key in node):
        return [_lists(node[key]) for key in sorted(node, key=_item_order)]
    return {str(key): _lists(value) for key, value in node.items()}


def _item_order(item: Item) -> tuple[int, int | str]:
    return (0, int(item.label)) if item.label.isdigit() else (1, item.label)
