"""A container's image as the IM rules read it: the raw value, the parsed reference, where it sits."""

from __future__ import annotations

from stockade.model.podspec import ContainerRef
from stockade.rules.im._imageref import ImageRef, parse_image


def container_image(container: ContainerRef) -> tuple[object, ImageRef | None]:
    """The ``image`` value as written, and its parsed reference (None when it cannot be parsed)."""
    raw = container.spec.get("image")
    return raw, parse_image(raw)


def image_path(container: ContainerRef) -> tuple[str | int, ...]:
    return (*container.path, "image")
