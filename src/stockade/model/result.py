"""What a scan returns: findings, the inputs that could not be read, facts, and the exit gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stockade.model.finding import Finding, InputProblem, PassCounts, Severity, SkippedInput, Status
from stockade.model.rule import RuleSpec
from stockade.model.waiver import WaiverEntry

if TYPE_CHECKING:
    from stockade.model.inventory import Inventory

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_UNREADABLE = 3

FAIL_ON = ("critical", "high", "medium", "low", "info", "none")


@dataclass(slots=True)
class ScanResult:
    """Everything a scan found, for every output format.

    ``errors`` are the input problems: files that could not be read or parsed, kinds the cluster
    would not list, rules that could not run. They are part of the result, never dropped, and
    :meth:`gate` fails on them: a scan that could not see everything is not a clean pass.
    """

    rules: list[RuleSpec]
    findings: list[Finding] = field(default_factory=list)
    passes: PassCounts = field(default_factory=PassCounts)
    skipped_rules: dict[str, str] = field(default_factory=dict)  # rule id → why it did not apply
    errors: list[InputProblem] = field(default_factory=list)
    skipped_inputs: list[SkippedInput] = field(default_factory=list)
    stale_exceptions: list[WaiverEntry] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    resources_scanned: int = 0
    facts: dict[str, object] = field(default_factory=dict)
    # The objects the scan read, for commands that ask more of them (RBAC questions, Pod Security).
    inventory: Inventory | None = field(default=None, repr=False, compare=False)

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.FAIL]

    @property
    def complete(self) -> bool:
        """Whether every input was read and every rule evaluated."""
        return not self.errors and not any(f.status is Status.ERROR for f in self.findings)

    def gate(self, fail_on: str | Severity = "high") -> int:
        """The exit code: 3 when anything could not be read or evaluated (it takes precedence, so a
        gate never passes on unreadable input), 1 when a finding at or above ``fail_on`` failed,
        else 0. ``fail_on="none"`` fails on nothing but unreadable input."""
        if not self.complete:
            return EXIT_UNREADABLE
        if fail_on == "none":
            return EXIT_CLEAN
        floor = (fail_on if isinstance(fail_on, Severity) else Severity.parse(fail_on)).rank
        if any(f.status is Status.FAIL and f.severity.rank >= floor for f in self.findings):
            return EXIT_FINDINGS
        return EXIT_CLEAN
