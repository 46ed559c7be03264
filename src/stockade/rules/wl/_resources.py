"""Shared by WL-014/015: a container without a resource limit."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.podspec import ContainerRef
from stockade.rules._pod import mapping
from stockade.rules.base import Violation


def missing_limit(container: ContainerRef, resource: str) -> Iterator[Violation]:
    """A violation when ``resources.limits.<resource>`` is unset, empty or zero."""
    limits = mapping(mapping(container.spec.get("resources")).get("limits"))
    if limits.get(resource) in (None, "", 0, "0"):
        yield Violation(
            f'container "{container.name}" sets no {resource} limit',
            (*container.path, "resources"),
        )
