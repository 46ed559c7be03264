"""Parts of the manifests Stockade prints to run itself in a cluster (``stockade deploy manifests``
for the watcher, ``stockade admission manifests`` for the webhook): labels, metadata, a locked-down
container, a Deployment that carries its own waivers, YAML. The two are sibling layers, so the one
implementation lives here (stdlib and PyYAML only; the version is passed in)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

Manifest = dict[str, Any]


def labels(component: str, managed_by: str, version: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "stockade",
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/version": version,
        "app.kubernetes.io/managed-by": managed_by,
    }


def selector(component: str) -> dict[str, str]:
    """What a Deployment selects its pods by: the labels that never change between versions."""
    return {"app.kubernetes.io/name": "stockade", "app.kubernetes.io/component": component}


def meta(name: str, namespace: str | None, own_labels: Mapping[str, str], **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"name": name}
    if namespace is not None:
        found["namespace"] = namespace
    found["labels"] = dict(own_labels)
    found.update(extra)
    return found


def locked_down_container(run_as: int) -> dict[str, Any]:
    """A container securityContext that passes Pod Security ``restricted`` and Stockade's own rules."""
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": run_as,
        "runAsGroup": run_as,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
        "appArmorProfile": {"type": "RuntimeDefault"},
    }


def waived_deployment(
    name: str,
    namespace: str,
    own_labels: Mapping[str, str],
    component: str,
    *,
    replicas: int,
    max_unavailable: int,
    waived: Mapping[str, str],
    pod_spec: Mapping[str, Any],
) -> Manifest:
    """A Deployment whose own findings that cannot be fixed are waived on it, each with its reason
    (``waived``: rule -> why), as a reader of the manifest can check."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(
            name,
            namespace,
            own_labels,
            annotations={
                "stockade.io/ignore": ",".join(sorted(waived)),
                "stockade.io/ignore-reason": "; ".join(f"{rule}: {why}" for rule, why in sorted(waived.items())),
            },
        ),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector(component)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": max_unavailable, "maxSurge": 1}},
            "template": {"metadata": {"labels": dict(own_labels)}, "spec": dict(pod_spec)},
        },
    }


def dump_yaml(objects: Iterable[Manifest]) -> str:
    return "---\n".join(yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, width=120) for obj in objects)
