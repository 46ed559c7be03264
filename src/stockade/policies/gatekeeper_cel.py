"""Gatekeeper's CEL engine (``K8sNativeValidation``) for a ConstraintTemplate.

The template's ``source`` holds ``variables``, ``matchConditions`` and ``validations`` as a
ValidatingAdmissionPolicy spells them. Gatekeeper adds two variables before the template's own:
``variables.anyObject`` (the object, or the old object on DELETE) and ``variables.params`` (the
constraint's ``spec.parameters``); ``params`` is the same parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from stockade.policies.cel import CelEnvironment, CelEvaluationError, Expression, inline_variables
from stockade.policies.model import PolicyDefinitionError, PolicyRequest
from stockade.policies.vap import request_document

ROOTS: Final = ("object", "oldObject", "anyObject", "request", "params", "namespaceObject", "variables")


@dataclass(frozen=True, slots=True)
class _Validation:
    expression: Expression
    message: str | None
    message_expression: Expression | None


class NativeValidation:
    """A template's CEL engine, compiled."""

    def __init__(self, source: Mapping[str, Any], where: str) -> None:
        self.where = where
        self.environment = CelEnvironment(ROOTS)
        # Gatekeeper's own variables, before the template's.
        self.definitions: dict[str, str] = {"anyObject": "anyObject", "params": "params"}
        self.variables = self._named(source.get("variables"), "variables", define=True)
        self.conditions = self._named(source.get("matchConditions"), "matchConditions")
        validations = source.get("validations")
        if not isinstance(validations, list) or not validations:
            raise PolicyDefinitionError(f"{where}: K8sNativeValidation needs validations")
        self.validations = tuple(self._validation(item, index) for index, item in enumerate(validations))

    def _named(self, value: object, key: str, *, define: bool = False) -> tuple[tuple[str, Expression], ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise PolicyDefinitionError(f"{self.where}: {key} must be a list")
        found = []
        for index, item in enumerate(value):
            where = f"{self.where}: {key}[{index}]"
            if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
                raise PolicyDefinitionError(f"{where}: needs a name and an expression")
            name = str(item["name"])
            found.append(
                (name, self.environment.compile(item.get("expression"), where, self.definitions, runs=not define))
            )
            if define:
                self.definitions[name] = inline_variables(str(item["expression"]), self.definitions)
        return tuple(found)

    def _validation(self, item: object, index: int) -> _Validation:
        where = f"{self.where}: validations[{index}]"
        if not isinstance(item, Mapping):
            raise PolicyDefinitionError(f"{where}: must be a mapping")
        message = item.get("message")
        raw_message = item.get("messageExpression")
        return _Validation(
            self.environment.compile(item.get("expression"), f"{where}.expression", self.definitions),
            message if isinstance(message, str) else None,
            self.environment.compile(raw_message, f"{where}.messageExpression", self.definitions)
            if raw_message is not None
            else None,
        )

    def violations(self, request: PolicyRequest, parameters: Mapping[str, Any] | None) -> list[str]:
        """The messages of the failed validations; :class:`CelEvaluationError` when one cannot
        be evaluated (Gatekeeper reports it as an error)."""
        params = parameters if parameters is not None else {}
        activation: dict[str, Any] = {
            "object": request.object,
            "oldObject": request.old_object,
            "anyObject": request.object if request.object is not None else request.old_object,
            "request": request_document(request),
            "params": params,
            "namespaceObject": request.namespace_object,
            "variables": {},  # written into the expressions (inline_variables)
        }
        for _, condition in self.conditions:
            if self.environment.run(condition, activation) is not True:
                return []
        messages = []
        for validation in self.validations:
            if self.environment.run(validation.expression, activation) is True:
                continue
            messages.append(self._message(validation, activation))
        return messages

    def _message(self, validation: _Validation, activation: Mapping[str, Any]) -> str:
        if validation.message_expression is not None:
            try:
                text = self.environment.run(validation.message_expression, activation)
            except CelEvaluationError:
                text = None
            if isinstance(text, str) and text.strip():
                return text.strip()
        return validation.message or f"failed expression: {validation.expression.source}"


def compile_native_validation(source: Mapping[str, Any], where: str) -> NativeValidation:
    """``source`` compiled; :class:`PolicyDefinitionError` naming ``where``."""
    return NativeValidation(source, where)
