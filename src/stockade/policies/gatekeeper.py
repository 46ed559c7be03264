"""Gatekeeper ConstraintTemplates and Constraints.

A template names a constraint kind (``spec.crd.spec.names.kind``), the schema of its parameters
(``spec.crd.spec.validation.openAPIV3Schema``) and one or two engines: Rego
(``spec.targets[].rego`` + ``libs``, or a ``code`` entry with ``engine: Rego``) and CEL (a ``code``
entry with ``engine: K8sNativeValidation``). A constraint binds a template to objects
(``spec.match``), with ``spec.parameters`` checked against the schema and an
``enforcementAction`` (deny, warn, dryrun).

``match`` as Gatekeeper reads it: ``kinds`` (apiGroups × kinds, ``*`` or an empty list for any), ``scope``
(``*``, ``Cluster``, ``Namespaced``), ``namespaces`` and ``excludedNamespaces`` (names, with a
``*`` at the start or the end as a glob; cluster-scoped objects other than Namespaces are not
filtered by them), ``labelSelector`` (the object's labels), ``namespaceSelector`` (its
Namespace's labels; a Namespace is judged by its own) and ``name`` (with the same globs). On an
UPDATE the constraint applies when either the new or the old object matches (so removing the label
a constraint selects on does not escape it); on a DELETE, ``input.review.object`` is the old object,
as Gatekeeper's webhook sets it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import jsonschema

from stockade.model.selectors import LabelSelector
from stockade.policies.cel import CelEvaluationError
from stockade.policies.gatekeeper_cel import NativeValidation, compile_native_validation
from stockade.policies.model import Action, PolicyDefinitionError, PolicyOutcome, PolicyRequest, PolicyViolation
from stockade.policies.rego import RegoError, RegoWorker, package_of, shared_worker
from stockade.policies.rego_compat import to_v1
from stockade.policies.vap import label_selector

TARGET: Final = "admission.k8s.gatekeeper.sh"
ENGINES: Final = ("rego", "cel")
_ACTIONS: Final = {"deny": Action.DENY, "warn": Action.WARN, "dryrun": Action.DRYRUN}


@dataclass(frozen=True, slots=True)
class RegoProgram:
    key: str
    package: str
    worker: RegoWorker


class CompiledTemplate:
    """A ConstraintTemplate ready to bind constraints to."""

    def __init__(self, raw: Mapping[str, Any], source: str, worker: RegoWorker | None = None) -> None:
        metadata = raw.get("metadata")
        name = metadata.get("name") if isinstance(metadata, Mapping) else None
        self.name = name if isinstance(name, str) and name else "?"
        self.source = source
        where = f"ConstraintTemplate {self.name!r}"
        self.where = where
        spec = _mapping(raw.get("spec"), f"{where}: spec")
        crd_spec = _mapping(_mapping(spec.get("crd"), f"{where}: spec.crd").get("spec"), f"{where}: spec.crd.spec")
        kind = _mapping(crd_spec.get("names"), f"{where}: spec.crd.spec.names").get("kind")
        if not isinstance(kind, str) or not kind:
            raise PolicyDefinitionError(f"{where}: spec.crd.spec.names.kind is required", source)
        self.kind = kind
        validation = crd_spec.get("validation")
        schema = validation.get("openAPIV3Schema") if isinstance(validation, Mapping) else None
        self.schema: Mapping[str, Any] | None = schema if isinstance(schema, Mapping) else None
        rego, libs, native = _engines(spec, where)
        self.rego: RegoProgram | None = None
        self.cel: NativeValidation | None = None
        try:
            if native is not None:
                self.cel = compile_native_validation(native, f"{where}: K8sNativeValidation")
            if rego is not None:
                self.rego = self._compile_rego(rego, libs, worker or shared_worker())
        except PolicyDefinitionError as exc:
            raise PolicyDefinitionError(str(exc), source) from None
        if self.rego is None and self.cel is None:
            raise PolicyDefinitionError(f"{where}: no Rego and no K8sNativeValidation code for {TARGET}", source)

    @property
    def engines(self) -> tuple[str, ...]:
        return tuple(e for e, present in (("rego", self.rego), ("cel", self.cel)) if present is not None)

    def _compile_rego(self, rego: str, libs: Sequence[str], worker: RegoWorker) -> RegoProgram:
        package = package_of(rego)
        if package is None:
            raise PolicyDefinitionError(f"{self.where}: the Rego has no package line")
        try:
            modules = [
                ("template", to_v1(rego, f"{self.where}: rego")),
                *((f"lib{index}", to_v1(lib, f"{self.where}: libs[{index}]")) for index, lib in enumerate(libs)),
            ]
        except PolicyDefinitionError as exc:
            raise PolicyDefinitionError(str(exc)) from None
        digest = hashlib.sha256("\0".join(text for _, text in modules).encode()).hexdigest()[:16]
        key = f"{self.name}-{digest}"
        try:
            worker.load(key, package, modules)
        except PolicyDefinitionError as exc:
            raise PolicyDefinitionError(f"{self.where}: the Rego does not compile: {exc}") from None
        return RegoProgram(key, package, worker)


def compile_template(raw: Mapping[str, Any], source: str, worker: RegoWorker | None = None) -> CompiledTemplate:
    """``raw`` compiled; :class:`PolicyDefinitionError` naming the template and ``source``."""
    return CompiledTemplate(raw, source, worker)


def _engines(spec: Mapping[str, Any], where: str) -> tuple[str | None, list[str], Mapping[str, Any] | None]:
    targets = spec.get("targets")
    if not isinstance(targets, list) or not targets:
        raise PolicyDefinitionError(f"{where}: spec.targets must list the {TARGET} target")
    rego: str | None = None
    libs: list[str] = []
    native: Mapping[str, Any] | None = None
    for target in targets:
        if not isinstance(target, Mapping) or target.get("target") != TARGET:
            continue
        if isinstance(target.get("rego"), str):
            rego, libs = target["rego"], _texts(target.get("libs"), f"{where}: libs")
        for entry in target.get("code") or []:
            source = entry.get("source") if isinstance(entry, Mapping) else None
            if not isinstance(source, Mapping):
                continue
            if entry.get("engine") == "Rego" and isinstance(source.get("rego"), str):
                rego, libs = source["rego"], _texts(source.get("libs"), f"{where}: code.source.libs")
            elif entry.get("engine") == "K8sNativeValidation":
                native = source
    return rego, libs, native


# -- constraints -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class KindMatch:
    groups: frozenset[str]
    kinds: frozenset[str]

    def matches(self, group: str, kind: str) -> bool:
        # An empty list matches any, as a missing one does.
        return (not self.groups or "*" in self.groups or group in self.groups) and (
            not self.kinds or "*" in self.kinds or kind in self.kinds
        )


@dataclass(frozen=True, slots=True)
class ConstraintMatch:
    kinds: tuple[KindMatch, ...]
    scope: str
    namespaces: tuple[str, ...] | None
    excluded: tuple[str, ...]
    labels: LabelSelector | None
    namespace_labels: LabelSelector | None
    name: str | None

    def matches(self, request: PolicyRequest) -> bool:
        """Whether the object or the old object matches (Gatekeeper matches either)."""
        candidates: list[Mapping[str, Any] | None] = [o for o in (request.object, request.old_object) if o is not None]
        return any(self._matches(request, obj) for obj in candidates or [None])

    def _matches(self, request: PolicyRequest, obj: Mapping[str, Any] | None) -> bool:
        group, kind = request.kind.group, request.kind.kind
        if self.kinds and not any(entry.matches(group, kind) for entry in self.kinds):
            return False
        namespaced = bool(request.namespace)
        if (self.scope == "Cluster" and namespaced) or (self.scope == "Namespaced" and not namespaced):
            return False
        is_namespace = group == "" and kind == "Namespace"
        namespace = (_name(obj) or request.name) if is_namespace else request.namespace
        if namespace or is_namespace:
            if self.namespaces is not None and not any(_glob(p, namespace) for p in self.namespaces):
                return False
            if any(_glob(p, namespace) for p in self.excluded):
                return False
        if self.name and not _glob(self.name, _name(obj) or request.name):
            return False
        if self.labels is not None and not self.labels.matches(_labels(obj)):
            return False
        if self.namespace_labels is not None and (namespace or is_namespace):
            source = obj if is_namespace else request.namespace_object
            if not self.namespace_labels.matches(_labels(source)):
                return False
        return True


class Constraint:
    """A constraint bound to its template: :meth:`evaluate` says what it makes of a request."""

    def __init__(self, template: CompiledTemplate, raw: Mapping[str, Any], source: str, engine: str = "auto") -> None:
        metadata = raw.get("metadata")
        name = metadata.get("name") if isinstance(metadata, Mapping) else None
        self.name = name if isinstance(name, str) and name else "?"
        self.where = f"{raw.get('kind')} {self.name!r}"
        self.template = template
        self.raw = raw
        spec = raw.get("spec", {})
        if not isinstance(spec, Mapping):
            raise PolicyDefinitionError(f"{self.where}: spec must be a mapping", source)
        try:
            self.match = _constraint_match(spec.get("match"), f"{self.where}: spec.match")
            self.parameters = self._parameters(spec.get("parameters"))
            # CEL's params: the whole constraint, its parameters ({} when it has none) in place.
            self.cel_params = {**raw, "spec": {**spec, "parameters": self.parameters}}
            action = spec.get("enforcementAction", "deny")
            if action not in _ACTIONS:
                raise PolicyDefinitionError(
                    f"{self.where}: spec.enforcementAction {action!r} is not one of {', '.join(_ACTIONS)}"
                )
            self.actions = frozenset({_ACTIONS[str(action)]})
            self.engine = self._engine(engine)
        except PolicyDefinitionError as exc:
            raise PolicyDefinitionError(str(exc), source) from None

    def _parameters(self, value: object) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise PolicyDefinitionError(f"{self.where}: spec.parameters must be a mapping")
        if self.template.schema is not None:
            try:
                jsonschema.Draft7Validator(dict(self.template.schema)).validate(dict(value))
            except jsonschema.ValidationError as exc:
                where = ".".join(str(part) for part in exc.absolute_path) or "parameters"
                raise PolicyDefinitionError(
                    f"{self.where}: spec.parameters do not match {self.template.where}'s schema: {where}: {exc.message}"
                ) from None
            except jsonschema.SchemaError as exc:
                raise PolicyDefinitionError(
                    f"{self.template.where}: its openAPIV3Schema is invalid: {exc.message}"
                ) from None
        return dict(value)

    def _engine(self, wanted: str) -> str:
        available = self.template.engines
        if wanted == "auto":
            return available[0]
        if wanted not in available:
            raise PolicyDefinitionError(f"{self.template.where} has no {wanted} engine (it has {', '.join(available)})")
        return wanted

    def evaluate(self, request: PolicyRequest, inventory: Mapping[str, Any] | None = None) -> PolicyOutcome:
        """What the constraint says of ``request``; ``inventory``: Gatekeeper's ``data.inventory``."""
        if not self.match.matches(request):
            return PolicyOutcome(applies=False)
        try:
            messages = self._messages(request, inventory)
        except (RegoError, CelEvaluationError) as exc:
            return PolicyOutcome(applies=True, error=f"{self.engine} engine: {exc}")
        return PolicyOutcome(
            applies=True, violations=tuple(PolicyViolation(m, self.actions) for m in dict.fromkeys(messages))
        )

    def _messages(self, request: PolicyRequest, inventory: Mapping[str, Any] | None) -> list[str]:
        if self.engine == "cel":
            assert self.template.cel is not None
            return self.template.cel.violations(request, self.parameters, self.cel_params)
        program = self.template.rego
        assert program is not None
        review = review_document(request)
        data = {"inventory": dict(inventory)} if inventory is not None else None
        found = program.worker.violations(program.key, {"review": review, "parameters": self.parameters}, data)
        messages = []
        for item in found:
            message = item.get("msg") if isinstance(item, Mapping) else None
            messages.append(message if isinstance(message, str) else str(item))
        return messages


