"""ValidatingAdmissionPolicy and its binding, evaluated as the API server evaluates them.

Order for one request: the policy's ``matchConstraints`` and the binding's ``matchResources``
(resource rules, excluded rules, namespace and object selectors) decide whether it applies; then
the params the binding names (the caller finds them: :mod:`stockade.policies.load`); then
``matchConditions`` (all true, or it does not apply); then each validation, whose failure is a
violation with its message (``messageExpression`` first, then ``message``, then
``failed expression: …``) and ``reason``; ``auditAnnotations`` are collected. An expression that
fails at run time follows ``failurePolicy``: ``Fail`` makes the outcome an error (a denial at the
door, an ``error`` finding in a scan), ``Ignore`` skips it.

Expressions see ``object``, ``oldObject`` (null on CREATE), ``request``, ``namespaceObject``,
``params`` and ``variables``. The ``authorizer`` library is not supported: a policy using it is
refused when read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from stockade.model.selectors import LabelSelector, parse_label_selector
from stockade.policies.cel import CelEnvironment, CelEvaluationError, Expression, inline_variables
from stockade.policies.model import Action, PolicyDefinitionError, PolicyOutcome, PolicyRequest, PolicyViolation

ROOTS: Final = ("object", "oldObject", "request", "namespaceObject", "params", "variables")
_ACTIONS: Final = {"Deny": Action.DENY, "Warn": Action.WARN, "Audit": Action.AUDIT}
_OPERATIONS: Final = frozenset({"CREATE", "UPDATE", "DELETE", "CONNECT", "*"})
NO_PARAMS: Final = "no params found for policy binding with `Deny` parameterNotFoundAction"
NO_PARAM_REF: Final = "the policy has a paramKind but the binding no paramRef"


@dataclass(frozen=True, slots=True)
class ResourceRule:
    groups: frozenset[str]
    versions: frozenset[str]
    resources: frozenset[str]
    operations: frozenset[str]
    names: frozenset[str]
    scope: str = "*"  # Cluster, Namespaced or *

    def matches(self, request: PolicyRequest) -> bool:
        if self.scope != "*" and (self.scope == "Namespaced") != _namespaced(request):
            return False
        if not _member(self.groups, request.resource.group) or not _member(self.versions, request.resource.version):
            return False
        if not ("*" in self.operations or request.operation in self.operations):
            return False
        if self.names and request.name not in self.names:
            return False
        return _resource_matches(self.resources, request.resource.resource, request.sub_resource)


def _namespaced(request: PolicyRequest) -> bool:
    # A Namespace is cluster-scoped, whatever namespace its request names.
    is_namespace = request.resource.group == "" and request.resource.resource == "namespaces"
    return not is_namespace and bool(request.namespace)


def _member(values: frozenset[str], value: str) -> bool:
    return "*" in values or value in values


def _resource_matches(resources: frozenset[str], resource: str, sub: str) -> bool:
    if sub:
        return bool({"*/*", f"{resource}/{sub}", f"{resource}/*", f"*/{sub}"} & resources)
    return bool({"*", resource} & resources)


@dataclass(frozen=True, slots=True)
class Match:
    """``matchConstraints`` or a binding's ``matchResources``."""

    rules: tuple[ResourceRule, ...] | None  # None: not given (a binding's matchResources may omit it)
    excluded: tuple[ResourceRule, ...]
    namespaces: LabelSelector | None
    objects: LabelSelector | None

    def matches(self, request: PolicyRequest) -> bool:
        if self.rules is not None and not any(rule.matches(request) for rule in self.rules):
            return False
        if any(rule.matches(request) for rule in self.excluded):
            return False
        if self.namespaces is not None and not self._namespace_matches(request):
            return False
        if self.objects is not None:
            labels = [_labels(request.object), _labels(request.old_object)]
            if not any(self.objects.matches(found) for found in labels if found is not None):
                return False
        return True

    def _namespace_matches(self, request: PolicyRequest) -> bool:
        assert self.namespaces is not None
        if request.kind.kind == "Namespace" and request.kind.group == "":
            return self.namespaces.matches(_labels(request.object) or _labels(request.old_object) or {})
        if not request.namespace:
            return True  # cluster-scoped objects are not filtered by namespace
        return self.namespaces.matches(_labels(request.namespace_object) or {})


