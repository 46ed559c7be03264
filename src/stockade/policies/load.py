"""Reading user policies: files and directories (``--policies``), or objects already read (the
VAPs, ConstraintTemplates and Constraints of a cluster). Every problem is an input problem naming
the file and the policy; the policies that can be used are used.

- a ValidatingAdmissionPolicyBinding and its ValidatingAdmissionPolicy → ``POL-<binding name>``;
  a policy without a binding → ``POL-<policy name>``, reported as skipped (it has no effect in a
  cluster either);
- a Gatekeeper Constraint and its ConstraintTemplate → ``POL-<constraint name>``;
- any other object read with them is a candidate param (``paramKind``).

Optional annotations on a binding, constraint, policy or template: ``stockade.io/severity``
(low … critical; default medium) and ``stockade.io/title``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from stockade.model.finding import InputProblem, Severity
from stockade.model.kinds import BUILTIN_TYPES
from stockade.model.resource import Resource
from stockade.model.selectors import parse_label_selector
from stockade.policies.catalogue import Judge, UserPolicy, to_rule
from stockade.policies.model import Action, PolicyDefinitionError, PolicyOutcome, PolicyRequest
from stockade.rules.base import Rule, RuleContext

VAP_GROUP = "admissionregistration.k8s.io"
TEMPLATE_GROUP = "templates.gatekeeper.sh"
CONSTRAINT_GROUP = "constraints.gatekeeper.sh"
SEVERITY_ANNOTATION = "stockade.io/severity"
TITLE_ANNOTATION = "stockade.io/title"
_GK_ACTIONS: Mapping[str, Action] = {"deny": Action.DENY, "warn": Action.WARN, "dryrun": Action.DRYRUN}
_VAP_ACTIONS: Mapping[str, Action] = {"Deny": Action.DENY, "Warn": Action.WARN, "Audit": Action.AUDIT}


@dataclass(frozen=True)
class PolicySet:
    """The user policies of a run, and the problems met reading them."""

    policies: tuple[UserPolicy, ...] = ()
    problems: tuple[InputProblem, ...] = ()
    sources: tuple[str, ...] = field(default=())

    @cached_property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(to_rule(policy) for policy in self.policies)

    @property
    def admission_modes(self) -> dict[str, str]:
        """Rule id → the mode the policy's own action asks for at the webhook."""
        return {policy.rule_id: policy.admission_mode for policy in self.policies}

    def __bool__(self) -> bool:
        return bool(self.policies or self.problems)

    def __add__(self, other: PolicySet) -> PolicySet:
        """Both sets; a rule id in both is a problem, the first set's policy is kept."""
        mine = {policy.rule_id: policy for policy in self.policies}
        problems = list(self.problems) + list(other.problems)
        for policy in other.policies:
            if policy.rule_id in mine:
                problems.append(_clash(policy, mine[policy.rule_id]))
            else:
                mine[policy.rule_id] = policy
        return PolicySet(tuple(mine[k] for k in sorted(mine)), tuple(problems), self.sources + other.sources)


EMPTY = PolicySet()


def is_policy_object(resource: Resource) -> bool:
    """A ValidatingAdmissionPolicy (or binding), a ConstraintTemplate or a Constraint."""
    return (resource.group == VAP_GROUP and resource.kind.startswith("ValidatingAdmissionPolicy")) or (
        resource.group in (TEMPLATE_GROUP, CONSTRAINT_GROUP)
    )


def read_policies(paths: Sequence[str | os.PathLike[str]]) -> PolicySet:
    """The policies in ``paths`` (files or directories, as ``scan`` reads them)."""
    if not paths:
        return EMPTY
    from stockade.sources.files import FileSource
    from stockade.sources.redaction import redact_result

    read = redact_result(FileSource([os.fspath(p) for p in paths]).collect())
    built = policies_from(read.resources)
    named = tuple(os.fspath(p) for p in paths)
    return PolicySet(built.policies, (*read.errors, *built.problems), named)


