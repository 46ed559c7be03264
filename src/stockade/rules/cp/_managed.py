"""Judges over a ``ManagedCluster`` spec (`stockade.sources.cloud`), shared by CP, AU and OB rules.

Each returns True (fine), None (the provider's description does not carry the fact) or what is
wrong with the field to point at.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stockade.rules.base import Path

Verdict = tuple[str, Path] | bool | None
OPEN_NETWORKS = ("0.0.0.0/0", "::/0")


def _field(spec: Mapping[str, Any], *path: str) -> Any:
    node: Any = spec
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def flag(*path: str, bad: object, message: str) -> Any:
    """A judge failing when ``spec.<path>`` equals ``bad`` (unknown when the field is null)."""

    def judge(spec: Mapping[str, Any]) -> Verdict:
        value = _field(spec, *path)
        if value is None:
            return None
        return (message, ("spec", *path)) if value == bad else True

    return judge


def open_endpoint(spec: Mapping[str, Any]) -> Verdict:
    public = _field(spec, "endpoint", "public")
    if public is None:
        return None
    networks = _field(spec, "endpoint", "authorizedNetworks") or []
    if public and any(n in OPEN_NETWORKS for n in networks):
        return "the API server endpoint is public and open to every address", ("spec", "endpoint")
    return True


def control_plane_logs(spec: Mapping[str, Any]) -> Verdict:
    logs = spec.get("controlPlaneLogging")
    if not isinstance(logs, Mapping):
        return None
    wanted = {"eks": ("api", "audit", "authenticator"), "gke": ("apiserver",)}.get(str(spec.get("provider")), ())
    missing = [name for name in wanted if not logs.get(name)]
    if missing:
        return f"control-plane logs not sent: {', '.join(missing)}", ("spec", "controlPlaneLogging")
    return True