def _labels(obj: Mapping[str, Any] | None) -> Mapping[str, str] | None:
    if obj is None:
        return None
    metadata = obj.get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    return {k: v for k, v in labels.items() if isinstance(v, str)} if isinstance(labels, Mapping) else {}


@dataclass(frozen=True, slots=True)
class Validation:
    expression: Expression
    message: str | None
    message_expression: Expression | None
    reason: str


class CompiledVap:
    """A ValidatingAdmissionPolicy ready to evaluate (see the module docstring)."""

    def __init__(self, raw: Mapping[str, Any], source: str) -> None:
        metadata = raw.get("metadata")
        name = metadata.get("name") if isinstance(metadata, Mapping) else None
        if not isinstance(name, str) or not name:
            raise PolicyDefinitionError(f"{source}: a ValidatingAdmissionPolicy needs metadata.name", source)
        self.name = name
        where = f"ValidatingAdmissionPolicy {name!r}"
        self.where = where
        spec = raw.get("spec")
        if not isinstance(spec, Mapping):
            raise PolicyDefinitionError(f"{where}: spec must be a mapping", source)
        self.environment = CelEnvironment(ROOTS)
        try:
            self.failure_policy = _choice(
                spec.get("failurePolicy", "Fail"), ("Fail", "Ignore"), f"{where}: failurePolicy"
            )
            self.match = _match(spec.get("matchConstraints"), f"{where}: spec.matchConstraints", required=True)
            self.param_kind = spec.get("paramKind")
            self.definitions: dict[str, str] = {}
            self.variables = self._named(spec.get("variables"), "variables", define=True)
            self.conditions = self._named(spec.get("matchConditions"), "matchConditions")
            self.validations = self._validations(spec.get("validations"))
            self.audit = self._audit(spec.get("auditAnnotations"))
        except PolicyDefinitionError as exc:
            raise PolicyDefinitionError(str(exc), source) from None
        if not self.validations and not self.audit:
            raise PolicyDefinitionError(f"{where}: spec needs validations or auditAnnotations", source)

    # -- reading -----------------------------------------------------------------------------------
    def _named(self, value: object, key: str, *, define: bool = False) -> tuple[tuple[str, Expression], ...]:
        items = _list(value, f"{self.where}: spec.{key}")
        return named_expressions(self.environment, items, f"{self.where}: spec.{key}", self.definitions, define)

    def _validations(self, value: object) -> tuple[Validation, ...]:
        validations = []
        for index, item in enumerate(_list(value, f"{self.where}: spec.validations")):
            where = f"{self.where}: spec.validations[{index}]"
            if not isinstance(item, Mapping):
                raise PolicyDefinitionError(f"{where}: must be a mapping")
            message = item.get("message")
            if message is not None and not isinstance(message, str):
                raise PolicyDefinitionError(f"{where}.message: must be a string")
            raw_expression = item.get("messageExpression")
            message_expression = (
                self.environment.compile(raw_expression, f"{where}.messageExpression", self.definitions)
                if raw_expression is not None
                else None
            )
            reason = item.get("reason", "Invalid")
            validations.append(
                Validation(
                    self.environment.compile(item.get("expression"), f"{where}.expression", self.definitions),
                    message,
                    message_expression,
                    str(reason),
                )
            )
        return tuple(validations)

    def _audit(self, value: object) -> tuple[tuple[str, Expression], ...]:
        found = []
        for index, item in enumerate(_list(value, f"{self.where}: spec.auditAnnotations")):
            where = f"{self.where}: spec.auditAnnotations[{index}]"
            if not isinstance(item, Mapping) or not isinstance(item.get("key"), str):
                raise PolicyDefinitionError(f"{where}: needs a key and a valueExpression")
            found.append(
                (str(item["key"]), self.environment.compile(item.get("valueExpression"), where, self.definitions))
            )
        return tuple(found)

    # -- evaluating --------------------------------------------------------------------------------
    def evaluate(
        self, request: PolicyRequest, binding: Mapping[str, Any] | None, params: Mapping[str, Any] | None
    ) -> PolicyOutcome:
        """The policy's outcome for ``request`` under ``binding`` with ``params`` (None: none found)."""
        binding_spec = binding.get("spec") if binding is not None else None
        binding_spec = binding_spec if isinstance(binding_spec, Mapping) else {}
        actions = frozenset(_ACTIONS[a] for a in binding_spec.get("validationActions", ["Deny"]) if a in _ACTIONS)
        if not self.match.matches(request):
            return PolicyOutcome(applies=False, failure_policy=self.failure_policy)
        resources = binding_spec.get("matchResources")
        if resources is not None and not _match(resources, "binding matchResources", required=False).matches(request):
            return PolicyOutcome(applies=False, failure_policy=self.failure_policy)
        param_ref = binding_spec.get("paramRef")
        if self.param_kind is not None and params is None:
            # A configuration error, under failurePolicy whatever the binding's actions.
            if not isinstance(param_ref, Mapping):
                return self._failed(f"failed to configure binding: {NO_PARAM_REF}", ())
            if param_ref.get("parameterNotFoundAction", "Deny") != "Allow":
                return self._failed(f"failed to configure binding: {NO_PARAMS}", ())
            return PolicyOutcome(applies=False, failure_policy=self.failure_policy)
        activation: dict[str, Any] = {
            "object": request.object,
            "oldObject": request.old_object,
            "request": request_document(request),
            "namespaceObject": request.namespace_object,
            "params": params,
        }
        activation["variables"] = {}  # written into the expressions (inline_variables)
        # A false condition leaves the policy out even when another one fails; only when none
        # is false does a failure count (under failurePolicy).
        condition_error = None
        for name, condition in self.conditions:
            try:
                met = self.environment.run(condition, activation)
            except CelEvaluationError as exc:
                condition_error = condition_error or f"matchCondition {name!r}: {exc}"
                continue
            if met is not True:
                return PolicyOutcome(applies=False, failure_policy=self.failure_policy)
        if condition_error is not None:
            failed = self._failed(condition_error, ())
            # Ignore: a condition that cannot be evaluated leaves the policy out.
            return failed if failed.error is not None else PolicyOutcome(False, failure_policy="Ignore")
        violations: list[PolicyViolation] = []
        for validation in self.validations:
            try:
                passed = self.environment.run(validation.expression, activation)
            except CelEvaluationError as exc:
                failed = self._failed(f"expression {validation.expression.source!r}: {exc}", violations)
                if failed.error is not None:
                    return failed
                continue
            if passed is not True:
                violations.append(PolicyViolation(self._message(validation, activation), actions, validation.reason))
        return PolicyOutcome(
            applies=True,
            violations=tuple(violations),
            failure_policy=self.failure_policy,
            audit_annotations=self._annotations(activation),
        )

    def _failed(self, error: str, violations: Sequence[PolicyViolation]) -> PolicyOutcome:
        if self.failure_policy == "Ignore":
            return PolicyOutcome(applies=True, violations=tuple(violations), failure_policy="Ignore")
        return PolicyOutcome(applies=True, error=error, failure_policy="Fail")

    def _message(self, validation: Validation, activation: Mapping[str, Any]) -> str:
        return validation_message(self.environment, validation, activation)

    def _annotations(self, activation: Mapping[str, Any]) -> dict[str, str]:
        found: dict[str, str] = {}
        for key, expression in self.audit:
            try:
                value = self.environment.run(expression, activation)
            except CelEvaluationError:
                continue
            if isinstance(value, str) and value:
                found[f"{self.name}/{key}"] = value
        return found


