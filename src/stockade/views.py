"""Cluster views: what the dashboard shows of one full evaluation beyond its findings.

A view is a JSON mapping kept by the history store (:meth:`FindingStore.record_view`) next to the
findings it cannot be rebuilt from: the crawl / walk / run scorecard, the attack paths with the
fixes that cut the most of them, and the RBAC objects the dashboard answers who-can questions
from (roles and bindings only: they carry no Secret values). ``stockade scan --store`` and
``stockade watch`` record one per full evaluation.
::

    import datetime as dt
    import stockade
    from stockade.store import FindingStore
    from stockade.views import record_view

    result = stockade.scan([stockade.SnapshotSource("prod.json")])
    with FindingStore.open() as store:
        store.record_scan("prod", result, dt.datetime.now(dt.UTC))
        record_view(store, "prod", result, dt.datetime.now(dt.UTC))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from stockade.model.inventory import Inventory
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.model.result import ScanResult
from stockade.paths import analyse
from stockade.posture import scorecard
from stockade.report.paths import analysis_data
from stockade.store import FindingStore

VIEW_VERSION = 1
RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
PATHS_KEPT = 50  # the highest-ranked paths; the counts cover all of them
FIXES_KEPT = 10
_KEPT_METADATA = ("name", "namespace", "labels")  # labels: ClusterRole aggregation selects by them


def build_view(result: ScanResult, *, live: bool | None = None) -> dict[str, Any]:
    """The view of ``result``. ``live`` (default: the objects came from a cluster or a snapshot)
    decides whether an add-on's absence counts against the scorecard, as in ``stockade posture``."""
    live = "server_version" in result.facts if live is None else live
    inventory = result.inventory or Inventory(())
    paths: dict[str, Any] | None = None
    if result.inventory is not None:
        paths = analysis_data(analyse(result), PATHS_KEPT, FIXES_KEPT)
    return {
        "version": VIEW_VERSION,
        "live": live,
        "scorecard": scorecard(result, live).to_json(),
        "paths": paths,
        "rbac": [_rbac_object(r.raw) for r in inventory.of_kind(*RBAC_KINDS)],
        "resources_scanned": result.resources_scanned,
        "unreadable_inputs": len(result.errors),
    }


def stages_of(view: Mapping[str, Any]) -> dict[str, str]:
    """Each area's stage summary in the view's scorecard (``run``, ``not crawling``, …)."""
    areas = view.get("scorecard", {}).get("areas", [])
    return {str(a["area"]): str(a["summary"]) for a in areas if isinstance(a, Mapping)}


def record_view(
    store: FindingStore, cluster: str, result: ScanResult, at: dt.datetime, *, live: bool | None = None
) -> None:
    """Build the view of ``result`` and keep it in ``store`` as ``cluster``'s, as of ``at``."""
    view = build_view(result, live=live)
    store.record_view(cluster, view, at, stages_of(view))


def rbac_inventory(view: Mapping[str, Any]) -> Inventory:
    """The view's RBAC objects as an inventory for :class:`stockade.rbac.RbacIndex`."""
    resources: list[Resource] = []
    objects = view.get("rbac")
    for raw in objects if isinstance(objects, Sequence) else ():
        if isinstance(raw, Mapping):
            made = resource_from_raw(raw, Origin(file="store"))
            if isinstance(made, Resource):
                resources.append(made)
    return Inventory(resources)


def _rbac_object(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The parts RBAC evaluation reads: rules, aggregation, subjects, roleRef, and who it is."""
    meta = raw.get("metadata")
    kept_meta = {k: meta[k] for k in _KEPT_METADATA if isinstance(meta, Mapping) and k in meta}
    kept = {
        k: v for k, v in raw.items() if k in ("apiVersion", "kind", "rules", "aggregationRule", "subjects", "roleRef")
    }
    return {**kept, "metadata": kept_meta}