def bind_constraint(
    template: CompiledTemplate, raw: Mapping[str, Any], source: str, engine: str = "auto"
) -> Constraint:
    """``raw`` bound to ``template``; :class:`PolicyDefinitionError` naming the constraint."""
    return Constraint(template, raw, source, engine)


def review_document(request: PolicyRequest) -> dict[str, Any]:
    """``input.review`` as Gatekeeper builds it from an admission request: on a DELETE the object
    is the old object, and the object's Namespace, when known, is ``_unstable.namespace``."""
    obj = request.object
    if obj is None and request.operation == "DELETE":
        obj = request.old_object
    review: dict[str, Any] = {
        "uid": "",
        "kind": {"group": request.kind.group, "version": request.kind.version, "kind": request.kind.kind},
        "resource": {
            "group": request.resource.group,
            "version": request.resource.version,
            "resource": request.resource.resource,
        },
        "subResource": request.sub_resource,
        "name": request.name,
        "namespace": request.namespace,
        "operation": request.operation,
        "userInfo": dict(request.user_info),
        "object": obj,
        "oldObject": request.old_object,
        "dryRun": request.dry_run,
    }
    if request.namespace_object is not None:
        review["_unstable"] = {"namespace": request.namespace_object}
    return review


# -- reading helpers ---------------------------------------------------------------------------------------
def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PolicyDefinitionError(f"{where} must be a mapping")
    return value


