"""User policies as rules of the one registry: a ValidatingAdmissionPolicyBinding or a Gatekeeper
Constraint becomes the rule ``POL-<its name>``, selected with ``--rules``, listed by ``rules list``,
waived by the same exceptions and judged by the same engine as every built-in rule, in a scan, in
the watcher and at the admission webhook.

A rule judges objects of the kinds its policy matches (an object rule), or every object when the
policy matches ``*`` or a kind Stockade cannot name (an inventory rule); the policy's own match
rules then decide. It reads the Namespace of each object (namespaceSelector, ``namespaceObject``)
and the objects of its param kind. A policy that cannot be evaluated for an object (a runtime
error, a time or cost limit, missing params with ``parameterNotFoundAction: Deny``) gives an
``error`` finding, never a pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.model.rule import READS_ANY, RuleDoc, Scope
from stockade.policies.model import Action, PolicyOutcome, PolicyRequest
from stockade.policies.request import policy_request
from stockade.rules.base import Outcome, Rule, RuleContext, RuleNotApplicable, Violation

FAMILY = "POL"
Judge = Callable[[PolicyRequest, RuleContext], list[PolicyOutcome]]

# The mode a policy's own action asks for at the admission webhook, unless its configuration
# names the rule or the POL family.
_MODE_OF: Mapping[Action, str] = {
    Action.DENY: "enforce",
    Action.WARN: "warn",
    Action.AUDIT: "audit",
    Action.DRYRUN: "dry-run",
}
_STRENGTH = (Action.DENY, Action.WARN, Action.AUDIT, Action.DRYRUN)


class PolicyEvaluationError(Exception):
    """A policy could not judge an object (raised inside a rule: an ``error`` finding)."""


@dataclass(frozen=True, slots=True)
class UserPolicy:
    """One binding or constraint, ready to judge: ``kinds`` None means any kind."""

    name: str  # the binding's or the constraint's name
    policy: str  # the ValidatingAdmissionPolicy's name, or the constraint's kind
    api_kind: str  # ValidatingAdmissionPolicyBinding | a constraint kind
    source: str
    title: str
    description: str
    kinds: frozenset[str] | None
    reads: frozenset[str]
    actions: frozenset[Action]
    severity: Severity
    judge: Judge
    not_applicable: str | None = None  # why it judges nothing (e.g. a policy with no binding)

    @property
    def rule_id(self) -> str:
        return f"{FAMILY}-{self.name}"

    @property
    def admission_mode(self) -> str:
        strongest = next((action for action in _STRENGTH if action in self.actions), Action.DENY)
        return _MODE_OF[strongest]


def to_rule(policy: UserPolicy) -> Rule:
    """The rule that runs ``policy``."""
    scope = Scope.OBJECT if policy.kinds else Scope.INVENTORY
    reads = policy.reads if policy.kinds else frozenset({READS_ANY})
    check = _object_check(policy) if policy.kinds else _inventory_check(policy)
    actions = ", ".join(sorted(action.value for action in policy.actions)) or "deny"
    doc = RuleDoc(
        what=policy.description or policy.title,
        why=f"The {policy.api_kind} {policy.name!r} ({policy.source}) asks for it; its action: {actions}.",
        example="",
        use_instead="",
        remediation=f"Change the object so that {policy.policy!r} admits it, or add an exception for {policy.rule_id}.",
        references=(policy.source,),
    )
    return Rule(
        id=policy.rule_id,
        name=f"pol-{policy.name.replace('.', '-').lower()}",
        title=policy.title,
        severity=policy.severity,
        area=Area.ADMISSION,
        stage=Stage.WALK,
        scope=scope,
        frameworks={},
        remediation=doc.remediation,
        doc=doc,
        check=check,
        kinds=policy.kinds,
        default=True,
        reads=reads,
    )


def _violations(policy: UserPolicy, outcomes: Iterable[PolicyOutcome]) -> tuple[bool, list[Violation], str | None]:
    """Whether the policy applied, its violations (each message once) and its error."""
    applied = False
    messages: dict[str, None] = {}
    for outcome in outcomes:
        if not outcome.applies:
            continue
        applied = True
        if outcome.error is not None:
            return True, [], f"{policy.api_kind} {policy.name!r}: {outcome.error}"
        for violation in outcome.violations:
            messages.setdefault(violation.message)
    return applied, [Violation(message) for message in messages], None


def _object_check(policy: UserPolicy) -> Callable[[RuleContext, Resource], Iterator[Violation]]:
    def check(ctx: RuleContext, resource: Resource) -> Iterator[Violation]:
        if policy.not_applicable is not None:
            raise RuleNotApplicable(policy.not_applicable)
        _, violations, error = _violations(policy, policy.judge(policy_request(resource, ctx), ctx))
        if error is not None:
            raise PolicyEvaluationError(error)
        yield from violations

    return check


def _inventory_check(policy: UserPolicy) -> Callable[[RuleContext], Iterator[Outcome]]:
    def check(ctx: RuleContext) -> Iterator[Outcome]:
        if policy.not_applicable is not None:
            raise RuleNotApplicable(policy.not_applicable)
        for resource in ctx.inventory:
            applied, violations, error = _violations(policy, policy.judge(policy_request(resource, ctx), ctx))
            if applied:
                yield Outcome(resource, tuple(violations), error=error)

    return check
