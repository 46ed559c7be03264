"""Pieces of the kubectl commands that findings suggest, shared by rule families."""

from __future__ import annotations

import shlex

from stockade.model.kinds import BUILTIN_GROUPS
from stockade.model.resource import Resource


def namespace_flag(resource: Resource) -> str:
    """`` -n NAMESPACE`` when the object names its namespace, else nothing (kubectl's context decides)."""
    return f" -n {shlex.quote(resource.namespace)}" if resource.namespace else ""


def is_builtin(resource: Resource) -> bool:
    """Whether Kubernetes serves the object's kind itself (a CRD's group always has a dot)."""
    return resource.group in BUILTIN_GROUPS


def resource_type(resource: Resource) -> str:
    """The type a kubectl command names: ``deployment``, or ``services.serving.knative.dev`` for a
    custom kind, fully qualified so that Knative's Service is never taken for the core Service."""
    kind = resource.kind.lower()
    if is_builtin(resource):
        return kind
    return f"{_plural(kind)}.{resource.group}"


def kubectl_target(resource: Resource) -> str:
    """``TYPE NAME [-n NAMESPACE]``, shell-quoted, as ``kubectl patch`` and ``delete`` take it."""
    return f"{shlex.quote(resource_type(resource))} {shlex.quote(resource.name)}{namespace_flag(resource)}"


def _plural(kind: str) -> str:
    """The plural Kubernetes derives from a lower-case kind when a CRD does not say otherwise
    (apimachinery's ``UnsafeGuessKindToResource``): ``rollouts``, ``policies``, ``ingresses``."""
    if kind.endswith("s"):
        return f"{kind}es"
    if kind.endswith("y"):
        return f"{kind[:-1]}ies"
    return f"{kind}s"
