"""Helpers shared by pod and container rules of every family: lenient reads and fix-it patches."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import orjson

from stockade.model.podspec import ContainerRef, PodTemplate
from stockade.rules._kubectl import is_builtin, kubectl_target


def mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _nest(path: tuple[str, ...], leaf: Mapping[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = dict(leaf)
    for key in reversed(path):
        node = {key: node}
    return node


def container_patch(container: ContainerRef, fields: Mapping[str, Any]) -> Callable[[], str]:
    """A ``kubectl patch`` that sets ``fields`` on the container (merged into what it has), written
    when a report asks for it."""
    return partial(_container_patch, container, fields)


def pod_patch(pod: PodTemplate, fields: Mapping[str, Any]) -> Callable[[], str]:
    """A ``kubectl patch`` that sets ``fields`` on the pod spec, written when a report asks for it."""
    return partial(_pod_patch, pod, fields)


def _container_patch(container: ContainerRef, fields: Mapping[str, Any]) -> str:
    pod = container.pod
    if not is_builtin(pod.carrier):
        guard = [{"op": "test", "path": _pointer((*container.path, "name")), "value": container.name}]
        return _json_patch(pod, [*guard, *_add_ops(container.spec, container.path, fields)])
    leaf = {"spec": {container.list_name: [{"name": container.name, **fields}]}}
    return _strategic_patch(pod, _nest(tuple(str(p) for p in pod.path), leaf))


def _pod_patch(pod: PodTemplate, fields: Mapping[str, Any]) -> str:
    if not is_builtin(pod.carrier):
        return _json_patch(pod, _add_ops(pod.spec, pod.spec_path, fields))
    return _strategic_patch(pod, _nest(tuple(str(p) for p in pod.path), {"spec": dict(fields)}))


def _strategic_patch(pod: PodTemplate, patch: Mapping[str, Any]) -> str:
    """Kubernetes' own kinds: a strategic merge (containers merge by name)."""
    return f"kubectl patch {kubectl_target(pod.carrier)} --type=strategic -p {_quoted(patch)}"


def _json_patch(pod: PodTemplate, operations: list[dict[str, Any]]) -> str:
    """Custom kinds take no strategic merge, and a merge patch would replace the container lists
    whole: a JSON patch at the container's index (tested against its name) changes only the fields."""
    return f"kubectl patch {kubectl_target(pod.carrier)} --type=json -p {_quoted(operations)}"


def _add_ops(
    current: Mapping[str, Any], path: tuple[str | int, ...], fields: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """``add`` operations setting ``fields`` under ``path``, descending into the objects that exist
    (an ``add`` needs its parent, and replacing a whole object would drop its other fields)."""
    operations: list[dict[str, Any]] = []
    for key, value in fields.items():
        here = (*path, key)
        existing = current.get(key)
        if isinstance(value, Mapping) and isinstance(existing, Mapping):
            operations.extend(_add_ops(existing, here, value))
        else:
            operations.append({"op": "add", "path": _pointer(here), "value": value})
    return operations


def _pointer(path: tuple[str | int, ...]) -> str:
    """A JSON pointer (RFC 6901): ``~`` and ``/`` in a key are escaped."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _quoted(value: object) -> str:
    try:
        text = orjson.dumps(value).decode()
    except TypeError:  # a name holding undecodable bytes: orjson refuses it, an escape says it
        text = json.dumps(value, separators=(",", ":"))
    return shlex.quote(text)
