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

Two things Gatekeeper refuses when it ingests a template are checked here too, since rego-cpp
would not say: every function a module calls must be a builtin of the engine or defined in the
modules (rego-cpp answers *undefined* for some it lacks, such as ``net.cidr_contains``, which
would silently change a policy's answer), and ``http.send`` is refused (Gatekeeper disables it).
The child runs with an empty environment, so ``opa.runtime()`` shows a policy no secrets of the
process (in Gatekeeper it shows none either).
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
# Variables the child may keep: what Python needs to start and find stockade, nothing else.
_CHILD_ENVIRONMENT: Final = ("PATH", "PYTHONPATH", "PYTHONHOME", "LD_LIBRARY_PATH", "LANG", "LC_ALL")
# Builtins Gatekeeper does not offer (or refuses by default), with what to say of each.
_REFUSED: Final = {
    "http.send": "http.send is disabled, as in Gatekeeper (use Gatekeeper's external data instead)",
    "external_data": "Gatekeeper's external data providers (external_data) are not supported",
}
# Functions rego-cpp handles itself without listing them as builtins.
_ENGINE_SPECIALS: Final = frozenset({"print"})
_CALL: Final = re.compile(r"(?<![\w.\]])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\(")
_IMPORT: Final = re.compile(r"^[ \t]*import[ \t]+([\w.\[\]\"]+)(?:[ \t]+as[ \t]+(\w+))?", re.MULTILINE)
_KEYWORDS: Final = frozenset(
    {"not", "if", "contains", "in", "some", "every", "else", "with", "as", "default", "package"}
)


class RegoError(Exception):
    """An evaluation failed: a runtime error, the time or memory limit, the worker crashed."""


class _NotDelivered(RegoError):
    """The worker was gone before it read the request (safe to send again to a new one)."""


def package_of(module: str) -> str | None:
    match = _PACKAGE.search(module)
    return match.group(1) if match else None


def called_functions(modules: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Each function the modules call that they do not define themselves (nor reach through
    ``data.`` or an import) → where it is first called (``module line N``): what must be a builtin."""
    code = [(name, _code_only(text)) for name, text in modules]
    defined: set[str] = set()
    aliases: set[str] = {"data", "input", "future", "rego"}
    for _, text in code:
        indent = _package_indent(text)
        for line in text.splitlines():
            head = re.match(r"([ \t]*)([A-Za-z_]\w*)\s*\(", line)
            if head and len(head.group(1)) <= indent:
                defined.add(head.group(2))
        for imported in _IMPORT.finditer(text):
            aliases.add(imported.group(2) or imported.group(1).rsplit(".", 1)[-1])
    found: dict[str, str] = {}
    for name, text in code:
        for call in _CALL.finditer(text):
            function = call.group(1)
            first = function.split(".", 1)[0]
            if function in defined or first in aliases or function in _KEYWORDS or function in found:
                continue
            found[function] = f"{name} line {text.count(chr(10), 0, call.start()) + 1}"
    return found


def _package_indent(text: str) -> int:
    match = re.search(r"^([ \t]*)package\b", text, re.MULTILINE)
    return len(match.group(1)) if match else 0


def _code_only(text: str) -> str:
    """``text`` with strings, raw strings and comments blanked (line breaks kept)."""
    out: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "#":
            end = text.find("\n", position)
            end = len(text) if end < 0 else end
        elif char == '"':
            end = position + 1
            while end < len(text) and text[end] not in '"\n':
                end += 2 if text[end] == "\\" else 1
            end = min(end + 1, len(text))
        elif char == "`":
            end = text.find("`", position + 1)
            end = len(text) if end < 0 else end + 1
        else:
            out.append(char)
            position += 1
            continue
        out.append("".join(c if c == "\n" else " " for c in text[position:end]))
        position = end
    return "".join(out)


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
        """Compile ``modules`` as ``key``; :class:`PolicyDefinitionError` with rego-cpp's message
        (with the module and line where it says), or naming a function the engine lacks."""
        with self._lock:
            calls = called_functions(modules)
            refused = [f"{_REFUSED[f]} ({where})" for f, where in calls.items() if f in _REFUSED]
            if refused:
                raise PolicyDefinitionError("; ".join(refused))
            self._loaded[key] = (package, list(modules))
            try:
                reply = self._call(
                    {"op": "builtins", "names": sorted(set(calls) - _ENGINE_SPECIALS)}, COMPILE_TIME_LIMIT
                )
                missing = [f"{name} ({calls[name]})" for name in reply["missing"]]
                if missing:
                    raise RegoError(f"the Rego engine has no builtin function {', '.join(missing)}")
                self._ensure_loaded(key, COMPILE_TIME_LIMIT)
            except RegoError as exc:
                del self._loaded[key]
                raise PolicyDefinitionError(_located(str(exc), modules)) from None

    def violations(self, key: str, input_: Mapping[str, Any], data: Mapping[str, Any] | None = None) -> list[Any]:
        """The ``violation`` set of template ``key`` for ``input_`` (``data``: e.g. ``inventory``)."""
        with self._lock:
            for attempt in range(2):
                try:
                    self._ensure_loaded(key, COMPILE_TIME_LIMIT)
                    reply = self._call({"op": "eval", "key": key, "input": input_, "data": data}, self.time_limit)
                    return list(reply["violations"])
                except _NotDelivered:
                    if attempt:  # a fresh worker that cannot be written to either
                        raise RegoError("the Rego engine's worker process cannot be started") from None
                except RegoError as exc:
                    raise RegoError(_located(str(exc), self._loaded[key][1])) from None
            raise AssertionError("unreachable")

    def _ensure_loaded(self, key: str, limit: float) -> None:
        if key in self._in_child and self._process is not None and self._process.poll() is None:
            return
        package, modules = self._loaded[key]
        try:
            self._call({"op": "load", "key": key, "package": package, "modules": modules}, limit)
        except RegoError as exc:
            if self._process is None:  # killed: a limit, or a crash, while trying it on an empty input
                raise RegoError(f"{exc}, evaluating it once on an empty input") from None
            raise
        self._in_child.add(key)

    def _start(self) -> subprocess.Popen[bytes]:
        environment = {name: os.environ[name] for name in _CHILD_ENVIRONMENT if name in os.environ}
        process = subprocess.Popen(
            [sys.executable, "-m", "stockade.policies._rego_child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=environment,
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
            body = orjson.dumps(message, default=_plain)
        except TypeError as exc:
            raise RegoError(f"the input cannot be given to the Rego engine: {exc}") from None
        try:
            process.stdin.write(struct.pack(">I", len(body)) + body)
            process.stdin.flush()
        except OSError:
            # It died before reading the request (killed from outside): nothing of this input
            # reached it, so the caller may try again on a new worker.
            self._kill()
            raise _NotDelivered("the Rego worker died before the request reached it") from None
        try:
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


def _plain(value: object) -> object:
    """What orjson cannot write itself: read-only mappings (a namespace object) and sets."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


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
# rego-cpp's error node: ``(error 8:template|38|2`` names the module and the byte offset in it.
_LOCATED = re.compile(r"\(error \d+:([^|\s]+)\|(\d+)\|\d+\s*\(errormsg \d+:([^)]*)\)")
_LOCATION_MARK = "\x00at\x00"


def _short(text: str) -> str:
    """rego-cpp's error as one line: its messages, with the line of each where it says."""
    if re.fullmatch(r"(?:\w+: )?<error>", text.strip()):
        return (
            "the Rego engine stopped with an error it gives no detail of"
            " (a rule or function giving two different values is a common cause)"
        )
    printed = [f"{m.group(1).strip()} ({m.group(2)} line {m.group(3)})" for m in _PRINTED.finditer(text)]
    located = [f"{m.group(3).strip()}{_LOCATION_MARK}{m.group(1)}|{m.group(2)}" for m in _LOCATED.finditer(text)]
    found = printed or located or [m.group(1).strip() for m in _ERRORMSG.finditer(text)]
    if found:
        return "; ".join(dict.fromkeys(found))[:1000]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(lines)[:1000]


def _located(message: str, modules: Sequence[tuple[str, str]]) -> str:
    """``message`` with rego-cpp's module|offset marks turned into ``(module line N)``."""
    texts = dict(modules)

    def line_of(match: re.Match[str]) -> str:
        module, offset = match.group(1), int(match.group(2))
        text = texts.get(module)
        if text is None:
            return f" ({module})"
        line = text.encode()[:offset].count(b"\n") + 1
        return f" ({module} line {line})"

    return re.sub(re.escape(_LOCATION_MARK) + r"([^|]+)\|(\d+)", line_of, message)


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
