"""A container's image as the IM rules read it: the raw value, the parsed reference, where it sits."""

from __future__ import annotations

from stockade.model.podspec import ContainerRef
from stockade.rules.base import MalformedField, format_path
from stockade.rules.im._imageref import ImageRef, parse_image


def container_image(container: ContainerRef) -> tuple[str, ImageRef | None]:
    """The ``image`` value as written, and its parsed reference (None when it cannot be parsed).

    A container without an image (missing, empty, not a string) is one the API server rejects:
    :class:`MalformedField`, so no image rule passes it.
    """
    raw = container.spec.get("image")
    if not isinstance(raw, str) or not raw.strip():
        where = format_path(image_path(container))
        shown = "missing" if raw is None else f"{raw!r}"
        raise MalformedField(f"{where} must name an image, not {shown} (the API server requires it)")
    return raw, parse_image(raw)


def image_path(container: ContainerRef) -> tuple[str | int, ...]:
    return (*container.path, "image")
