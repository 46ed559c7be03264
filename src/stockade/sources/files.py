"""Manifests from files, directories, stdin, kustomizations and Helm charts.

:func:`collect_paths` is the entry point. A path is a file (read whatever its name), ``-`` for
standard input, or a directory: a directory with a kustomization file is rendered with
``kubectl kustomize``, one with ``Chart.yaml`` with ``helm template``; any other directory is
walked (sorted, hidden entries skipped) for ``.yaml``, ``.yml`` and ``.json`` files, and its
subdirectories get the same treatment. ``.json`` files and standard input that starts with ``{``
or ``[`` are read as JSON; everything else as YAML (see :mod:`stockade.sources.yamlload`).

A symbolic link met in a directory is followed only when its target lies inside one of the paths
named (``ParseLimits.follow_links``, ``--follow-links``, follows every link): a repository's link
to ``/etc`` or to a kubeconfig is not read. A path named by the user is followed, being their
choice. Only regular files are opened: a FIFO, socket or device is reported, never opened
(opening a FIFO waits for a writer), and every file is read once (:func:`~stockade.sources.bounded.open_regular`).
Kubeconfig and Docker credential documents are skipped unread (:mod:`stockade.sources.credentials`).

Every input ends up somewhere in the :class:`~stockade.sources.base.SourceResult`: as objects, as
skipped (read, nothing to scan, with the reason) or as errors naming the file and line. Nothing
raises for bad input, and one bad input never stops the others.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO, Literal

from stockade.model.finding import InputProblem, SkippedInput
from stockade.sources.base import ProgressCallback, SourceResult
from stockade.sources.bounded import NotRegularFile, open_regular
from stockade.sources.credentials import without_credentials
from stockade.sources.decode import DecodeProblem, decode_bytes
from stockade.sources.forking import start_forked, usable_cores
from stockade.sources.helm import is_chart, render_chart
from stockade.sources.kustomize import is_kustomization, render_kustomization
from stockade.sources.limits import DEFAULT_LIMITS, ParseLimits
from stockade.sources.locate import STDIN, default_locator
from stockade.sources.objects import add_documents
from stockade.sources.yamlload import Loaded, load_json, load_yaml

__all__ = ["Input", "ParseLimits", "collect_paths", "discover", "read_input"]

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

InputKind = Literal["file", "stdin", "kustomize", "helm"]


@dataclass(frozen=True, slots=True)
class Input:
    """One thing to read: ``path`` on disk, ``display`` as the user gave it (used in origins)."""

    kind: InputKind
    path: str
    display: str


# Reading in two processes pays for the fork and for sending parsed objects back (about 40% of
# the parse time) only on large inputs.
PARALLEL_MIN_FILES = 32
PARALLEL_MIN_BYTES = 16 * 1024 * 1024


def collect_paths(
    paths: Sequence[str],
    *,
    limits: ParseLimits = DEFAULT_LIMITS,
    stdin: BinaryIO | None = None,
    parallel: bool | None = None,
) -> SourceResult:
    """Read every object under ``paths`` (``-`` is standard input, or ``stdin`` when given).

    ``parallel`` None decides by size: large inputs are parsed on two cores (a forked worker takes
    the last half of the files by size). The result is the same either way, in the same order.
    """
    result = SourceResult()
    found = list(discover(paths, follow_links=limits.follow_links))
    for outcome in _read_all(found, limits, stdin, parallel):
        if isinstance(outcome, InputProblem):
            result.errors.append(outcome)
        elif isinstance(outcome, SkippedInput):
            result.skipped.append(outcome)
        else:
            result.extend(outcome)
    return result


Outcome = SourceResult | InputProblem | SkippedInput


def _read_all(
    found: list[Input | InputProblem | SkippedInput],
    limits: ParseLimits,
    stdin: BinaryIO | None,
    parallel: bool | None,
) -> list[Outcome]:
    outcomes: list[Outcome | None] = [item if not isinstance(item, Input) else None for item in found]
    seen: dict[tuple[int, int], str] = {}
    sizes: dict[int, int] = {}
    if parallel is not False:
        # Files reached twice (links) are settled here, in order, so that either process can read
        # the rest without a shared table.
        for index, item in enumerate(found):
            if isinstance(item, Input) and item.kind == "file":
                try:
                    info = os.stat(item.path)
                except OSError:
                    continue  # reading it will say what is wrong
                if not stat.S_ISREG(info.st_mode):
                    continue
                key = (info.st_dev, info.st_ino)
                if key in seen:
                    outcomes[index] = SkippedInput(item.display, f"same file as {seen[key]} (already read)")
                else:
                    seen[key] = item.display
                    sizes[index] = info.st_size
    offloaded = _worker_share(sizes, parallel)
    share = [(i, item) for i in sorted(offloaded) if isinstance(item := found[i], Input)]
    wait = start_forked(lambda: _read_share(share, limits)) if share else None
    if wait is None:
        offloaded = set()
    for index, item in enumerate(found):
        if outcomes[index] is None and index not in offloaded:
            assert isinstance(item, Input)
            outcomes[index] = read_input(item, limits, stdin=stdin, seen=None if sizes else seen)
    if wait is not None:
        blob = wait()
        if blob is not None:
            for index, outcome in _decode_share(blob):
                outcomes[index] = outcome
        else:  # the worker died (killed, out of memory): read its share here instead
            for index, item in share:
                outcomes[index] = read_input(item, limits)
    return [outcome for outcome in outcomes if outcome is not None]


def _worker_share(sizes: dict[int, int], parallel: bool | None) -> set[int]:
    """Indexes of the files the worker reads: the tail holding about half of the bytes."""
    total = sum(sizes.values())
    if parallel is None:
        parallel = usable_cores() > 1 and len(sizes) >= PARALLEL_MIN_FILES and total >= PARALLEL_MIN_BYTES
    if not parallel or len(sizes) < 2:
        return set()
    share: set[int] = set()
    taken = 0
    for index in sorted(sizes, reverse=True):
        if taken >= total / 2:
            break
        share.add(index)
        taken += sizes[index]
    return share


def _read_share(items: list[tuple[int, Input]], limits: ParseLimits) -> bytes:
    """In the worker process: read the files given; return them encoded for :func:`_decode_share`.

    Parsed documents are plain dicts, lists and scalars, which ``marshal`` writes and reads several
    times faster than pickle writes our dataclasses: the transfer would otherwise eat the gain.
    """
    import marshal

    encoded = []
    for index, item in items:
        outcome = read_input(item, limits)
        encoded.append(
            (
                index,
                [
                    (r.raw, r.origin.file, r.origin.document, r.origin.line, r.origin.item, r.origin.nested)
                    for r in outcome.resources
                ],
                [(e.source, e.message, e.line, e.object, e.kind) for e in outcome.errors],
                [(k.source, k.reason, k.line) for k in outcome.skipped],
            )
        )
    return marshal.dumps(encoded)


def _decode_share(blob: bytes) -> Iterator[tuple[int, SourceResult]]:
    import marshal

    from stockade.model.resource import Origin, Resource, resource_from_raw

    for index, resources, errors, skipped in marshal.loads(blob):  # noqa: S302 - our own worker's bytes
        result = SourceResult()
        for raw, file, document, line, item, nested in resources:
            resource = resource_from_raw(raw, Origin(file, document, line, item, nested))
            assert isinstance(resource, Resource)  # it was one in the worker
            result.resources.append(resource)
        result.errors.extend(
            InputProblem(source, message, line, obj, kind) for source, message, line, obj, kind in errors
        )
        result.skipped.extend(SkippedInput(source, reason, line) for source, reason, line in skipped)
        yield index, result


def discover(paths: Sequence[str], *, follow_links: bool = False) -> Iterator[Input | InputProblem | SkippedInput]:
    """The inputs under ``paths`` in a deterministic order, errors for paths that cannot be read and
    skipped entries (a named pipe inside a directory would block the scan; a link leading out of
    every path named is not followed unless ``follow_links``)."""
    roots = None if follow_links else tuple(_with_separator(os.path.realpath(p)) for p in paths if p != "-")
    for path in paths:
        if path == "-":
            yield Input("stdin", "-", STDIN)
            continue
        try:
            info = os.stat(path)
        except OSError as exc:
            yield _stat_error(path, path, exc)
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from _walk(path, roots)
        else:
            yield Input("file", path, path)


LINK_LEAVES_ROOTS = (
    "symbolic link leading outside the paths named, not followed unless allowed "
    "(--follow-links, or ParseLimits(follow_links=True))"
)


def _with_separator(path: str) -> str:
    return path if path.endswith(os.sep) else path + os.sep


def _leaves_roots(entry: os.DirEntry[str], roots: tuple[str, ...]) -> bool:
    """Whether ``entry`` is a link whose target lies outside every root (each ending in a separator).

    Entries that are not links need no check: the directories above them were checked already."""
    try:
        if not entry.is_symlink():
            return False
    except OSError:
        return False
    target = _with_separator(os.path.realpath(entry.path))
    return not target.startswith(roots)


def _walk(root: str, roots: tuple[str, ...] | None) -> Iterator[Input | InputProblem | SkippedInput]:
    """Depth-first, sorted, without recursion (directory trees can be deeper than Python's stack).

    ``roots`` are the real paths named (each ending in a separator); None follows every link."""
    # (path on disk, display path, (device, inode) of the directories above it)
    stack: list[tuple[str, str, frozenset[tuple[int, int]]]] = [(root, root, frozenset())]
    while stack:
        path, display, above = stack.pop()
        try:
            info = os.stat(path)
        except OSError as exc:
            yield _stat_error(path, display, exc)
            continue
        key = (info.st_dev, info.st_ino)
        if key in above:
            yield InputProblem(display, "symbolic link loop: this directory contains itself", kind="read")
            continue
        if is_kustomization(path):
            yield Input("kustomize", path, display)
            continue
        if is_chart(path):
            yield Input("helm", path, display)
            continue
        try:
            with os.scandir(path) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            yield InputProblem(display, f"cannot read directory: {_reason(exc)}", kind="read")
            continue
        below = above | {key}
        subdirectories: list[tuple[str, str, frozenset[tuple[int, int]]]] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            child = os.path.join(display, entry.name)
            directory = _is_directory(entry)
            if not directory and not entry.name.lower().endswith(MANIFEST_SUFFIXES):
                continue
            if roots is not None and _leaves_roots(entry, roots):
                yield SkippedInput(child, LINK_LEAVES_ROOTS)
            elif directory:
                subdirectories.append((entry.path, child, below))
            elif _is_special(entry):
                # Files before subdirectories, each group sorted by name.
                yield SkippedInput(child, "not a regular file (a pipe, socket or device)")
            else:
                yield Input("file", entry.path, child)
        stack.extend(reversed(subdirectories))


def _is_special(entry: os.DirEntry[str]) -> bool:
    """A pipe, socket or device: opening it could block or never end. (Broken links are not
    special: reading them says what is wrong.)"""
    try:
        if entry.is_file():  # from the directory listing itself: no extra system call
            return False
        mode = entry.stat().st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode)


def _is_directory(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False  # reading it as a file will say what is wrong


def read_input(
    found: Input,
    limits: ParseLimits = DEFAULT_LIMITS,
    *,
    stdin: BinaryIO | None = None,
    seen: dict[tuple[int, int], str] | None = None,
) -> SourceResult:
    """Read one input found by :func:`discover`."""
    if found.kind == "kustomize":
        return render_kustomization(found.path, limits)
    if found.kind == "helm":
        return render_chart(found.path, limits)
    result = SourceResult()
    if found.kind == "stdin":
        stream = stdin if stdin is not None else sys.stdin.buffer
        try:
            data = stream.read(limits.max_file_bytes + 1)
        except OSError as exc:
            result.errors.append(InputProblem(STDIN, f"cannot read: {_reason(exc)}", kind="read"))
            return result
    else:
        read = _read_file(found, limits, seen)
        if isinstance(read, InputProblem | SkippedInput):
            if isinstance(read, InputProblem):
                result.errors.append(read)
            else:
                result.skipped.append(read)
            return result
        data = read
    if len(data) > limits.max_file_bytes:
        result.errors.append(_too_big(found.display, len(data), limits, more=True))
        return result
    try:
        text = decode_bytes(data)
    except DecodeProblem as problem:
        result.errors.append(InputProblem(found.display, problem.message, problem.line, kind="parse"))
        return result
    json = _is_json(found, text)
    loaded: Loaded = load_json(text, found.display, limits) if json else load_yaml(text, found.display, limits)
    if found.kind == "stdin":
        if json and loaded.errors:  # '{' also starts YAML flow mappings: give YAML a chance
            json, loaded = False, load_yaml(text, found.display, limits)
        default_locator().register(STDIN, text, json=json)
    result.errors.extend(loaded.errors)
    add_documents(result, without_credentials(result, loaded.documents, found.display), found.display)
    if not loaded.documents and not loaded.errors:
        what = "empty input" if not text.strip() else "no YAML documents (only comments or blank lines)"
        result.skipped.append(SkippedInput(found.display, what))
    return result


def _read_file(
    found: Input, limits: ParseLimits, seen: dict[tuple[int, int], str] | None
) -> bytes | InputProblem | SkippedInput:
    try:
        handle, info = open_regular(found.path)
        with handle:
            if info.st_size > limits.max_file_bytes:
                return _too_big(found.display, info.st_size, limits)
            if seen is not None:
                key = (info.st_dev, info.st_ino)
                if key in seen:
                    return SkippedInput(found.display, f"same file as {seen[key]} (already read)")
                seen[key] = found.display
            return handle.read(limits.max_file_bytes + 1)
    except NotRegularFile as exc:
        hint = "only regular files are read; '-' reads standard input"
        return InputProblem(found.display, f"{exc} ({hint})", kind="read")
    except FileNotFoundError:
        if os.path.lexists(found.path):
            return InputProblem(found.display, "broken symbolic link", kind="read")
        return InputProblem(found.display, "file vanished before it could be read", kind="read")
    except OSError as exc:
        return InputProblem(found.display, f"cannot read: {_reason(exc)}", kind="read")


def _is_json(found: Input, text: str) -> bool:
    if found.kind == "stdin":
        return text.lstrip()[:1] in ("{", "[")
    return found.path.lower().endswith(".json")


def _too_big(display: str, size: int, limits: ParseLimits, *, more: bool = False) -> InputProblem:
    amount = f"more than {limits.max_file_bytes}" if more else str(size)
    return InputProblem(display, f"input is {amount} bytes, over the {limits.max_file_bytes}-byte limit", kind="limit")


def _stat_error(path: str, display: str, exc: OSError) -> InputProblem:
    if exc.errno == errno.ENOENT:
        broken = os.path.islink(path)
        return InputProblem(display, "broken symbolic link" if broken else "no such file or directory", kind="read")
    return InputProblem(display, f"cannot read: {_reason(exc)}", kind="read")


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)


@dataclass(frozen=True, slots=True)
class FileSource:
    """Files and directories (YAML, JSON, kustomize and helm directories); ``-`` is standard input.

    ``stdin`` replaces the process's standard input for ``-`` (a test or a caller's own stream).
    """

    paths: Sequence[str]
    stdin: BinaryIO | None = None
    limits: ParseLimits = DEFAULT_LIMITS

    def collect(self, progress: ProgressCallback | None = None) -> SourceResult:
        if progress is not None:
            progress("reading manifests", 0, 0)
        stdin = self.stdin
        if stdin is None and "-" in self.paths:
            stdin = sys.stdin.buffer
        return collect_paths(list(self.paths), limits=self.limits, stdin=stdin)
