"""Shared by WL-014/015/016: a container's resource requests and limits, read strictly."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from stockade.model.podspec import ContainerRef
from stockade.model.quantity import QuantityError, parse_quantity
from stockade.rules._pod import mapping
from stockade.rules.base import MalformedField, Violation, format_path


def resource_amount(container: ContainerRef, section: str, resource: str) -> Decimal | None:
    """``resources.<section>.<resource>`` (section: requests or limits), None when unset.

    A value the API server rejects (``1e1000``, ``-1Zi``, ``true``) is :class:`MalformedField`:
    it is no limit, and no rule may pass the container on it.
    """
    value = mapping(mapping(container.spec.get("resources")).get(section)).get(resource)
    if value is None:
        return None
    try:
        return parse_quantity(value)
    except QuantityError as error:
        where = format_path((*container.path, "resources", section, resource))
        raise MalformedField(f"{where}: {error}") from None


def missing_limit(container: ContainerRef, resource: str) -> Iterator[Violation]:
    """A violation when ``resources.limits.<resource>`` is unset or zero."""
    if not resource_amount(container, "limits", resource):
        yield Violation(
            f'container "{container.name}" sets no {resource} limit',
            (*container.path, "resources"),
        )
