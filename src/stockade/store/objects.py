"""The object behind a finding: its identity, version, last writer, and a storable snapshot."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from stockade.model.finding import ResourceRef
from stockade.sources.redaction import redacted

RawObject = Mapping[str, Any]


class ObjectKey(NamedTuple):
    """Which object: kind, namespace (None when cluster-scoped) and name."""

    kind: str
    namespace: str | None
    name: str

    @classmethod
    def of(cls, ref: ResourceRef) -> ObjectKey:
        return cls(ref.kind, ref.namespace or None, ref.name)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One object state ready to store: compressed canonical JSON and its hash (the dedup key)."""

    key: ObjectKey
    resource_version: str | None
    content_hash: str
    content: bytes


def _metadata(raw: RawObject) -> Mapping[str, Any]:
    meta = raw.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def resource_version(raw: RawObject) -> str | None:
    version = _metadata(raw).get("resourceVersion")
    return str(version) if version is not None else None


def last_manager(raw: RawObject) -> str | None:
    """The field manager of the most recent write (managedFields), when the object records one."""
    entries = _metadata(raw).get("managedFields")
    if not isinstance(entries, list):
        return None
    # RFC 3339 UTC timestamps compare as text; a missing time sorts first.
    timed = [(str(e.get("time") or ""), e.get("manager")) for e in entries if isinstance(e, Mapping)]
    managers = [(time, manager) for time, manager in timed if isinstance(manager, str) and manager]
    return max(managers)[1] if managers else None


def snapshot(key: ObjectKey, raw: RawObject) -> Snapshot:
    """The object as stored: Secret values blanked again (sources already did; the store never
    relies on it) and managedFields left out (its writer is kept on the transition)."""
    content = dict(redacted(raw) or raw)
    meta = content.get("metadata")
    if isinstance(meta, Mapping) and "managedFields" in meta:
        content["metadata"] = {k: v for k, v in meta.items() if k != "managedFields"}
    canonical = orjson.dumps(content, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return Snapshot(
        key=key,
        resource_version=resource_version(raw),
        content_hash=hashlib.sha256(canonical).hexdigest(),
        content=zlib.compress(canonical),
    )


def restore(content: bytes) -> dict[str, Any]:
    """A stored object state back as the mapping it was."""
    value = orjson.loads(zlib.decompress(content))
    assert isinstance(value, dict)
    return value
