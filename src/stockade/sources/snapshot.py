"""Cluster snapshots: a collection saved to one file, scanned later without the cluster.

A snapshot is one JSON document (gzip-compressed when the file name ends in ``.gz``)::

    {"apiVersion": "stockade.io/v1alpha1", "kind": "ClusterSnapshot",
     "metadata": {"source": "cluster:prod", "facts": {"server_version": "v1.31.4", ...}},
     "items": [<raw objects>],
     "errors": [{"source": ..., "message": ..., "kind": ...}], "skipped": [...]}

It keeps the collection's errors as well as its objects, so a snapshot of a cluster where some
kinds were forbidden still says so when it is scanned — it never reads as a clean pass. Secrets
are stored as the cluster source left them (key names, no values) and are blanked again on
reading, whoever wrote the file. Files are written 0600, atomically (:mod:`stockade.outputs`).
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from stockade.model.finding import InputProblem, SkippedInput
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.model.text import safe_text
from stockade.outputs import PRIVATE, write_output
from stockade.sources.base import ProgressCallback, SourceResult
from stockade.sources.bounded import GZIP_MAGIC, ReadRefused, gunzip_limited, read_limited
from stockade.sources.limits import DEFAULT_LIMITS, ParseLimits
from stockade.sources.redaction import redact_secret

API_VERSION = "stockade.io/v1alpha1"
KIND = "ClusterSnapshot"


def _origin_source(result: SourceResult) -> str:
    files = {r.origin.file for r in result.resources} | {e.source for e in result.errors}
    return safe_text(files.pop()) if len(files) == 1 else "cluster"


def write_snapshot(result: SourceResult, path: str | os.PathLike[str]) -> Path:
    """Save ``result`` (objects, errors, skipped inputs, facts) to ``path``; returns the path.

    ``path`` is written as :func:`stockade.outputs.write_output` says: a new file 0600, atomically;
    ``-``, a FIFO or a device as a stream; a symbolic link to a file is refused."""
    target = Path(path)
    document = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"source": _origin_source(result), "facts": result.facts},
        "items": [r.raw for r in result.resources],
        "errors": [
            {"source": e.source, "message": e.message, "kind": e.kind, "line": e.line, "object": e.object}
            for e in result.errors
        ],
        "skipped": [{"source": s.source, "reason": s.reason, "line": s.line} for s in result.skipped],
    }
    payload = orjson.dumps(document, default=str)
    if target.name.endswith(".gz"):
        payload = gzip.compress(payload, compresslevel=6, mtime=0)
    write_output(path, payload, mode=PRIVATE, parents=True)
    return target


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _line(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def collect_snapshot(path: str | os.PathLike[str], limits: ParseLimits = DEFAULT_LIMITS) -> SourceResult:
    """Read a snapshot: its objects (origin: the snapshot path), recorded errors and facts.

    The file must be a regular file of at most ``limits.max_file_bytes``, and expand (when gzip)
    to at most as much.
    """
    source = os.fspath(path)
    result = SourceResult()
    try:
        data = read_limited(source, limits.max_file_bytes)
        if data.startswith(GZIP_MAGIC):
            data = gunzip_limited(data, limits.max_file_bytes)
        document = orjson.loads(data)
    except ReadRefused as exc:
        kind = "limit" if exc.limit else "read"
        result.errors.append(InputProblem(source, f"cannot read snapshot: {exc.message}", kind=kind))
        return result
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        result.errors.append(InputProblem(source, f"snapshot is not valid gzip: {exc}", kind="parse"))
        return result
    except orjson.JSONDecodeError as exc:
        result.errors.append(InputProblem(source, f"snapshot is not valid JSON: {exc}", kind="parse"))
        return result
    if not isinstance(document, dict) or document.get("kind") != KIND:
        result.errors.append(InputProblem(source, f"not a Stockade snapshot (expected kind: {KIND})", kind="parse"))
        return result
    if document.get("apiVersion") != API_VERSION:
        message = f"unsupported snapshot apiVersion {document.get('apiVersion')!r} (this Stockade reads {API_VERSION})"
        result.errors.append(InputProblem(source, message, kind="parse"))
        return result
    meta = document.get("metadata")
    facts = meta.get("facts") if isinstance(meta, Mapping) else None
    if isinstance(facts, Mapping):
        result.facts.update(facts)
    items = document.get("items")
    if not isinstance(items, list):
        result.errors.append(InputProblem(source, "snapshot has no items list", kind="parse"))
        items = []
    for index, item in enumerate(items):
        origin = Origin(file=source, item=index)
        if not isinstance(item, dict):
            result.errors.append(InputProblem(source, f"item {index} is not an object", kind="parse"))
            continue
        if item.get("kind") == "Secret" and item.get("apiVersion") == "v1":
            redact_secret(item)
        made = resource_from_raw(item, origin)
        if isinstance(made, Resource):
            result.resources.append(made)
        else:
            result.errors.append(InputProblem(source, f"item {index}: {made}", kind="parse"))
    for entry in _entries(document.get("errors")):
        text = _text(entry.get("message"))
        if text is not None:
            recorded = _text(entry.get("source")) or source
            result.errors.append(
                InputProblem(
                    f"{source} ({recorded})",
                    text,
                    line=_line(entry.get("line")),
                    object=_text(entry.get("object")),
                    kind=_text(entry.get("kind")) or "read",
                )
            )
    for entry in _entries(document.get("skipped")):
        reason = _text(entry.get("reason"))
        if reason is not None:
            recorded = _text(entry.get("source")) or source
            result.skipped.append(SkippedInput(f"{source} ({recorded})", reason, _line(entry.get("line"))))
    return result


def _entries(value: Any) -> list[Mapping[str, Any]]:
    return [e for e in value if isinstance(e, Mapping)] if isinstance(value, list) else []


@dataclass(frozen=True, slots=True)
class SnapshotSource:
    """A snapshot written by ``stockade snapshot`` (gzip JSON), read offline."""

    path: str | os.PathLike[str]
    limits: ParseLimits = DEFAULT_LIMITS

    def collect(self, progress: ProgressCallback | None = None) -> SourceResult:
        if progress is not None:
            progress("reading snapshot", 0, 0)
        return collect_snapshot(self.path, self.limits)
