"""Value types of the Pod Security Standards evaluator: levels, policy versions, results."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

Level = Literal["privileged", "baseline", "restricted"]
LEVELS: Final[tuple[Level, ...]] = ("privileged", "baseline", "restricted")

# The newest policy version any check is registered at. A namespace pinned to a newer minor is
# evaluated at this one, exactly as the admission plugin clamps it; "latest" means this version.
MAX_MINOR: Final = 37

_VERSION_RE: Final = re.compile(r"v?1\.(0|[1-9][0-9]{0,5})")


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """A Pod Security Standards policy version: ``v1.<minor>`` or ``latest``."""

    minor: int
    latest: bool = False

    @property
    def effective_minor(self) -> int:
        """The minor the checks run at: newer minors than any registered check fold down."""
        return MAX_MINOR if self.latest else min(self.minor, MAX_MINOR)

    def __str__(self) -> str:
        return "latest" if self.latest else f"v1.{self.minor}"


LATEST: Final = PolicyVersion(MAX_MINOR, latest=True)


def parse_version(text: str) -> PolicyVersion:
    """Parse ``"v1.30"``, ``"1.30"`` or ``"latest"``; anything else raises :class:`ValueError`.

    Minors above the newest known one are accepted (a namespace label may name a future release)
    and evaluated at the newest known policy, as the admission plugin does.
    """
    if not isinstance(text, str):
        raise ValueError(
            f"Pod Security Standards version must be a string such as 'v1.30' or 'latest', not {type(text).__name__}"
        )
    candidate = text.strip()
    if candidate == "latest":
        return LATEST
    match = _VERSION_RE.fullmatch(candidate)
    if match is None:
        raise ValueError(
            f"invalid Pod Security Standards version {text!r}: expected 'latest', 'v1.N' or '1.N' "
            f"(for example 'v1.30'; policy versions run from v1.0 to v1.{MAX_MINOR})"
        )
    return PolicyVersion(int(match.group(1)))


@dataclass(frozen=True, slots=True)
class CheckViolation:
    """One check that denies the pod.

    ``check`` is the upstream check id (``"capabilities_restricted"``); ``message`` reads like the
    admission plugin's ``reason (detail)``; ``fields`` are dotted paths from the pod root
    (``spec.containers[0].securityContext.privileged``); ``remediation`` is a strategic-merge patch
    for the pod, as compact JSON, that clears this check — empty when the pod is too malformed for a
    patch to say it (for instance a container that is not an object).
    """

    check: str
    message: str
    containers: tuple[str, ...]
    fields: tuple[str, ...]
    remediation: str


@dataclass(frozen=True, slots=True)
class PssResult:
    """The verdict for one pod at one level and version."""

    allowed: bool
    violations: tuple[CheckViolation, ...]


@dataclass(frozen=True, slots=True)
class CheckInfo:
    """What one check enforces at a given level and version, for rule docs and reports."""

    id: str
    level: Level
    title: str
    description: str
