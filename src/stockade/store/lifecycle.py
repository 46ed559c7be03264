"""The lifecycle rules, pure: given what the store knows and what a scan saw, what changes.

States: ``open`` (failing), ``excepted`` (failing but waived), ``resolved`` (no longer seen by a
complete scan that covered its object). Each change is one transition; its ``change`` names it:
``opened`` (new, or a waiver gone), ``reopened`` (resolved before), ``excepted``, ``resolved``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from stockade.model.finding import Finding, ResourceRef, Status
from stockade.store.objects import ObjectKey


class State(StrEnum):
    OPEN = "open"
    EXCEPTED = "excepted"
    RESOLVED = "resolved"


class Change(StrEnum):
    OPENED = "opened"
    REOPENED = "reopened"
    EXCEPTED = "excepted"
    RESOLVED = "resolved"


def state_of(finding: Finding) -> State | None:
    """The state a scan's finding puts it in; None for results that are not findings (pass,
    skipped, error: an error says nothing either way)."""
    if finding.status is Status.FAIL:
        return State.OPEN
    if finding.status is Status.EXCEPTED:
        return State.EXCEPTED
    return None


def change_of(before: State | None, after: State) -> Change:
    if after is State.RESOLVED:
        return Change.RESOLVED
    if after is State.EXCEPTED:
        return Change.EXCEPTED
    return Change.REOPENED if before is State.RESOLVED else Change.OPENED


@dataclass(frozen=True, slots=True)
class Known:
    """A finding as the store holds it."""

    id: int
    state: State
    key: ObjectKey
    severity: str
    message: str
    fingerprint: str
    rule_id: str
    resource: ResourceRef
    container: str | None
    path: str


@dataclass(frozen=True, slots=True)
class Move:
    """One transition to write. ``finding`` is None for a resolution (the scan did not see it)."""

    known: Known | None
    finding: Finding | None
    after: State

    @property
    def change(self) -> Change:
        return change_of(self.known.state if self.known else None, self.after)

    @property
    def key(self) -> ObjectKey:
        if self.finding is not None:
            return ObjectKey.of(self.finding.resource)
        assert self.known is not None
        return self.known.key


@dataclass(frozen=True, slots=True)
class Plan:
    moves: list[Move]
    # Every known finding the scan saw again, with what it saw (last_seen, severity, message move on).
    seen: list[tuple[Known, Finding]]


def scan_states(findings: Iterable[Finding]) -> dict[str, tuple[Finding, State]]:
    """The scan's findings by fingerprint, with their state (results that are not findings dropped)."""
    out: dict[str, tuple[Finding, State]] = {}
    for finding in findings:
        state = state_of(finding)
        if state is not None:
            out[finding.fingerprint] = (finding, state)
    return out


def plan(
    known: Mapping[str, Known],
    scanned: Mapping[str, tuple[Finding, State]],
    covers: Callable[[ObjectKey], bool],
) -> Plan:
    """Diff a scan against the store. ``known`` must hold every unresolved finding of the cluster
    and the resolved ones the scan saw again; ``covers`` says which objects the scan looked at
    (a finding of an object it did not look at stays as it is)."""
    moves: list[Move] = []
    seen: list[tuple[Known, Finding]] = []
    for fingerprint, (finding, after) in scanned.items():
        row = known.get(fingerprint)
        if row is None or row.state is not after:
            moves.append(Move(row, finding, after))
        if row is not None:
            seen.append((row, finding))
    for fingerprint, row in known.items():
        if row.state is not State.RESOLVED and fingerprint not in scanned and covers(row.key):
            moves.append(Move(row, None, State.RESOLVED))
    return Plan(moves, seen)