def policies_from(resources: Iterable[Resource]) -> PolicySet:
    """The policies among ``resources``; the others are candidate params."""
    objects = list(resources)
    vaps: dict[str, Resource] = {}
    bindings: list[Resource] = []
    templates: dict[str, tuple[Resource, Any]] = {}
    constraints: list[Resource] = []
    params: list[Resource] = []
    problems: list[InputProblem] = []
    for resource in objects:
        if resource.group == VAP_GROUP and resource.kind == "ValidatingAdmissionPolicy":
            vaps[resource.name] = resource
        elif resource.group == VAP_GROUP and resource.kind == "ValidatingAdmissionPolicyBinding":
            bindings.append(resource)
        elif resource.group == TEMPLATE_GROUP and resource.kind == "ConstraintTemplate":
            compiled = _compiled(problems, resource, _compile_template)
            if compiled is not None:
                templates[_template_kind(resource)] = (resource, compiled)
        elif resource.group == CONSTRAINT_GROUP:
            constraints.append(resource)
        else:
            params.append(resource)
    built: list[UserPolicy] = []
    built += _vap_policies(vaps, bindings, params, problems)
    built += _gatekeeper_policies(templates, constraints, objects, problems)
    unique: dict[str, UserPolicy] = {}
    for policy in built:
        if policy.rule_id in unique:
            problems.append(_clash(policy, unique[policy.rule_id]))
            continue
        unique[policy.rule_id] = policy
    return PolicySet(tuple(unique[k] for k in sorted(unique)), tuple(problems))


def _clash(policy: UserPolicy, kept: UserPolicy) -> InputProblem:
    return _problem(
        policy.source,
        f"{policy.api_kind} {policy.name!r} would be rule {policy.rule_id}, which {kept.api_kind}"
        f" {kept.name!r} ({kept.source}) already is: rename one",
        policy.name,
    )


def merged_catalogue(builtin: Mapping[str, Rule], policies: PolicySet) -> dict[str, Rule]:
    """The built-in rules and the policies' rules, by id (policies after the built-ins)."""
    return {**builtin, **{rule.id: rule for rule in policies.rules}}


# -- ValidatingAdmissionPolicy --------------------------------------------------------------------
def _vap_policies(
    vaps: Mapping[str, Resource], bindings: list[Resource], params: list[Resource], problems: list[InputProblem]
) -> list[UserPolicy]:
    compiled: dict[str, Any] = {}
    for name, resource in vaps.items():
        found = _compiled(problems, resource, _compile_vap)
        if found is not None:
            compiled[name] = found
    bound: set[str] = set()
    policies: list[UserPolicy] = []
    for binding in bindings:
        spec = binding.raw.get("spec")
        policy_name = spec.get("policyName") if isinstance(spec, Mapping) else None
        if not isinstance(policy_name, str) or not policy_name:
            problems.append(_problem(_source(binding), "spec.policyName is required", binding.display))
            continue
        bound.add(policy_name)
        if policy_name not in vaps:
            problems.append(
                _problem(
                    _source(binding),
                    f"binds ValidatingAdmissionPolicy {policy_name!r}, which was not read",
                    binding.display,
                )
            )
            continue
        if policy_name not in compiled:
            continue  # its problem is reported
        assert isinstance(spec, Mapping)
        try:
            actions = _vap_actions(spec)
            policies.append(_vap_policy(vaps[policy_name], compiled[policy_name], binding, spec, actions, params))
        except PolicyDefinitionError as exc:
            problems.append(_problem(_source(binding), str(exc), binding.display))
    for name, resource in vaps.items():
        if name in bound or name not in compiled:
            continue
        try:
            severity = _severity(resource, None)
        except PolicyDefinitionError as exc:
            problems.append(_problem(_source(resource), str(exc), resource.display))
            continue
        policies.append(
            UserPolicy(
                name=name,
                policy=name,
                api_kind="ValidatingAdmissionPolicy",
                source=_source(resource),
                title=_title(resource, None, f"ValidatingAdmissionPolicy {name}"),
                description=_description(resource),
                kinds=None,
                reads=frozenset(),
                actions=frozenset({Action.DENY}),
                severity=severity,
                judge=_nothing,
                not_applicable=f"ValidatingAdmissionPolicy {name!r} has no ValidatingAdmissionPolicyBinding",
            )
        )
    return policies


def _nothing(_request: PolicyRequest, _ctx: RuleContext) -> list[PolicyOutcome]:
    return []


def _vap_actions(spec: Mapping[str, Any]) -> frozenset[Action]:
    raw = spec.get("validationActions")
    if not isinstance(raw, list) or not raw:
        raise PolicyDefinitionError("spec.validationActions must list Deny, Warn and/or Audit")
    actions = set()
    for value in raw:
        if value not in _VAP_ACTIONS:
            raise PolicyDefinitionError(f"spec.validationActions: {value!r} is not Deny, Warn or Audit")
        actions.add(_VAP_ACTIONS[value])
    if Action.DENY in actions and Action.WARN in actions:
        raise PolicyDefinitionError("spec.validationActions: Deny and Warn cannot be used together")
    return frozenset(actions)


