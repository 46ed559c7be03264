"""What the Pod Security evaluator says about one pod, field by field, as the WL rules read it.

The WL rules that restate a Pod Security check do not re-implement it. They ask the evaluator's
result for the pod (at policy ``latest``, each check run once per pod in a scan) which fields
the check denies, and decide only how to report them: their own severity, message, path and patch.
A pod the check allows passes the rule without any further reading.
"""

from __future__ import annotations

from dataclasses import dataclass

from stockade.model.podspec import PodTemplate
from stockade.pss import CheckViolation, Malformed
from stockade.rules.base import RuleContext
from stockade.rules.wl._shape import malformed_field, read_bool


@dataclass(frozen=True, slots=True)
class Verdict:
    """One check's violation for one pod; fields are dotted paths from the pod root."""

    pod: PodTemplate
    violation: CheckViolation

    def flags(self, field: str) -> bool:
        """The check denies the pod at ``field`` (a forbidden value or a malformed one)."""
        return field in self.violation.fields

    def problem(self, field: str) -> Malformed | None:
        """What is malformed at ``field``, if the check found it malformed."""
        for found in self.violation.malformed:
            if found.field == field:
                return found
        return None

    def require_well_formed(self, field: str) -> None:
        """Raise the error finding for ``field`` when the check found it malformed."""
        problem = self.problem(field)
        if problem is not None:
            raise malformed_field(self.pod, problem)

    def boolean(self, field: str, value: object) -> bool:
        """The denied boolean at ``field`` (a YAML 1.1 word counts); raises when it is malformed."""
        read = read_bool(value)
        if read is None:
            problem = self.problem(field) or Malformed.of(field, "a boolean", value)
            raise malformed_field(self.pod, problem)
        return read


def verdict(ctx: RuleContext, pod: PodTemplate, check: str) -> Verdict | None:
    """The evaluator's violation of ``check`` for ``pod`` at policy latest, or None when it allows the pod."""
    found = ctx.analyses.pss_check(pod, check)
    return None if found is None else Verdict(pod, found)
