"""Pieces of the kubectl commands that findings suggest, shared by rule families."""

from __future__ import annotations

import shlex

from stockade.model.resource import Resource


def namespace_flag(resource: Resource) -> str:
    """`` -n NAMESPACE`` when the object names its namespace, else nothing (kubectl's context decides)."""
    return f" -n {shlex.quote(resource.namespace)}" if resource.namespace else ""