MAX_MESSAGE_LENGTH: Final = 5_000


def failure_message(computed: object, message: str | None, expression: str) -> str:
    """A failed validation's message as the API server words it: what ``messageExpression`` gave
    (``computed``) unless that is not a string, blank or has a line break; then ``message``; then
    ``failed expression: …``."""
    if isinstance(computed, str) and computed.strip() and "\n" not in computed:
        return computed.strip()[:MAX_MESSAGE_LENGTH]
    if message:
        return message
    return f"failed expression: {expression.strip()}"


def named_expressions(
    environment: CelEnvironment,
    items: list[Any],
    where: str,
    definitions: dict[str, str],
    define: bool,
    reserved: frozenset[str] = frozenset(),
) -> tuple[tuple[str, Expression], ...]:
    """Named expressions (``variables``, ``matchConditions``) compiled; ``define``: they are
    variables, added to ``definitions`` to be written into the expressions after them that use
    them (``reserved``: names they may not take)."""
    named = []
    for index, item in enumerate(items):
        here = f"{where}[{index}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str) or not item.get("name"):
            raise PolicyDefinitionError(f"{here}: needs a name and an expression")
        name = str(item["name"])
        if define and name in reserved:
            raise PolicyDefinitionError(f"{here}: {name!r} is a variable Gatekeeper defines itself")
        named.append((name, environment.compile(item.get("expression"), here, definitions, runs=not define)))
        if define:
            definitions[name] = inline_variables(str(item["expression"]), definitions)
    return tuple(named)


