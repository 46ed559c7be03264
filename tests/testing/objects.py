"""Raw Kubernetes objects for tests of the fake API server and the cluster source."""

from __future__ import annotations

import base64
import json
from typing import Any


def obj(api_version: str, kind: str, name: str, namespace: str | None = None, **fields: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **fields}


def pod(name: str, namespace: str = "default", **labels: str) -> dict[str, Any]:
    made = obj("v1", "Pod", name, namespace, spec={"containers": [{"name": "app", "image": "nginx:1.27"}]})
    if labels:
        made["metadata"]["labels"] = dict(labels)
    return made


def deployment(name: str, namespace: str = "default") -> dict[str, Any]:
    template = {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}}
    return obj(
        "apps/v1",
        "Deployment",
        name,
        namespace,
        spec={"selector": {"matchLabels": {"app": name}}, "template": template},
    )


def secret(
    name: str, namespace: str, values: dict[str, str], string_values: dict[str, str] | None = None
) -> dict[str, Any]:
    """A Secret holding ``values`` (base64-encoded in data) with a last-applied annotation repeating them."""
    data = {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}
    made = obj("v1", "Secret", name, namespace, type="Opaque", data=data)
    if string_values:
        made["stringData"] = dict(string_values)
    made["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(
            {"apiVersion": "v1", "kind": "Secret", "data": data, "stringData": string_values or {}}
        ),
        "team": "payments",
    }
    return made


def crd(
    group: str, kind: str, plural: str, scope: str = "Namespaced", versions: tuple[str, ...] = ("v1",)
) -> dict[str, Any]:
    return obj(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        f"{plural}.{group}",
        spec={
            "group": group,
            "scope": scope,
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "shortNames": [plural[:3]]},
            "versions": [{"name": v, "served": True, "storage": i == 0} for i, v in enumerate(versions)],
        },
    )
