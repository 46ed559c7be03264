"""What every policy engine (CEL for ValidatingAdmissionPolicy and Gatekeeper's K8sNativeValidation,
Rego for Gatekeeper) is given and gives back, whoever calls it: ``stockade scan``, the watcher or the
admission webhook.

A scan judges objects as they are, so it asks as if each object were being created
(``operation="CREATE"``, no ``old_object``, no user); the webhook passes the real request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

JSON = Mapping[str, Any]


class Action(StrEnum):
    """What a violation asks for. VAP ``validationActions`` Deny/Warn/Audit; Gatekeeper
    ``enforcementAction`` deny/warn/dryrun (dryrun: recorded, never acted on)."""

    DENY = "deny"
    WARN = "warn"
    AUDIT = "audit"
    DRYRUN = "dryrun"


@dataclass(frozen=True, slots=True)
class GroupVersionKind:
    group: str
    version: str
    kind: str


@dataclass(frozen=True, slots=True)
class GroupVersionResource:
    group: str
    version: str
    resource: str  # plural, lower case (``deployments``)


@dataclass(frozen=True, slots=True)
class PolicyRequest:
    """One object under judgement, as an admission request describes it (``request`` in CEL,
    ``input.review`` in Gatekeeper's Rego)."""

    object: JSON | None
    kind: GroupVersionKind
    resource: GroupVersionResource
    operation: str = "CREATE"  # CREATE, UPDATE, DELETE, CONNECT
    old_object: JSON | None = None
    name: str = ""
    namespace: str = ""  # "" for cluster-scoped objects
    sub_resource: str = ""
    user_info: JSON = field(default_factory=dict)  # username, uid, groups, extra
    dry_run: bool = False
    namespace_object: JSON | None = None  # the Namespace the object is in, when known


@dataclass(frozen=True, slots=True)
class PolicyViolation:
    """One failed validation: its message, what it asks for, and (VAP) its ``reason``."""

    message: str
    actions: frozenset[Action] = frozenset({Action.DENY})
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PolicyOutcome:
    """What a policy says of one request. ``applies``: the policy matched the request (its match
    rules and matchConditions). ``error``: the policy could not be evaluated (a runtime error, a cost
    or time limit, missing params); with ``failure_policy == "Fail"`` that is a denial at the door and
    an ``error`` finding in a scan, never a pass. ``audit_annotations``: key → value (VAP)."""

    applies: bool
    violations: tuple[PolicyViolation, ...] = ()
    error: str | None = None
    failure_policy: str = "Fail"
    audit_annotations: Mapping[str, str] = field(default_factory=dict)


class PolicyDefinitionError(Exception):
    """A policy that cannot be used as written (a CEL expression that does not compile or is too
    costly, Rego with a syntax error, a constraint naming a missing template, params not matching
    the schema). The message names the policy; ``source`` is the file it came from."""

    def __init__(self, message: str, source: str = "") -> None:
        super().__init__(message)
        self.source = source