def _vap_policy(
    vap: Resource,
    compiled: Any,
    binding: Resource,
    binding_spec: Mapping[str, Any],
    actions: frozenset[Action],
    params: list[Resource],
) -> UserPolicy:
    spec = vap.raw.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    param_kind = spec.get("paramKind")
    param_ref = binding_spec.get("paramRef")
    reads = {"Namespace"}
    finder: Callable[[PolicyRequest, RuleContext], list[Mapping[str, Any]]] | None = None
    if isinstance(param_kind, Mapping) and isinstance(param_ref, Mapping):
        kind, api_version = param_kind.get("kind"), param_kind.get("apiVersion")
        if not isinstance(kind, str) or not isinstance(api_version, str):
            raise PolicyDefinitionError(f"ValidatingAdmissionPolicy {vap.name!r}: paramKind needs apiVersion and kind")
        reads.add(kind)
        finder = _param_finder(api_version, kind, param_ref, params, binding.name)
    raw_binding = binding.raw

    def judge(request: PolicyRequest, ctx: RuleContext) -> list[PolicyOutcome]:
        if finder is None:
            return [compiled.evaluate(request, raw_binding, None)]
        found = finder(request, ctx)
        if not found:
            return [compiled.evaluate(request, raw_binding, None)]
        return [compiled.evaluate(request, raw_binding, param) for param in found]

    return UserPolicy(
        name=binding.name,
        policy=vap.name,
        api_kind="ValidatingAdmissionPolicyBinding",
        source=_source(binding),
        title=_title(binding, vap, f"ValidatingAdmissionPolicy {vap.name}"),
        description=_description(vap),
        kinds=_vap_kinds(spec),
        reads=frozenset(reads),
        actions=actions,
        severity=_severity(binding, vap),
        judge=judge,
    )


def _param_finder(
    api_version: str, kind: str, ref: Mapping[str, Any], shipped: list[Resource], binding: str
) -> Callable[[PolicyRequest, RuleContext], list[Mapping[str, Any]]]:
    """The params a binding's paramRef names: by name, or by selector; in ``paramRef.namespace``,
    else (a namespaced param kind) in the namespace of the object judged."""
    name = ref.get("name")
    namespace = ref.get("namespace")
    selector = None
    if ref.get("selector") is not None:
        try:
            selector = parse_label_selector(ref.get("selector"))
        except ValueError as exc:
            raise PolicyDefinitionError(f"binding {binding!r}: paramRef.selector: {exc}") from None
    if not isinstance(name, str) and selector is None:
        raise PolicyDefinitionError(f"binding {binding!r}: paramRef needs a name or a selector")

    def find(request: PolicyRequest, ctx: RuleContext) -> list[Mapping[str, Any]]:
        found: dict[tuple[str | None, str], Mapping[str, Any]] = {}
        for candidate in (*ctx.inventory.of_kind(kind), *(r for r in shipped if r.kind == kind)):
            if candidate.api_version != api_version:
                continue
            if isinstance(namespace, str) and namespace:
                if candidate.namespace != namespace:
                    continue
            elif candidate.namespace is not None and candidate.namespace != request.namespace:
                continue
            if isinstance(name, str) and candidate.name != name:
                continue
            if selector is not None and not selector.matches(candidate.labels):
                continue
            found.setdefault((candidate.namespace, candidate.name), candidate.raw)
        return [found[key] for key in sorted(found, key=lambda k: (k[0] or "", k[1]))]

    return find


# (group, plural) → kind, for the resources a policy names.
_KIND_OF: Mapping[tuple[str, str], str] = {(t.group, t.plural): t.kind for t in BUILTIN_TYPES}


def _vap_kinds(spec: Mapping[str, Any]) -> frozenset[str] | None:
    """The kinds ``matchConstraints`` can match, or None for any (``*``, or a resource Stockade
    has no kind for); the policy's own matching decides object by object."""
    constraints = spec.get("matchConstraints")
    rules = constraints.get("resourceRules") if isinstance(constraints, Mapping) else None
    if not isinstance(rules, list):
        return None
    kinds: set[str] = set()
    for rule in rules:
        if not isinstance(rule, Mapping):
            return None
        groups, resources = rule.get("apiGroups"), rule.get("resources")
        if not isinstance(groups, list) or not isinstance(resources, list):
            return None
        for group in groups:
            for resource in resources:
                if not isinstance(group, str) or not isinstance(resource, str) or "*" in (group, resource):
                    return None
                if "/" in resource:
                    continue  # a subresource: no object of its own to scan
                kind = _KIND_OF.get((group, resource))
                if kind is None:
                    return None
                kinds.add(kind)
    return frozenset(kinds) or None


# -- Gatekeeper --------------------------------------------------------------------------------------
def _template_kind(template: Resource) -> str:
    spec = template.raw.get("spec")
    crd = spec.get("crd") if isinstance(spec, Mapping) else None
    crd_spec = crd.get("spec") if isinstance(crd, Mapping) else None
    names = crd_spec.get("names") if isinstance(crd_spec, Mapping) else None
    kind = names.get("kind") if isinstance(names, Mapping) else None
    return kind if isinstance(kind, str) else template.name


