"""Value types of the Pod Security Standards evaluator: levels, policy versions, results."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, Protocol

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
class Malformed:
    """A field whose value has the wrong type: ``field`` (dotted, from the pod root) must be
    ``expected``; ``shown`` is a short rendering of the value, or empty when there is none to show."""

    field: str
    expected: str
    shown: str = ""

    @classmethod
    def of(cls, field: str, expected: str, value: object = None) -> Malformed:
        """The problem of ``value`` at ``field``, shown briefly (``None``: nothing to show)."""
        return cls(field, expected, "" if value is None else _describe(value))

    def __str__(self) -> str:
        return f"{self.field} must be {self.expected}" + (f", not {self.shown}" if self.shown else "")


def _describe(value: object) -> str:
    """A short rendering of a malformed value for messages (never the whole object)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class ViolationText(Protocol):
    """Where a violation's message and remediation come from: built on first use, then kept."""

    def message(self) -> str: ...

    def remediation(self) -> str: ...


@dataclass(frozen=True, slots=True)
class _Given:
    """Text that was given up front (a violation built by hand, unpickled or renamed)."""

    message_text: str
    remediation_text: str

    def message(self) -> str:
        return self.message_text

    def remediation(self) -> str:
        return self.remediation_text


@dataclass(frozen=True, slots=True, init=False, eq=False, repr=False)
class CheckViolation:
    """One check that denies the pod.

    ``check`` is the upstream check id (``"capabilities_restricted"``); ``message`` reads like the
    admission plugin's ``reason (detail)``; ``containers`` names the containers at fault;
    ``fields`` are dotted paths from the pod root (``spec.containers[0].securityContext.privileged``);
    ``malformed`` are the fields among them that hold a value of the wrong type (what denies the pod
    there is its shape, not its value); ``remediation`` is a strategic-merge patch for the pod, as
    compact JSON, that clears this check, or empty when the pod is too malformed for a patch to say
    it (a container that is not an object).

    ``message`` and ``remediation`` are built the first time they are read: an admission decision or
    a compliance count needs only the check ids, and a denied pod's text costs more than its verdict.
    Equality, hashing, ``repr`` and pickling use the rendered values, as for a plain record.
    """

    check: str
    containers: tuple[str, ...]
    fields: tuple[str, ...]
    malformed: tuple[Malformed, ...]
    _text: ViolationText

    def __init__(
        self,
        check: str,
        message: str,
        containers: tuple[str, ...],
        fields: tuple[str, ...],
        remediation: str,
        malformed: tuple[Malformed, ...] = (),
    ) -> None:
        _set_check(self, check)
        _set_containers(self, containers)
        _set_fields(self, fields)
        _set_malformed(self, malformed)
        _set_text(self, _Given(message, remediation))

    @classmethod
    def deferred(
        cls,
        check: str,
        containers: tuple[str, ...],
        fields: tuple[str, ...],
        text: ViolationText,
        malformed: tuple[Malformed, ...] = (),
    ) -> CheckViolation:
        """A violation whose message and remediation ``text`` renders on first use."""
        self = _new(cls)
        _set_check(self, check)
        _set_containers(self, containers)
        _set_fields(self, fields)
        _set_malformed(self, malformed)
        _set_text(self, text)
        return self

    @property
    def message(self) -> str:
        return self._text.message()

    @property
    def remediation(self) -> str:
        return self._text.remediation()

    def renamed(self, check: str) -> CheckViolation:
        """The same finding reported under another check id (a restricted check standing in)."""
        return CheckViolation.deferred(check, self.containers, self.fields, self._text, self.malformed)

    def _key(
        self,
    ) -> tuple[str, str, tuple[str, ...], tuple[str, ...], str, tuple[Malformed, ...]]:
        return (self.check, self.message, self.containers, self.fields, self.remediation, self.malformed)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CheckViolation):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"CheckViolation(check={self.check!r}, message={self.message!r}, containers={self.containers!r}, "
            f"fields={self.fields!r}, remediation={self.remediation!r}, malformed={self.malformed!r})"
        )

    def __reduce__(
        self,
    ) -> tuple[type[CheckViolation], tuple[str, str, tuple[str, ...], tuple[str, ...], str, tuple[Malformed, ...]]]:
        return (CheckViolation, self._key())


# The slots' own setters: a frozen dataclass refuses plain assignment, and object.__setattr__ per
# field is the slow part of building one on the hot path.
def _slot_setter(name: str) -> Callable[[CheckViolation, object], None]:
    setter: Callable[[CheckViolation, object], None] = vars(CheckViolation)[name].__set__
    return setter


_new = object.__new__
_set_check = _slot_setter("check")
_set_containers = _slot_setter("containers")
_set_fields = _slot_setter("fields")
_set_malformed = _slot_setter("malformed")
_set_text = _slot_setter("_text")


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
