"""Container image references, read the way the container runtime reads them.

``[registry[:port]/]path[:tag][@digest]``: the first component is a registry host only when it
contains a dot or a colon, or is ``localhost`` (or has an upper-case letter, which a path cannot);
otherwise the image comes from Docker Hub, where a one-component path lives under ``library/``.
A tag follows the last ``:`` after the last ``/`` (so a registry port is never taken for a tag).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_REGISTRY = "docker.io"
# Other spellings of Docker Hub that pull the same images.
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})

# Possessive runs: a separator and the letters around it can be split only one way, so nothing
# is retried (the plain form backtracked over long "xoxa-xoxa-…" names).
_COMPONENT = re.compile(r"[a-z0-9]++(?:(?:\.|__?|-++)[a-z0-9]++)*+")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
# The digest algorithms the runtime verifies, and the length of their lower-case hex encoding:
# anything else (``md5:…``, upper-case hex, a truncated sha256) is refused when pulled.
DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_HEX = re.compile(r"[0-9a-f]+")
_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?"
)


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A parsed image reference. ``registry`` is lower-case, with Docker Hub's aliases folded to docker.io."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """``registry/repository``, e.g. ``docker.io/library/nginx``."""
        return f"{self.registry}/{self.repository}"

    @property
    def pinned(self) -> bool:
        return self.digest is not None

    @property
    def mutable_latest(self) -> bool:
        """True when the runtime resolves the reference through the ``latest`` tag."""
        return self.digest is None and (self.tag is None or self.tag == "latest")

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag is not None else ""
        digest = f"@{self.digest}" if self.digest is not None else ""
        return f"{self.name}{tag}{digest}"


def normalize_registry(host: str) -> str:
    host = host.lower()
    return DEFAULT_REGISTRY if host in _DOCKER_HUB_ALIASES else host


def parse_image(text: object) -> ImageRef | None:
    """Parse an image reference; None when it is not one (empty, templated, malformed)."""
    if not isinstance(text, str) or not text or len(text) > 4096 or text != text.strip():
        return None
    return _parse(text)


def valid_digest(digest: str) -> bool:
    """``algorithm:hex`` with an algorithm the runtime verifies and hex of exactly its length."""
    algorithm, colon, encoded = digest.partition(":")
    length = DIGEST_HEX_LENGTHS.get(algorithm)
    return bool(colon) and length is not None and len(encoded) == length and _HEX.fullmatch(encoded) is not None


@lru_cache(maxsize=8192)  # a cluster runs few distinct images in many containers
def _parse(text: str) -> ImageRef | None:
    name, at, digest = text.partition("@")
    if at and not valid_digest(digest):
        return None
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag: str | None = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.fullmatch(tag):
            return None
    first, sep, rest = name.partition("/")
    if sep and (any(c in first for c in ".:") or first == "localhost" or first != first.lower()):
        if not _HOST.fullmatch(first):
            return None
        registry, path = normalize_registry(first), rest
    else:
        registry, path = DEFAULT_REGISTRY, name
    if not path or not all(_COMPONENT.fullmatch(part) for part in path.split("/")):
        return None
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = f"library/{path}"
    return ImageRef(registry, path, tag, digest if at else None)


class AllowListEntryError(ValueError):
    """An allow-list entry that names an image (it has a tag or digest) but is not a valid reference."""


@dataclass(frozen=True, slots=True)
class RegistryPattern:
    """One allow-list entry: a host (``*.`` allowed as its first label) and an optional path prefix,
    or one image: a repository with a tag and/or digest, matched exactly."""

    host: str
    path: str = ""
    tag: str | None = None
    digest: str | None = None

    @property
    def is_image(self) -> bool:
        return self.tag is not None or self.digest is not None

    def matches(self, image: ImageRef) -> bool:
        if self.host.startswith("*."):
            if not image.registry.endswith(self.host[1:]):
                return False
        elif image.registry != self.host:
            return False
        if self.is_image:
            # A digest is what the runtime pulls, tag or not: a tag entry does not vouch for one.
            return (
                image.repository == self.path
                and (self.tag is None or image.tag == self.tag)
                and image.digest == self.digest
            )
        return not self.path or image.repository == self.path or image.repository.startswith(self.path + "/")

    def __str__(self) -> str:
        if self.is_image:
            return str(ImageRef(self.host, self.path, self.tag, self.digest))
        return f"{self.host}/{self.path}/" if self.path else self.host


def parse_registry_pattern(entry: str) -> RegistryPattern | None:
    """``registry.example.com``, ``ghcr.io/acme/``, ``*.dkr.ecr.eu-west-1.amazonaws.com``, or one image
    with a tag or digest (``registry.example.com/app:1.2``, ``nginx:1.27``) read as the runtime reads
    an image reference; None if empty.

    Raises `AllowListEntryError` for an image entry that is not a valid reference, so a typo in a
    pinned entry is reported instead of allowing nothing without a word.
    """
    text = entry.strip()
    for scheme in ("https://", "http://"):
        if text.lower().startswith(scheme):
            text = text[len(scheme) :]
    host, _, path = text.partition("/")
    if not host:
        return None
    if _names_an_image(host, path):
        return _image_pattern(entry, text, host)
    return RegistryPattern(normalize_registry(host), path.strip("/").lower())


def _names_an_image(host: str, path: str) -> bool:
    """A tag or digest after the last ``/`` (``localhost:5000`` alone is a host and its port)."""
    if path:
        last = path.rstrip("/").rpartition("/")[2]
        return ":" in last or "@" in last
    return "@" in host or (":" in host and not host.rpartition(":")[2].isdigit())


def _image_pattern(entry: str, text: str, host: str) -> RegistryPattern:
    wildcard = host.startswith("*.")
    # A wildcard host is no registry the parser accepts; a concrete first label stands in for it.
    image = parse_image("x" + text[1:] if wildcard else text)
    if image is None:
        raise AllowListEntryError(
            f"allowed-registry entry {entry.strip()!r} has a tag or digest but is not a valid image reference"
            " (write registry/repository:tag or registry/repository@sha256:<64 hex digits>)"
        )
    registry = normalize_registry(host) if wildcard else image.registry
    return RegistryPattern(registry, image.repository, image.tag, image.digest)
