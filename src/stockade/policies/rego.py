"""Rego through regopy (rego-cpp), in a worker process.

regopy can abort its process on an internal error, and a policy can loop or allocate without bound,
so templates are compiled and evaluated in a child process whose resident memory the parent watches
while it waits (killed above the limit), and each evaluation waits at most a time limit. A child
that dies or overruns is killed and started
again on the next call; the call that met it gets a :class:`RegoError` naming what happened, so the
caller turns it into an error result, never a hang or a crash of the scan.

The child keeps one interpreter per template (its modules added once); an evaluation sends only
the input. The child's standard output and error go to /dev/null: rego-cpp prints its diagnostics
there, and the message of the exception it raises carries them.
"""

from __future__ import annotations

import atexit
import os
import re
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO, Any, Final

import orjson

from stockade.policies.model import PolicyDefinitionError

TIME_LIMIT: Final = 2.0  # seconds per evaluation
COMPILE_TIME_LIMIT: Final = 20.0
MEMORY_LIMIT: Final = 1 << 30  # bytes of resident memory the child may use
_WATCH_INTERVAL: Final = 0.05  # seconds between looks at the child's memory while it works
_PACKAGE = re.compile(r"^[ \t]*package[ \t]+([A-Za-z_][\w.]*)", re.MULTILINE)


class RegoError(Exception):
    """An evaluation failed: a runtime error, the time or memory limit, the worker crashed."""


def package_of(module: str) -> str | None:
    match = _PACKAGE.search(module)
    return match.group(1) if match else None


# -- the parent ------------------------------------------------------------------------------------
class RegoWorker:
    """The child process and the templates loaded into it (loaded again after a restart)."""

    def __init__(self, time_limit: float = TIME_LIMIT, memory_limit: int = MEMORY_LIMIT) -> None:
        self.time_limit = time_limit
        self.memory_limit = memory_limit
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._loaded: dict[str, tuple[str, list[tuple[str, str]]]] = {}
        self._in_child: set[str] = set()
        self.restarts = 0

    def load(self, key: str, package: str, modules: Sequence[tuple[str, str]]) -> None:
        """Compile ``modules`` as ``key``; :class:`PolicyDefinitionError` with rego-cpp's message."""
        with self._lock:
            self._loaded[key] = (package, list(modules))
            try:
                self._ensure_loaded(key, COMPILE_TIME_LIMIT)
            except RegoError as exc:
                del self._loaded[key]
                raise PolicyDefinitionError(str(exc)) from None

    def violations(self, key: str, input_: Mapping[str, Any], data: Mapping[str, Any] | None = None) -> list[Any]:
        """The ``violation`` set of template ``key`` for ``input_`` (``data``: e.g. ``inventory``)."""
        with self._lock:
            self._ensure_loaded(key, COMPILE_TIME_LIMIT)
            reply = self._call({"op": "eval", "key": key, "input": input_, "data": data}, self.time_limit)
            return list(reply["violations"])

    def _ensure_loaded(self, key: str, limit: float) -> None:
        if key in self._in_child and self._process is not None and self._process.poll() is None:
            return
        package, modules = self._loaded[key]
        self._call({"op": "load", "key": key, "package": package, "modules": modules}, limit)
        self._in_child.add(key)

    def _start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "stockade.policies._rego_child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._process = process
        self._in_child = set()
        return process

    def _call(self, message: Mapping[str, Any], limit: float) -> dict[str, Any]:
        process = self._process
        if process is None or process.poll() is not None:
            if process is not None:
                self._kill()  # it died since the last call: close its pipes
            process = self._start()
        assert process.stdin is not None and process.stdout is not None
        try:
            body = orjson.dumps(message)
            process.stdin.write(struct.pack(">I", len(body)) + body)
            process.stdin.flush()
            deadline = time.monotonic() + limit
            watch = _MemoryWatch(process.pid, self.memory_limit)
            size = struct.unpack(">I", _read_exactly(process.stdout, 4, deadline, watch))[0]
            reply: dict[str, Any] = orjson.loads(_read_exactly(process.stdout, size, deadline, watch))
        except TimeoutError:
            self._kill()
            raise RegoError(f"the policy took longer than {limit:g} s (stopped)") from None
        except MemoryError:
            self._kill()
            raise RegoError(f"the policy used more than {self.memory_limit >> 20} MiB of memory (stopped)") from None
        except (EOFError, OSError, ValueError):
            self._kill()
            raise RegoError("the Rego engine crashed on this input (its worker process died)") from None
        if not reply.get("ok"):
            raise RegoError(_short(str(reply.get("error", "unknown error"))))
        return reply

    def _kill(self) -> None:
        process, self._process = self._process, None
        self._in_child = set()
        self.restarts += 1
        if process is not None:
            _stop(process)

    def close(self) -> None:
        with self._lock:
            process, self._process = self._process, None
            if process is not None:
                _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(5)
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()


class _MemoryWatch:
    """The child's resident memory against a limit (MemoryError above it)."""

    def __init__(self, pid: int, limit: int) -> None:
        self.path = f"/proc/{pid}/statm"
        self.limit = limit
        self.page = os.sysconf("SC_PAGE_SIZE")

    def check(self) -> None:
        try:
            with open(self.path) as statm:
                resident = int(statm.read().split()[1]) * self.page
        except (OSError, ValueError, IndexError):
            return  # gone: the read that follows sees it
        if resident > self.limit:
            raise MemoryError


def _read_exactly(stream: IO[bytes], size: int, deadline: float, watch: _MemoryWatch) -> bytes:
    """``size`` bytes from the child's pipe by ``deadline`` (TimeoutError), or EOFError; the
    child's memory is looked at while waiting (MemoryError)."""
    chunks: list[bytes] = []
    wanted = size
    descriptor = stream.fileno()
    while wanted:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        if not select.select([descriptor], [], [], min(left, _WATCH_INTERVAL))[0]:
            watch.check()
            continue
        chunk = os.read(descriptor, wanted)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        wanted -= len(chunk)
    return b"".join(chunks)


_ERRORMSG = re.compile(r"\(errormsg \d+:([^)]*)\)")
_PRINTED = re.compile(r"^(.+?)\n-- (\S+?):(\d+):(\d+)", re.MULTILINE)


def _short(text: str) -> str:
    """rego-cpp's error as one line: its messages, with the line of each where it says."""
    printed = [f"{m.group(1).strip()} (line {m.group(3)})" for m in _PRINTED.finditer(text)]
    found = printed or [m.group(1).strip() for m in _ERRORMSG.finditer(text)]
    if found:
        return "; ".join(dict.fromkeys(found))[:1000]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(lines)[:1000]


_SHARED: RegoWorker | None = None
_SHARED_LOCK = threading.Lock()


def shared_worker() -> RegoWorker:
    """The process's worker (started on first use, stopped at exit)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = RegoWorker()
            atexit.register(_SHARED.close)
        return _SHARED
