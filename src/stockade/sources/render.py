"""Running an external renderer (kubectl kustomize, helm template) and reading what it prints."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable, Sequence

from stockade.model.finding import InputProblem
from stockade.sources.base import SourceResult
from stockade.sources.credentials import without_credentials
from stockade.sources.decode import DecodeProblem, decode_bytes
from stockade.sources.limits import ParseLimits
from stockade.sources.objects import add_documents
from stockade.sources.yamlload import load_yaml

# Rendering a large kustomization tree takes seconds; a minute means something is stuck.
RENDER_TIMEOUT = 60.0
_MAX_STDERR = 400
_KLOG_ERR = re.compile(r'err="((?:[^"\\]|\\.)*)"')
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def render(
    tool: str,
    arguments: Sequence[str],
    *,
    directory: str,
    label: str,
    missing: str,
    limits: ParseLimits,
    timeout: float = RENDER_TIMEOUT,
    trace: Callable[[SourceResult, str], None] | None = None,
) -> SourceResult:
    """Run ``tool arguments`` and read its standard output as a YAML stream.

    ``trace`` is handed the result and the rendered text, to lead objects back to their sources.

    Objects get the origin file ``"<directory> (<label>)"``. A missing tool, a failure, a
    timeout or oversized output gives one ``render`` error for ``directory``.
    """
    result = SourceResult()
    executable = shutil.which(tool)
    if executable is None:
        result.errors.append(InputProblem(directory, missing, kind="render"))
        return result
    argv = [executable, *arguments]
    try:
        proc = _run(argv, timeout)
    except subprocess.TimeoutExpired:
        result.errors.append(
            InputProblem(directory, f"{tool} {arguments[0]} did not finish within {timeout:g}s", kind="render")
        )
        return result
    except OSError as exc:
        result.errors.append(InputProblem(directory, f"cannot run {tool}: {exc.strerror}", kind="render"))
        return result
    if proc.returncode != 0:
        detail = brief_stderr(proc.stderr) or f"exit status {proc.returncode}"
        result.errors.append(InputProblem(directory, f"{tool} {arguments[0]} failed: {detail}", kind="render"))
        return result
    source = f"{directory} ({label})"
    if len(proc.stdout) > limits.max_file_bytes:
        result.errors.append(
            InputProblem(
                source,
                f"rendered output is {len(proc.stdout)} bytes, over the {limits.max_file_bytes}-byte limit",
                kind="limit",
            )
        )
        return result
    try:
        text = decode_bytes(proc.stdout)
    except DecodeProblem as problem:
        result.errors.append(InputProblem(source, problem.message, kind="render"))
        return result
    loaded = load_yaml(text, source, limits)
    result.errors.extend(_without_lines(loaded.errors))
    add_documents(result, without_credentials(result, loaded.documents, source), source, rendered=True)
    if trace is not None:
        trace(result, text)
    return result


def _run(argv: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run ``argv`` in its own process group: on a timeout the whole group is killed, so a helper
    it started (git fetching a remote base) cannot hold the pipes open past the time limit."""
    # No shell; the arguments are a directory path the user asked to scan.
    with subprocess.Popen(  # noqa: S603
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    ) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                process.kill()
            process.communicate()
            raise
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


def brief_stderr(data: bytes) -> str:
    """The gist of a renderer's error output: one short printable line."""
    text = data.decode("utf-8", "replace")
    # klog prints a multi-line error as 'err=<' NEWLINE TAB lines NEWLINE ' >': keep those lines.
    block = text.rfind("err=<")
    if block >= 0:
        body = text[block + len("err=<") :]
        end = body.find("\n >")
        joined = " ".join(line.strip() for line in (body if end < 0 else body[:end]).splitlines() if line.strip())
        if joined:
            return _tidy(joined)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    # kubectl logs through klog: 'E1123 … "command failed" err="<the actual error>"'.
    found = _KLOG_ERR.search(lines[-1])
    gist = found[1].replace('\\"', '"') if found else lines[-1]
    return _tidy(gist)


def _tidy(gist: str) -> str:
    if gist.lower().startswith("error: "):
        gist = gist[len("error: ") :]
    gist = _UNPRINTABLE.sub("?", gist)
    return gist if len(gist) <= _MAX_STDERR else gist[: _MAX_STDERR - 1] + "…"


def _without_lines(errors: list[InputProblem]) -> list[InputProblem]:
    # Line numbers in rendered output point at nothing a user can open.
    return [InputProblem(e.source, e.message, None, e.object, e.kind) for e in errors]
