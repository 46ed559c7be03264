"""The object behind a finding: its identity, version, last writer, and a storable snapshot."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from stockade.model.finding import ResourceRef
from stockade.rules.base import RuleConfig
from stockade.rules.sc._heuristics import classify, classify_file
from stockade.sources.redaction import redacted

# The secret rules' default threshold: what they would flag is what the store blanks.
ENTROPY_THRESHOLD = RuleConfig().secret_entropy_threshold

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
    relies on it), credentials written as literals blanked too (environment variable values and
    ConfigMap entries that the secret rules take for credentials: SC-001, SC-002), and
    managedFields left out (its writer is kept on the transition). A replay of the secret rules
    over stored states therefore sees those values blank."""
    content = dict(blank_literal_credentials(redacted(raw) or raw))
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


def blank_literal_credentials(raw: RawObject) -> RawObject:
    """``raw`` with credential-looking literals blanked (a new mapping only where one changed)."""
    found = _blank(raw)
    if raw.get("kind") == "ConfigMap" and isinstance(raw.get("data"), Mapping):
        data = raw["data"]
        kept = {k: "" if _credential(str(k), v, environment=False) else v for k, v in data.items()}
        if kept != data:
            found = {**found, "data": kept}
    assert isinstance(found, Mapping)
    return found


def _credential(name: str, value: object, *, environment: bool = True) -> bool:
    if not isinstance(value, str) or not value:
        return False
    if classify(name, value, ENTROPY_THRESHOLD, environment=environment) is not None:
        return True
    return not environment and classify_file(value) is not None


def _blank(value: Any) -> Any:
    if isinstance(value, Mapping):
        changed = {}
        for key, item in value.items():
            if key == "env" and isinstance(item, list):
                new = [_blank_variable(v) for v in item]
                if any(a is not b for a, b in zip(new, item, strict=True)):
                    changed[key] = new
            else:
                new_item = _blank(item)
                if new_item is not item:
                    changed[key] = new_item
        return {**value, **changed} if changed else value
    if isinstance(value, list):
        items = [_blank(v) for v in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value


def _blank_variable(variable: Any) -> Any:
    if isinstance(variable, Mapping) and _credential(str(variable.get("name") or ""), variable.get("value")):
        return {**variable, "value": ""}
    return variable


def restore(content: bytes) -> dict[str, Any]:
    """A stored object state back as the mapping it was."""
    value = orjson.loads(zlib.decompress(content))
    assert isinstance(value, dict)
    return value
