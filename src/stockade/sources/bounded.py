"""Reading one named file whole (a snapshot, a configuration file) within a size limit.

Special files are refused before they are opened (:func:`open_regular`, used by every reader of
files): a FIFO without a writer would block the open for ever and ``/dev/zero`` never ends. gzip
content is expanded up to the same limit, so a small archive cannot stand for gigabytes.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
from typing import BinaryIO

from stockade.model.finding import InputProblem

GZIP_MAGIC = b"\x1f\x8b"


class ReadRefused(Exception):
    """The file cannot be read, is not a regular file, or is over the limit (``message`` says which,
    as a clause: "No such file or directory", "it is a FIFO, not a regular file")."""

    def __init__(self, message: str, *, limit: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.limit = limit


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "a special file"


class NotRegularFile(Exception):
    """The path names a FIFO, socket, device or directory (``kind`` says which, "a FIFO")."""

    def __init__(self, mode: int) -> None:
        self.kind = _kind(mode)
        super().__init__(f"it is {self.kind}, not a regular file")


def open_regular(path: str) -> tuple[BinaryIO, os.stat_result]:
    """Open the regular file ``path`` for reading, never blocking; with its ``fstat``.

    A special file is refused (:class:`NotRegularFile`) before it is opened: opening a device can
    act on it, and opening a FIFO waits for a writer. ``O_NONBLOCK`` covers a file swapped for a
    FIFO between the check and the open. Errors of the system calls are raised as ``OSError``.
    """
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularFile(info.st_mode)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(info.st_mode)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb"), info


def read_limited(path: str, max_bytes: int) -> bytes:
    """The bytes of the regular file ``path``: at most ``max_bytes``, else :class:`ReadRefused`."""
    try:
        handle, info = open_regular(path)
    except NotRegularFile as exc:
        raise ReadRefused(str(exc)) from None
    except OSError as exc:
        raise ReadRefused(str(exc.strerror or exc)) from None
    with handle:
        if info.st_size > max_bytes:
            raise ReadRefused(f"it is {info.st_size} bytes, over the {max_bytes}-byte limit", limit=True)
        try:
            data = handle.read(max_bytes + 1)  # the file may grow after the stat
        except OSError as exc:
            raise ReadRefused(str(exc.strerror or exc)) from None
    if len(data) > max_bytes:
        raise ReadRefused(f"it is more than {max_bytes} bytes, over the {max_bytes}-byte limit", limit=True)
    return data


def read_or_report(path: str, max_bytes: int, problems: list[InputProblem]) -> bytes | None:
    """`read_limited`, with a refusal added to ``problems`` (naming the file) instead of raised."""
    try:
        return read_limited(path, max_bytes)
    except ReadRefused as refused:
        problems.append(InputProblem(path, f"cannot read: {refused}", kind="limit" if refused.limit else "read"))
        return None


def gunzip_limited(data: bytes, max_bytes: int) -> bytes:
    """Expand gzip ``data`` to at most ``max_bytes``; raises :class:`ReadRefused` past that and the
    gzip module's errors (``BadGzipFile``, ``EOFError``, ``zlib.error``) on broken data."""
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as archive:
        expanded = archive.read(max_bytes + 1)
    if len(expanded) > max_bytes:
        raise ReadRefused(f"it expands to more than {max_bytes} bytes, over the {max_bytes}-byte limit", limit=True)
    return expanded
