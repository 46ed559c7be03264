"""Changes waiting for the store: kept in order while it is away, merged only when too many wait.

A batch is what one evaluation step changed: the current state of the findings that appeared or
changed, and the fingerprints of those that went away. Batches are written in order, each in one
transaction, so every intermediate transition is kept. Past ``limit`` waiting batches the two
oldest are merged (the later state wins); the transitions that merging skips are counted and
reported, never silently lost.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from stockade.model.finding import Finding
from stockade.store import ObjectKey
from stockade.store.objects import RawObject


@dataclass(slots=True)
class Batch:
    at: dt.datetime
    current: dict[str, Finding]  # fingerprint -> the finding as it is now
    gone: set[str]  # fingerprints no longer found
    objects: dict[ObjectKey, RawObject]  # the objects behind them, as they were
    received: float  # time.monotonic() of the oldest event behind this batch
    # Every object version observed since the last batch (None: deleted), kept for replay.
    versions: dict[ObjectKey, RawObject | None] = field(default_factory=dict)
    merged: int = 1  # how many evaluation steps it holds
    reconcile: bool = False  # the full record of a (re)start or a new leader

    def absorb(self, later: Batch) -> None:
        """Become the merge of this batch and the ``later`` one."""
        for fingerprint in later.gone:
            self.current.pop(fingerprint, None)
        self.gone = (self.gone - later.current.keys()) | later.gone
        self.current.update(later.current)
        self.objects.update(later.objects)
        self.versions.update(later.versions)
        self.at = later.at
        self.merged += later.merged
        self.reconcile = self.reconcile or later.reconcile


@dataclass(slots=True)
class Pending:
    """Batches not yet stored, oldest first, at most ``limit`` of them."""

    limit: int
    batches: deque[Batch] = field(default_factory=deque)
    collapsed: int = 0  # evaluation steps merged into another because the queue was full

    def add(self, batch: Batch) -> None:
        self.batches.append(batch)
        while len(self.batches) > max(1, self.limit):
            oldest = self.batches.popleft()
            oldest.absorb(self.batches.popleft())
            self.batches.appendleft(oldest)
            self.collapsed += 1

    def clear(self) -> None:
        self.batches.clear()

    def __len__(self) -> int:
        return len(self.batches)


def objects_for(keys: set[ObjectKey], *sources: Mapping[ObjectKey, RawObject]) -> dict[ObjectKey, RawObject]:
    """The first state each key has in ``sources`` (the live objects, then the last deleted ones)."""
    found: dict[ObjectKey, RawObject] = {}
    for key in keys:
        for source in sources:
            raw = source.get(key)
            if raw is not None:
                found[key] = raw
                break
    return found
