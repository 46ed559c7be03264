"""Kustomize directories, rendered with ``kubectl kustomize``.

The user's directory is rendered through a wrapper kustomization in a temporary directory that
turns on kustomize's ``originAnnotations``: every object then says which file it came from, so
findings point at ``app/deployment.yaml`` line 12 instead of at the directory. The annotation is
removed again before rules see the object. Objects kustomize generates (ConfigMap generators) or
loads from remote bases keep the directory as their origin.

Remote resources and bases (URLs, git repositories) are fetched only when the caller allows it
(``ParseLimits.allow_remote_kustomize``, ``--allow-remote-kustomize``): otherwise a kustomization
naming one is an input problem that says how to allow it. Rendering, wrapper and fallback
together, takes at most ``timeout`` seconds.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from stockade.model.finding import InputProblem
from stockade.model.resource import Origin, Resource
from stockade.sources.base import SourceResult
from stockade.sources.documents import split_documents
from stockade.sources.limits import ParseLimits
from stockade.sources.render import RENDER_TIMEOUT, render

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
ORIGIN_ANNOTATION = "config.kubernetes.io/origin"


def is_kustomization(directory: str) -> bool:
    """Whether ``directory`` holds a kustomization file (then it is rendered, not read file by file)."""
    return any(os.path.isfile(os.path.join(directory, name)) for name in KUSTOMIZATION_FILES)


def render_kustomization(directory: str, limits: ParseLimits, *, timeout: float = RENDER_TIMEOUT) -> SourceResult:
    """The objects ``kubectl kustomize <directory>`` produces, each with the file it came from when
    kustomize can tell (else origin ``"<directory> (kustomize)"``)."""
    missing = (
        f"kubectl is not installed; cannot render kustomization {directory}: install kubectl or scan rendered manifests"
    )
    if not limits.allow_remote_kustomize:
        remote = find_remote_reference(directory)
        if remote is not None:
            result = SourceResult()
            message = (
                f"kustomization {remote[0]} loads the remote resource {remote[1]!r}; remote resources are not "
                "fetched unless allowed (--allow-remote-kustomize, or ParseLimits(allow_remote_kustomize=True))"
            )
            result.errors.append(InputProblem(directory, message, kind="render"))
            return result
    ends = time.monotonic() + timeout

    def kustomize(target: str) -> SourceResult:
        return render(
            "kubectl",
            ["kustomize", target],
            directory=directory,
            label="kustomize",
            missing=missing,
            limits=limits,
            timeout=max(0.001, ends - time.monotonic()),
        )

    def timed_out() -> SourceResult:
        # The message names the whole time limit, which is what the user waited.
        return SourceResult(
            errors=[InputProblem(directory, f"kubectl kustomize did not finish within {timeout:g}s", kind="render")]
        )

    with tempfile.TemporaryDirectory(prefix="stockade-kustomize-") as wrapper:
        try:
            target = os.path.relpath(os.path.abspath(directory), wrapper)
        except ValueError:  # another drive: no relative path, render without origins
            target = None
        if target is not None:
            with open(os.path.join(wrapper, "kustomization.yaml"), "w", encoding="utf-8") as handle:
                handle.write(f"resources:\n- {_yaml_string(target)}\nbuildMetadata: [originAnnotations]\n")
            result = kustomize(wrapper)
            if not result.errors:
                _trace_origins(result, directory, wrapper)
                return result
            if any("did not finish within" in e.message for e in result.errors):
                return timed_out()  # rendering again would only wait as long once more
    # The wrapper failed (or could not be made): render the directory itself, so any error is
    # reported exactly as kustomize gives it for the user's own kustomization.
    result = kustomize(directory)
    if any("did not finish within" in e.message for e in result.errors):
        return timed_out()
    return result


# Where a kustomization names other files or kustomizations (local paths or remote ones).
_REFERENCE_FIELDS = ("resources", "bases", "components")


def find_remote_reference(directory: str, *, _seen: set[str] | None = None) -> tuple[str, str] | None:
    """(kustomization directory, reference) of the first remote resource in ``directory``'s
    kustomization or in the local kustomizations it includes; None when everything is local."""
    import yaml_rs

    seen = _seen if _seen is not None else set()
    real = os.path.realpath(directory)
    if real in seen:
        return None
    seen.add(real)
    name = next((n for n in KUSTOMIZATION_FILES if os.path.isfile(os.path.join(directory, n))), None)
    if name is None:
        return None
    try:
        with open(os.path.join(directory, name), encoding="utf-8") as handle:
            loaded = yaml_rs.loads(handle.read(1024 * 1024), parse_datetime=False)
    except (OSError, UnicodeDecodeError, yaml_rs.YAMLDecodeError, ValueError, RecursionError):
        return None  # kustomize reports a broken kustomization itself
    if not isinstance(loaded, dict):
        return None
    for field in _REFERENCE_FIELDS:
        entries = loaded.get(field)
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, str):
                continue
            local = os.path.join(directory, entry)
            if os.path.isdir(local):
                found = find_remote_reference(local, _seen=seen)
                if found is not None:
                    return found
            elif not os.path.exists(local) and is_remote_reference(entry):
                return directory, entry
    return None


def is_remote_reference(entry: str) -> bool:
    """Whether kustomize would fetch ``entry`` (a URL, ``git@host:repo``, ``host.tld/owner/repo``)."""
    text = entry.strip()
    if "://" in text or text.startswith(("git@", "git::")):
        return True
    first = text.split("/", 1)[0]
    return "." in first.strip(".") and "/" in text and not text.startswith(("./", "../", "/"))


def _yaml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _trace_origins(result: SourceResult, directory: str, wrapper: str) -> None:
    root = os.path.abspath(directory)  # relative display paths are worked out from here
    documents: dict[str, list[tuple[int, int, Mapping[str, Any]]]] = {}
    for position, resource in enumerate(result.resources):
        raw = resource.raw
        origin_path = _pop_origin(raw)
        if origin_path is None:
            continue
        source = os.path.normpath(os.path.join(wrapper, origin_path))
        if not os.path.isfile(source):
            continue
        # Shown relative to the directory as the user named it (a base may sit beside it: ../base).
        display = os.path.normpath(os.path.join(directory, os.path.relpath(source, root)))
        # (-1, 0) when the file is known but not which of its documents: no line is made up.
        document, line = _find_document(documents, source, resource) or (-1, 0)
        result.resources[position] = replace(resource, origin=Origin(display, document, line))


def _pop_origin(raw: Mapping[str, Any]) -> str | None:
    """Remove the origin annotation kustomize added; return the file path it names, if any."""
    import yaml_rs

    metadata = raw.get("metadata")
    if not isinstance(metadata, dict):
        return None
    annotations = metadata.get("annotations")
    if not isinstance(annotations, dict) or ORIGIN_ANNOTATION not in annotations:
        return None
    text = annotations.pop(ORIGIN_ANNOTATION)
    if not annotations:
        del metadata["annotations"]  # kustomize created the mapping for its annotation alone
    try:
        origin = yaml_rs.loads(text, parse_datetime=False) if isinstance(text, str) else None
    except (yaml_rs.YAMLDecodeError, ValueError):
        return None
    if not isinstance(origin, dict) or "repo" in origin or not isinstance(origin.get("path"), str):
        return None  # generated objects say configuredIn/configuredBy; remote bases name a repo
    path: str = origin["path"]
    return path


def _find_document(
    cache: dict[str, list[tuple[int, int, Mapping[str, Any]]]], file: str, resource: Resource
) -> tuple[int, int] | None:
    """(document index, start line) of the document in ``file`` that holds ``resource``."""
    import yaml_rs

    if file not in cache:
        entries: list[tuple[int, int, Mapping[str, Any]]] = []
        try:
            with open(file, encoding="utf-8") as handle:
                text = handle.read()
            for index, segment in enumerate(split_documents(text)):
                if segment.empty:
                    continue
                value = yaml_rs.loads(text[segment.start : segment.end], parse_datetime=False)
                if isinstance(value, dict):
                    entries.append((index, segment.line, value))
        except (OSError, UnicodeDecodeError, yaml_rs.YAMLDecodeError, ValueError):
            entries = []
        cache[file] = entries
    candidates = [(i, line, doc) for i, line, doc in cache[file] if doc.get("kind") == resource.kind]
    for index, line, doc in candidates:
        metadata = doc.get("metadata")
        if isinstance(metadata, dict) and metadata.get("name") == resource.name:
            return index, line
    if len(candidates) == 1:  # renamed by a prefix, suffix or patch: still the only one of its kind
        return candidates[0][0], candidates[0][1]
    return None
