"""Kustomize directories, rendered with ``kubectl kustomize``.

The user's directory is rendered through a wrapper kustomization in a temporary directory that
turns on kustomize's ``originAnnotations``: every object then says which file it came from, so
findings point at ``app/deployment.yaml`` line 12 instead of at the directory. The annotation is
removed again before rules see the object. Objects kustomize generates (ConfigMap generators) or
loads from remote bases keep the directory as their origin.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

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

    def kustomize(target: str) -> SourceResult:
        return render(
            "kubectl",
            ["kustomize", target],
            directory=directory,
            label="kustomize",
            missing=missing,
            limits=limits,
            timeout=timeout,
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
    # The wrapper failed (or could not be made): render the directory itself, so any error is
    # reported exactly as kustomize gives it for the user's own kustomization.
    return kustomize(directory)


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
