"""Helpers shared by pod and container rules of every family: lenient reads and fix-it patches."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

import orjson

from stockade.model.podspec import ContainerRef, PodTemplate
from stockade.rules._kubectl import namespace_flag


def mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _nest(path: tuple[str, ...], leaf: Mapping[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = dict(leaf)
    for key in reversed(path):
        node = {key: node}
    return node


def _kubectl_target(pod: PodTemplate) -> str:
    carrier = pod.carrier
    return f"{shlex.quote(carrier.kind.lower())} {shlex.quote(carrier.name)}{namespace_flag(carrier)}"


def container_patch(container: ContainerRef, fields: Mapping[str, Any]) -> str:
    """A ``kubectl patch`` (strategic merge, containers merge by name) that sets ``fields`` on the container."""
    leaf = {"spec": {container.list_name: [{"name": container.name, **fields}]}}
    patch = _nest(tuple(str(p) for p in container.pod.path), leaf)
    return f"kubectl patch {_kubectl_target(container.pod)} --type=strategic -p {shlex.quote(orjson.dumps(patch).decode())}"


def pod_patch(pod: PodTemplate, fields: Mapping[str, Any]) -> str:
    """A ``kubectl patch`` that sets ``fields`` on the pod spec."""
    patch = _nest(tuple(str(p) for p in pod.path), {"spec": dict(fields)})
    return f"kubectl patch {_kubectl_target(pod)} --type=strategic -p {shlex.quote(orjson.dumps(patch).decode())}"
