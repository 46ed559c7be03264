"""Writing what a command produces (reports, snapshots, rule docs) without harming what is there.

- ``-`` is standard output;
- a FIFO, a character device (``/dev/null``, a terminal) or a socket is written through as a
  stream, never replaced — and so is a symbolic link to one (``/proc/self/fd/1``);
- a regular file is written atomically: a temporary file in the same directory, renamed over the
  target, so a reader never sees half a report and a crash leaves the old file whole;
- a symbolic link to anything else is refused: following it would overwrite a file the user did
  not name (``report.html -> ~/.bashrc``). The rename replaces the name itself, never a link's
  target, so a link planted after the check cannot redirect the write either.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import IO

STDOUT = "-"
PRIVATE = 0o600


class OutputPathError(OSError):
    """The target cannot be written safely (a symbolic link, a directory, a block device)."""


def _stream_kind(mode: int) -> bool:
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode)


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def is_stream(path: str) -> bool:
    """True for ``-`` and for targets written through as a stream (nothing is replaced)."""
    if path == STDOUT:
        return True
    try:
        return _stream_kind(os.stat(path).st_mode)
    except OSError:
        return False


def write_output(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None, parents: bool = False) -> None:
    """Write ``data`` to ``path`` as described above; ``mode`` is a new regular file's permissions
    (default: 0666 less the umask; :data:`PRIVATE` for snapshots). Raises OSError
    (:class:`OutputPathError` for a target refused)."""
    target = os.fspath(path)
    if target == STDOUT:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        own = os.lstat(target).st_mode
    except FileNotFoundError:
        own = None
    if own is not None and stat.S_ISLNK(own):
        try:
            followed = os.stat(target).st_mode
        except OSError:
            followed = None
        if followed is None or not _stream_kind(followed):
            raise OutputPathError(f"{target} is a symbolic link; refusing to follow it (name its target instead)")
        own = followed
    if own is not None and _stream_kind(own):
        _write_stream(target, data)
        return
    if own is not None and stat.S_ISDIR(own):
        raise OutputPathError(f"{target} is a directory")
    if own is not None and not stat.S_ISREG(own):
        raise OutputPathError(f"{target} is not a regular file, a FIFO or a character device")
    _write_atomically(Path(target), data, _default_mode() if mode is None else mode, parents)


def open_append(path: str, what: str = "output") -> IO[bytes]:
    """``path`` opened for appending: created 0600, a symbolic link refused unless ``path`` is a
    stream such as /dev/stdout (so a planted link cannot redirect the writes). ``what`` names the
    file in the error."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    if not is_stream(path):
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags, PRIVATE)
    except OSError as error:
        raise OSError(error.errno, f"cannot open the {what} file {path}: {error.strerror}") from None
    return os.fdopen(descriptor, "ab")


def write_text_output(path: str | os.PathLike[str], text: str, *, mode: int | None = None) -> None:
    write_output(path, text.encode("utf-8"), mode=mode)


def _write_stream(target: str, data: bytes) -> None:
    # O_CREAT would make a file if the special file vanished meanwhile; O_TRUNC means nothing here.
    fd = os.open(target, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _write_atomically(target: Path, data: bytes, mode: int, parents: bool) -> None:
    if parents:
        target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
