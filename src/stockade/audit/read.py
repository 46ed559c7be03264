"""Reading ``audit.k8s.io/v1`` Events as a stream: log files (rotated and gzip too), stdin, EventLists.

The log backend writes one JSON Event per line; rotation renames ``audit.log`` to
``audit-2026-12-05T10-00-00.000.log`` (optionally gzipped). Given a directory, every file whose
name starts with the log's base name is read oldest first (by modification time), so events come
in order. Memory does not grow with the log: one line at a time. A line that is not a JSON Event
is a `ReadProblem` naming the file and line; reading goes on.
"""

from __future__ import annotations

import contextlib
import gzip
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from stockade.sources.bounded import NotRegularFile

MAX_LINE = 4 * 1024 * 1024  # an Event at RequestResponse level can be large; a line past this is refused
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class ReadProblem:
    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


def log_files(path: str) -> list[str]:
    """``path`` itself, or for a directory its audit logs (rotated ones included), oldest first."""
    target = Path(path)
    if not target.is_dir():
        return [path]
    found = [p for p in target.iterdir() if p.is_file() and (".log" in p.name or p.name.endswith((".jsonl", ".json")))]
    found.sort(key=lambda p: (p.stat().st_mtime, p.name))
    return [str(p) for p in found]


def _open(path: str, stdin: IO[bytes] | None) -> IO[bytes]:
    if path == "-":
        return stdin if stdin is not None else os.fdopen(0, "rb", closefd=False)
    with open(path, "rb") as probe:
        compressed = probe.read(2) == GZIP_MAGIC
    if compressed:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def read_events(
    paths: Iterable[str], problems: list[ReadProblem], stdin: IO[bytes] | None = None
) -> Iterator[dict[str, Any]]:
    """Every Event of ``paths`` in order (EventList lines are unpacked); problems are appended."""
    for path in (f for p in paths for f in log_files(p)):
        try:
            handle = _open(path, stdin)
        except NotRegularFile as exc:
            problems.append(ReadProblem(path, 0, f"cannot read: {exc}"))
            continue
        except OSError as exc:
            problems.append(ReadProblem(path, 0, f"cannot read: {exc.strerror or exc}"))
            continue
        with contextlib.nullcontext(handle) if path == "-" else handle:
            try:
                yield from _events(handle, path, problems)
            finally:
                raw = getattr(handle, "fileobj", None)  # GzipFile leaves the file it wraps open
                if raw is not None and path != "-":
                    raw.close()


def _events(handle: IO[bytes], source: str, problems: list[ReadProblem]) -> Iterator[dict[str, Any]]:
    number = 0
    try:
        for number, line in enumerate(iter(lambda: handle.readline(MAX_LINE + 1), b""), 1):
            if len(line) > MAX_LINE:
                problems.append(ReadProblem(source, number, f"line longer than {MAX_LINE} bytes"))
                _skip_rest(handle)
                continue
            if not line.strip():
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                problems.append(ReadProblem(source, number, "not JSON"))
                continue
            if isinstance(value, dict) and value.get("kind") == "EventList":
                items = value.get("items")
                yield from (i for i in items if isinstance(i, dict)) if isinstance(items, list) else ()
            elif isinstance(value, dict) and value.get("kind", "Event") == "Event" and "verb" in value:
                yield value
            else:
                problems.append(ReadProblem(source, number, "not an audit.k8s.io Event"))
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        problems.append(ReadProblem(source, number, f"read stopped: {exc}"))


def _skip_rest(handle: IO[bytes]) -> None:
    """Consume the remainder of an over-long line."""
    while True:
        chunk = handle.readline(MAX_LINE)
        if not chunk or chunk.endswith(b"\n"):
            return
