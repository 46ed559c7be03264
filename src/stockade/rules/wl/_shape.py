"""Reading security settings the way the WL rules must: malformed shapes never pass.

A field of the wrong type (a ``securityContext`` written as a list, ``privileged: 1``) is a pod
the API server would reject. A rule that needs such a field cannot say whether the container
passes, so it raises :class:`MalformedField`, which the engine reports as an ``error`` finding
naming the field. YAML 1.1 boolean words (``yes``, ``off``…) are read as the booleans they spell,
as kubectl's YAML decoder reads them; any other non-boolean is malformed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stockade.model.podspec import ContainerRef, PodTemplate
from stockade.model.resource import EMPTY
from stockade.pss import Malformed
from stockade.rules._pss import field_path
from stockade.rules.base import MalformedField as MalformedField  # re-exported for the WL rules
from stockade.rules.base import format_path, is_false, is_true


def malformed_field(pod: PodTemplate, problem: Malformed) -> MalformedField:
    """The error for ``problem`` (a field dotted from the pod root), named from the carrier's root."""
    where = format_path((*pod.path, *field_path(problem.field)))
    return MalformedField(str(Malformed(where, problem.expected, problem.shown)))


def read_bool(value: object) -> bool | None:
    """``value`` as a boolean (YAML 1.1 words included), or None when it is not one."""
    if is_true(value):
        return True
    if is_false(value):
        return False
    return None


def container_context(container: ContainerRef) -> Mapping[str, Any]:
    """The container's own securityContext (empty when unset); raises when it is not an object."""
    view = container.view
    if view.security_context_malformed:
        field, expected = view.security_context_problem()
        raise malformed_field(container.pod, Malformed.of(field, expected, view.spec.get("securityContext")))
    return view.security_context or EMPTY


def pod_context(pod: PodTemplate) -> Mapping[str, Any]:
    """The pod's securityContext (empty when unset); raises when it is not an object."""
    view = pod.view
    if view.security_context_malformed:
        raise malformed_field(pod, Malformed.of("spec.securityContext", "an object", pod.spec.get("securityContext")))
    return view.security_context


def effective(container: ContainerRef, key: str) -> tuple[Any, str]:
    """A securityContext field as the kubelet sees it: the container's value wins over the pod's.

    Returns the value and where it came from ("container", "pod" or "unset"). The pod's context is
    read (and must be well-formed) only when the container leaves ``key`` unset.
    """
    value = container_context(container).get(key)
    if value is not None:
        return value, "container"
    value = pod_context(container.pod).get(key)
    if value is not None:
        return value, "pod"
    return None, "unset"


def effective_field(container: ContainerRef, source: str, key: str) -> str:
    """The dotted field (from the pod root) that ``effective`` read ``key`` from."""
    if source == "container":
        return f"{container.view.field}.securityContext.{key}"
    return f"spec.securityContext.{key}"