def validation_message(environment: CelEnvironment, validation: Validation, activation: Mapping[str, Any]) -> str:
    """What a failed validation says: its messageExpression's value, else its message, else the
    expression (a messageExpression that fails counts as absent)."""
    text = None
    if validation.message_expression is not None:
        try:
            text = environment.run(validation.message_expression, activation)
        except CelEvaluationError:
            text = None
    return failure_message(text, validation.message, validation.expression.source)


def compile_policy(raw: Mapping[str, Any], source: str) -> CompiledVap:
    """``raw`` compiled; :class:`PolicyDefinitionError` naming the policy and ``source``."""
    return CompiledVap(raw, source)


def request_document(request: PolicyRequest) -> dict[str, Any]:
    """``request`` as CEL's ``request`` variable (the AdmissionRequest's fields)."""
    kind = {"group": request.kind.group, "version": request.kind.version, "kind": request.kind.kind}
    resource = {
        "group": request.resource.group,
        "version": request.resource.version,
        "resource": request.resource.resource,
    }
    return {
        "kind": kind,
        "resource": resource,
        "subResource": request.sub_resource,
        "requestKind": kind,
        "requestResource": resource,
        "requestSubResource": request.sub_resource,
        "name": request.name,
        "namespace": request.namespace,
        "operation": request.operation,
        "userInfo": dict(request.user_info),
        "dryRun": request.dry_run,
        "options": {},
    }


# -- reading helpers ---------------------------------------------------------------------------------------
def _list(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PolicyDefinitionError(f"{where}: must be a list")
    return value


def _choice(value: object, choices: Sequence[str], where: str) -> str:
    if value not in choices:
        raise PolicyDefinitionError(f"{where}: must be one of {', '.join(choices)}, found {value!r}")
    return str(value)


def _strings(value: object, where: str, default: Sequence[str] = ()) -> frozenset[str]:
    if value is None:
        return frozenset(default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyDefinitionError(f"{where}: must be a list of strings")
    return frozenset(value)


def _rules(value: object, where: str) -> tuple[ResourceRule, ...]:
    rules = []
    for index, item in enumerate(_list(value, where)):
        here = f"{where}[{index}]"
        if not isinstance(item, Mapping):
            raise PolicyDefinitionError(f"{here}: must be a mapping")
        operations = _strings(item.get("operations"), f"{here}.operations", ("*",))
        unknown = operations - _OPERATIONS
        if unknown:
            raise PolicyDefinitionError(f"{here}.operations: unknown {sorted(unknown)}")
        rules.append(
            ResourceRule(
                groups=_strings(item.get("apiGroups"), f"{here}.apiGroups", ("*",)),
                versions=_strings(item.get("apiVersions"), f"{here}.apiVersions", ("*",)),
                resources=_strings(item.get("resources"), f"{here}.resources"),
                operations=operations,
                names=_strings(item.get("resourceNames"), f"{here}.resourceNames"),
                scope=_choice(item.get("scope", "*"), ("Cluster", "Namespaced", "*"), f"{here}.scope"),
            )
        )
    return tuple(rules)


def label_selector(value: object, where: str) -> LabelSelector | None:
    """A label selector read from a policy; :class:`PolicyDefinitionError` naming ``where``."""
    if value is None:
        return None
    try:
        return parse_label_selector(value)
    except ValueError as exc:
        raise PolicyDefinitionError(f"{where}: {exc}") from None


def _match(value: object, where: str, *, required: bool) -> Match:
    if value is None and not required:
        return Match(None, (), None, None)
    if not isinstance(value, Mapping):
        raise PolicyDefinitionError(f"{where}: must be a mapping with resourceRules")
    rules = _rules(value.get("resourceRules"), f"{where}.resourceRules") if "resourceRules" in value else None
    if required and not rules:
        raise PolicyDefinitionError(f"{where}.resourceRules: at least one rule is required")
    return Match(
        rules,
        _rules(value.get("excludeResourceRules"), f"{where}.excludeResourceRules"),
        label_selector(value.get("namespaceSelector"), f"{where}.namespaceSelector"),
        label_selector(value.get("objectSelector"), f"{where}.objectSelector"),
    )