def _texts(value: object, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyDefinitionError(f"{where} must be a list of Rego modules")
    return list(value)


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyDefinitionError(f"{where} must be a list of strings")
    return tuple(value)


def _constraint_match(value: object, where: str) -> ConstraintMatch:
    if value is None:
        value = {}
    match = _mapping(value, where)
    kinds = []
    for index, entry in enumerate(match.get("kinds") or []):
        entry = _mapping(entry, f"{where}.kinds[{index}]")
        groups = _strings(entry.get("apiGroups", ["*"]), f"{where}.kinds[{index}].apiGroups")
        names = _strings(entry.get("kinds", ["*"]), f"{where}.kinds[{index}].kinds")
        kinds.append(KindMatch(frozenset(groups), frozenset(names)))
    scope = match.get("scope", "*")
    if scope not in ("*", "Cluster", "Namespaced"):
        raise PolicyDefinitionError(f"{where}.scope must be *, Cluster or Namespaced, found {scope!r}")
    namespaces = match.get("namespaces")
    name = match.get("name")
    if name is not None and not isinstance(name, str):
        raise PolicyDefinitionError(f"{where}.name must be a string")
    return ConstraintMatch(
        kinds=tuple(kinds),
        scope=str(scope),
        namespaces=_strings(namespaces, f"{where}.namespaces") if namespaces is not None else None,
        excluded=_strings(match.get("excludedNamespaces", []), f"{where}.excludedNamespaces"),
        labels=label_selector(match.get("labelSelector"), f"{where}.labelSelector"),
        namespace_labels=label_selector(match.get("namespaceSelector"), f"{where}.namespaceSelector"),
        name=name,
    )


def _glob(pattern: str, value: str) -> bool:
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    return value == pattern


def _labels(obj: Mapping[str, Any] | None) -> Mapping[str, str]:
    metadata = obj.get("metadata") if isinstance(obj, Mapping) else None
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    return {k: v for k, v in labels.items() if isinstance(v, str)} if isinstance(labels, Mapping) else {}


def _name(obj: Mapping[str, Any] | None) -> str:
    metadata = obj.get("metadata") if isinstance(obj, Mapping) else None
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    return name if isinstance(name, str) else ""
