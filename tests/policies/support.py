"""Small Gatekeeper policies built in tests: a template around some Rego, a constraint on Pods,
a Pod and the request for it."""

from __future__ import annotations

from typing import Any

from stockade.policies.model import GroupVersionKind, GroupVersionResource, PolicyRequest

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
    "spec": {"containers": [{"name": "web", "image": "registry.example.com/web:1.0.0"}]},
}


def template(
    rego: str, kind: str = "StockadeProbe", schema: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """A ConstraintTemplate of kind ``kind`` running ``rego`` (``extra``: more of its target)."""
    crd: dict[str, Any] = {"names": {"kind": kind}}
    if schema is not None:
        crd["validation"] = {"openAPIV3Schema": schema}
    target = {"target": "admission.k8s.gatekeeper.sh", "rego": rego, **extra}
    return {
        "apiVersion": "templates.gatekeeper.sh/v1",
        "kind": "ConstraintTemplate",
        "metadata": {"name": kind.lower()},
        "spec": {"crd": {"spec": crd}, "targets": [target]},
    }


def constraint(kind: str = "StockadeProbe", parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """A constraint of ``kind`` on Pods."""
    spec: dict[str, Any] = {"match": {"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}]}}
    if parameters is not None:
        spec["parameters"] = parameters
    return {
        "apiVersion": "constraints.gatekeeper.sh/v1beta1",
        "kind": kind,
        "metadata": {"name": f"{kind.lower()}-probe"},
        "spec": spec,
    }


def pod_request(obj: dict[str, Any]) -> PolicyRequest:
    """The CREATE of the Pod ``obj``."""
    return PolicyRequest(
        object=obj,
        kind=GroupVersionKind("", "v1", "Pod"),
        resource=GroupVersionResource("", "v1", "pods"),
        name=obj["metadata"]["name"],
        namespace=obj["metadata"]["namespace"],
    )