def _gatekeeper_policies(
    templates: Mapping[str, tuple[Resource, Any]],
    constraints: list[Resource],
    objects: list[Resource],
    problems: list[InputProblem],
) -> list[UserPolicy]:
    policies: list[UserPolicy] = []
    for constraint in constraints:
        if constraint.kind not in templates:
            problems.append(
                _problem(
                    _source(constraint),
                    f"no ConstraintTemplate defines kind {constraint.kind!r} (read the template with the constraint)",
                    constraint.display,
                )
            )
            continue
        template, compiled = templates[constraint.kind]
        from stockade.policies.gatekeeper import bind_constraint

        try:
            bound = bind_constraint(compiled, constraint.raw, _source(constraint))
            actions = _gatekeeper_actions(constraint)
            severity = _severity(constraint, template)
        except PolicyDefinitionError as exc:
            problems.append(_problem(_source(constraint), str(exc), constraint.display))
            continue
        policies.append(
            UserPolicy(
                name=constraint.name,
                policy=constraint.kind,
                api_kind=constraint.kind,
                source=_source(constraint),
                title=_title(constraint, template, f"{constraint.kind} {constraint.name}"),
                description=_description(template),
                kinds=_gatekeeper_kinds(constraint),
                reads=frozenset({"Namespace"}),
                actions=actions,
                severity=severity,
                judge=_gatekeeper_judge(bound),
            )
        )
    return policies


def _gatekeeper_judge(bound: Any) -> Judge:
    def judge(request: PolicyRequest, _ctx: RuleContext) -> list[PolicyOutcome]:
        return [bound.evaluate(request)]

    return judge


def _gatekeeper_actions(constraint: Resource) -> frozenset[Action]:
    spec = constraint.raw.get("spec")
    action = spec.get("enforcementAction", "deny") if isinstance(spec, Mapping) else "deny"
    if action not in _GK_ACTIONS:
        raise PolicyDefinitionError(f"spec.enforcementAction {action!r} is not one of {', '.join(_GK_ACTIONS)}")
    return frozenset({_GK_ACTIONS[action]})


def _gatekeeper_kinds(constraint: Resource) -> frozenset[str] | None:
    spec = constraint.raw.get("spec")
    match = spec.get("match") if isinstance(spec, Mapping) else None
    entries = match.get("kinds") if isinstance(match, Mapping) else None
    if not isinstance(entries, list) or not entries:
        return None
    kinds: set[str] = set()
    for entry in entries:
        names = entry.get("kinds") if isinstance(entry, Mapping) else None
        if not isinstance(names, list) or not names:
            return None
        for name in names:
            if not isinstance(name, str) or name == "*":
                return None
            kinds.add(name)
    return frozenset(kinds)


# -- shared ----------------------------------------------------------------------------------------
def _compile_vap(resource: Resource) -> Any:
    from stockade.policies.vap import compile_policy

    return compile_policy(resource.raw, _source(resource))


def _compile_template(resource: Resource) -> Any:
    from stockade.policies.gatekeeper import compile_template

    return compile_template(resource.raw, _source(resource))


def _compiled(problems: list[InputProblem], resource: Resource, compile_: Callable[[Resource], Any]) -> Any:
    try:
        return compile_(resource)
    except PolicyDefinitionError as exc:
        problems.append(_problem(_source(resource), str(exc), resource.display))
        return None


def _source(resource: Resource) -> str:
    origin = resource.origin
    return f"{origin.file}:{origin.line}" if origin.line else origin.file


def _problem(source: str, message: str, display: str) -> InputProblem:
    return InputProblem(source=source, message=message, object=display, kind="config")


def _annotation(resource: Resource | None, key: str) -> str | None:
    if resource is None:
        return None
    value = resource.annotations.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _title(first: Resource, second: Resource | None, fallback: str) -> str:
    return (
        _annotation(first, TITLE_ANNOTATION)
        or _annotation(second, TITLE_ANNOTATION)
        or _annotation(second, "metadata.gatekeeper.sh/title")
        or _annotation(first, "metadata.gatekeeper.sh/title")
        or fallback
    )


def _description(resource: Resource) -> str:
    return (_annotation(resource, "description") or "").strip()


def _severity(first: Resource, second: Resource | None) -> Severity:
    text = _annotation(first, SEVERITY_ANNOTATION) or _annotation(second, SEVERITY_ANNOTATION)
    if text is None:
        return Severity.MEDIUM
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise PolicyDefinitionError(f"annotation {SEVERITY_ANNOTATION}: {exc}") from None
