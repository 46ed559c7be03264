"""``stockade node watch``: a file-integrity monitor on a node's key files, driven by inotify.

The same key files `stockade node scan` checks (`stockade.sources.node.KEY_FILES`) are watched
through their directories, so writes, permission and owner changes, renames (editors and config
tools replace files by renaming a new one over them), deletions and new files are all seen. Each
change is one `FileEvent` with the file's state before and after: type, mode, owner, group and a
SHA-256 of the content (never the content). Nothing is polled: the kernel wakes the watcher. A
watched directory that is removed and recreated (or that did not exist yet) is picked up again
within ``recheck`` seconds, and its files reported; a kernel queue overflow triggers a full
rescan, so a burst loses no change.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import os
import stat
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from inotify_simple import INotify, flags

from stockade.sources.node import KEY_FILES

MASK = (
    flags.MODIFY
    | flags.ATTRIB
    | flags.CLOSE_WRITE
    | flags.MOVED_FROM
    | flags.MOVED_TO
    | flags.CREATE
    | flags.DELETE
    | flags.DELETE_SELF
    | flags.MOVE_SELF
)
HASH_LIMIT = 16 * 1024 * 1024  # larger files get no content hash (key files are small)


@dataclass(frozen=True, slots=True)
class FileState:
    type: str
    mode: str
    uid: int
    gid: int
    sha256: str | None


@dataclass(frozen=True, slots=True)
class FileEvent:
    time: str
    node: str
    path: str
    event: str  # created | deleted | modified | attributes | renamed | directory-recreated
    before: FileState | None
    after: FileState | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    # What the watcher's alert sinks ask of an event (stockade.watch.sinks.AlertEvent).
    alert_noun = "file change"

    @property
    def alert_source(self) -> str:
        return self.node

    @property
    def alert_kind(self) -> str:
        return self.event

    def alert_line(self) -> str:
        """``MODIFIED node-1:/etc/kubernetes/admin.conf mode 0600 → 0644`` (plain text)."""
        changes = []
        before, after = self.before, self.after
        if before and after:
            for field in ("type", "mode", "uid", "gid"):
                old, new = getattr(before, field), getattr(after, field)
                if old != new:
                    changes.append(f"{field} {old} → {new}")
            if before.sha256 != after.sha256:
                changes.append("content changed")
        detail = f" {', '.join(changes)}" if changes else ""
        return f"{self.event.upper()} {self.node}:{self.path}{detail}"


def read_state(path: Path) -> FileState | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    digest = None
    if stat.S_ISREG(info.st_mode) and info.st_size <= HASH_LIMIT:
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            digest = None
    kind = "directory" if stat.S_ISDIR(info.st_mode) else "symlink" if stat.S_ISLNK(info.st_mode) else "file"
    return FileState(kind, f"{stat.S_IMODE(info.st_mode):04o}", info.st_uid, info.st_gid, digest)


def _patterns() -> list[str]:
    return sorted({pattern for patterns in KEY_FILES.values() for pattern in patterns})


def _directories(patterns: Iterable[str]) -> list[str]:
    """The directories to watch: each pattern's parent, and the pattern itself when it names a
    directory whose files are key files (the PKI, CNI configuration)."""
    found: set[str] = set()
    for pattern in patterns:
        parent = os.path.dirname(pattern)
        found.add(parent)
    return sorted(found)


class NodeWatcher:
    """Watch the key files below ``root``; ``emit`` receives each `FileEvent` as it happens."""

    def __init__(self, root: str, node: str, emit: Callable[[FileEvent], None], recheck: float = 0.5) -> None:
        self.root = Path(root)
        self.node = node
        self.emit = emit
        self.recheck = recheck
        self.patterns = _patterns()
        self.directories = _directories(self.patterns)
        self.inotify = INotify()
        self.watches: dict[int, str] = {}  # watch descriptor → directory (node path)
        self.missing: set[str] = set()
        self.states: dict[str, FileState] = {}
        self.ready = threading.Event()

    # -- setup ------------------------------------------------------------------------------------
    def start(self) -> None:
        for directory in self.directories:
            self._watch(directory)
        for path in self._present():
            state = read_state(self._local(path))
            if state is not None:
                self.states[path] = state
        self.ready.set()

    def _local(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def _watch(self, directory: str) -> bool:
        try:
            descriptor = self.inotify.add_watch(str(self._local(directory)), MASK)
        except OSError:
            self.missing.add(directory)
            return False
        self.watches[descriptor] = directory
        self.missing.discard(directory)
        return True

    def relevant(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in self.patterns)

    def _present(self) -> list[str]:
        found: list[str] = []
        for directory in self.directories:
            local = self._local(directory)
            try:
                names = os.listdir(local)
            except OSError:
                continue
            found.extend(p for p in (f"{directory}/{n}" for n in names) if self.relevant(p))
        return sorted(found)

    # -- running ------------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        if not self.ready.is_set():
            self.start()
        timeout = int(self.recheck * 1000)
        try:
            while not stop.is_set():
                events = self.inotify.read(timeout=timeout)
                if events:
                    self._handle(events)
                if self.missing:
                    self._recheck_missing()
        finally:
            self.inotify.close()

    def _handle(self, events: list[Any]) -> None:
        touched: dict[str, str] = {}  # path → what the kernel said last (renames win)
        for event in events:
            if event.mask & flags.Q_OVERFLOW:
                self._rescan()
                continue
            directory = self.watches.get(event.wd)
            if directory is None:
                continue
            if event.mask & (flags.DELETE_SELF | flags.MOVE_SELF | flags.IGNORED):
                self.watches.pop(event.wd, None)
                self.missing.add(directory)
                continue
            if not event.name:
                continue
            path = f"{directory}/{event.name}"
            if not self.relevant(path):
                continue
            kind = "renamed" if event.mask & (flags.MOVED_FROM | flags.MOVED_TO) else ""
            if kind or path not in touched:
                touched[path] = kind
        for path, kind in touched.items():
            self._compare(path, kind)

    def _compare(self, path: str, hint: str = "") -> None:
        before = self.states.get(path)
        after = read_state(self._local(path))
        if before == after:
            return
        if after is None:
            self.states.pop(path, None)
            event = "renamed" if hint == "renamed" else "deleted"
        else:
            self.states[path] = after
            if before is None:
                event = "renamed" if hint == "renamed" else "created"
            elif hint == "renamed" and before.sha256 != after.sha256:
                event = "renamed"  # a new file renamed over the old one
            elif before.sha256 != after.sha256 or before.type != after.type:
                event = "modified"
            else:
                event = "attributes"
        self.emit(FileEvent(_now(), self.node, path, event, before, after))

    def _recheck_missing(self) -> None:
        for directory in sorted(self.missing):
            if self._local(directory).is_dir() and self._watch(directory):
                self.emit(
                    FileEvent(
                        _now(), self.node, directory, "directory-recreated", None, read_state(self._local(directory))
                    )
                )
                self._rescan_directory(directory)

    def _rescan_directory(self, directory: str) -> None:
        prefix = directory + "/"
        known = {p for p in self.states if p.startswith(prefix) and "/" not in p[len(prefix) :]}
        present = {p for p in self._present() if p.startswith(prefix)}
        for path in sorted(known | present):
            self._compare(path)

    def _rescan(self) -> None:
        """After the kernel dropped events: compare every key file with what was last seen."""
        for path in sorted(set(self.states) | set(self._present())):
            self._compare(path)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
