"""Gatekeeper's CEL engine (``K8sNativeValidation``) for a ConstraintTemplate.

The template's ``source`` holds ``variables``, ``matchConditions`` and ``validations`` as a
ValidatingAdmissionPolicy spells them. Gatekeeper binds two variables before the template's own
(its ``BindObject`` and ``BindParams``):

- ``variables.anyObject``: ``oldObject`` on a DELETE (where ``object`` is null), else ``object``;
- ``variables.params``: the constraint's ``spec.parameters``, null when it has none.

``params`` itself is the constraint, as Gatekeeper makes it the policy's param object (so
``params.spec.parameters.x`` and ``params.metadata.name`` read it). ``object``, ``oldObject``,
``request`` and ``namespaceObject`` are as in a ValidatingAdmissionPolicy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from stockade.policies.cel import CelEnvironment, Expression
from stockade.policies.model import PolicyDefinitionError, PolicyRequest
from stockade.policies.vap import Validation, named_expressions, request_document, validation_message

ROOTS: Final = ("object", "oldObject", "anyObject", "request", "params", "namespaceObject", "variables")
# Gatekeeper's own variables, written into the template's expressions: ``anyObject`` is computed
# per request (a root of its own); ``params`` reads the constraint bound to ``params``.
BOUND: Final = {"anyObject": "anyObject", "params": "params.spec.parameters"}


class NativeValidation:
    """A template's CEL engine, compiled."""

    def __init__(self, source: Mapping[str, Any], where: str) -> None:
        if not isinstance(source, Mapping):
            raise PolicyDefinitionError(f"{where}: source must be a mapping")
        self.where = where
        self.environment = CelEnvironment(ROOTS)
        self.definitions: dict[str, str] = dict(BOUND)
        self.variables = self._named(source.get("variables"), "variables", define=True)
        self.conditions = self._named(source.get("matchConditions"), "matchConditions")
        validations = source.get("validations")
        if not isinstance(validations, list) or not validations:
            raise PolicyDefinitionError(f"{where}: K8sNativeValidation needs validations")
        self.validations = tuple(self._validation(item, index) for index, item in enumerate(validations))
        self._wrapped: tuple[object, dict[str, Any]] | None = None

    def _named(self, value: object, key: str, *, define: bool = False) -> tuple[tuple[str, Expression], ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise PolicyDefinitionError(f"{self.where}: {key} must be a list")
        return named_expressions(
            self.environment, value, f"{self.where}: {key}", self.definitions, define, frozenset(BOUND)
        )

    def _validation(self, item: object, index: int) -> Validation:
        where = f"{self.where}: validations[{index}]"
        if not isinstance(item, Mapping):
            raise PolicyDefinitionError(f"{where}: must be a mapping")
        message = item.get("message")
        if message is not None and not isinstance(message, str):
            raise PolicyDefinitionError(f"{where}.message: must be a string")
        raw_message = item.get("messageExpression")
        return Validation(
            self.environment.compile(item.get("expression"), f"{where}.expression", self.definitions),
            message,
            self.environment.compile(raw_message, f"{where}.messageExpression", self.definitions)
            if raw_message is not None
            else None,
            "Invalid",
        )

    def violations(
        self,
        request: PolicyRequest,
        parameters: Mapping[str, Any] | None,
        constraint: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """The messages of the failed validations (none when a matchCondition is false);
        :class:`CelEvaluationError` when an expression cannot be evaluated (Gatekeeper reports it
        as an error). ``constraint``: the whole constraint as ``params`` (else one holding only
        ``spec.parameters``)."""
        deleting = request.operation == "DELETE" and request.object is None
        activation: dict[str, Any] = {
            "object": request.object,
            "oldObject": request.old_object,
            "anyObject": request.old_object if deleting else request.object,
            "request": request_document(request),
            "params": constraint if constraint is not None else self._as_constraint(parameters),
            "namespaceObject": request.namespace_object,
            "variables": {},  # written into the expressions (inline_variables)
        }
        for _, condition in self.conditions:
            if self.environment.run(condition, activation) is not True:
                return []
        messages = []
        for validation in self.validations:
            if self.environment.run(validation.expression, activation) is not True:
                messages.append(self._message(validation, activation))
        return messages

    def _as_constraint(self, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
        # The same parameters give the same object, so that it is converted to CEL values once.
        wrapped = self._wrapped
        if wrapped is None or wrapped[0] is not parameters:
            wrapped = (parameters, {"spec": {"parameters": parameters}})
            self._wrapped = wrapped
        return wrapped[1]

    def _message(self, validation: Validation, activation: Mapping[str, Any]) -> str:
        return validation_message(self.environment, validation, activation)


def compile_native_validation(source: Mapping[str, Any], where: str) -> NativeValidation:
    """``source`` compiled; :class:`PolicyDefinitionError` naming ``where``."""
    return NativeValidation(source, where)
