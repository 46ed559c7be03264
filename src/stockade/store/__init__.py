"""The finding lifecycle store: the history behind ``stockade watch`` and ``stockade history``.

::

    import datetime as dt
    import stockade
    from stockade.store import FindingStore

    with FindingStore.open() as store:  # ~/.local/share/stockade/history.db; or "postgresql://…"
        result = stockade.scan([stockade.FileSource(["k8s/"])])
        store.record_scan("prod-eu", result, dt.datetime.now(dt.UTC))
        for finding in store.open_findings("prod-eu"):
            print(finding.rule_id, finding.resource.display, finding.first_seen)

Each finding is keyed by cluster and fingerprint; every change of state (``open``, ``excepted``,
``resolved``) is a transition with its time, the object's resourceVersion, who changed the object
and the waiver applied, and points at the object's stored state (Secret values never stored).
"""

from stockade.store.engine import create_store_engine, default_store_path, store_url
from stockade.store.errors import StoreError
from stockade.store.lifecycle import Change, State
from stockade.store.objects import ObjectKey
from stockade.store.store import FindingStore, Recorded, RecordSummary, StoredFinding, StoredTransition, Written

__all__ = [
    "Change",
    "FindingStore",
    "ObjectKey",
    "RecordSummary",
    "Recorded",
    "State",
    "StoreError",
    "StoredFinding",
    "StoredTransition",
    "Written",
    "create_store_engine",
    "default_store_path",
    "store_url",
]
