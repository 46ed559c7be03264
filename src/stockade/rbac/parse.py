"""Read Role, ClusterRole, RoleBinding and ClusterRoleBinding objects into typed definitions.

Nothing here raises on bad input: a field of the wrong type drops what it belongs to (one rule,
one subject, one binding's role reference) and adds an RbacProblem that names the object, its
file and line, and the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from stockade.errors import SelectorError
from stockade.model.resource import Origin, Resource
from stockade.model.selectors import LabelSelector, parse_label_selector
from stockade.rbac.model import ObjectRef, PolicyRule, RbacProblem, Subject

RBAC_GROUP = "rbac.authorization.k8s.io"

_RULE_FIELDS = (
    ("verbs", "verbs"),
    ("apiGroups", "api_groups"),
    ("resources", "resources"),
    ("resourceNames", "resource_names"),
    ("nonResourceURLs", "non_resource_urls"),
)

Report = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class RoleDef:
    """A Role or ClusterRole as declared. ``aggregation`` is set for a usable aggregationRule."""

    ref: ObjectRef
    rules: tuple[PolicyRule, ...]
    labels: Mapping[str, Any]
    aggregation: tuple[LabelSelector, ...] | None
    origin: Origin
    # Where each rule sits in the manifest's ``rules`` list; None when nothing was dropped.
    positions: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class BindingDef:
    """A binding with its role reference resolved to an ObjectRef (None when unusable).

    ``subjects`` keeps only subjects that can ever match, ServiceAccount namespaces filled in.
    """

    ref: ObjectRef
    role_ref: ObjectRef | None
    subjects: tuple[Subject, ...]
    origin: Origin


class RuleInterner:
    """Shares one PolicyRule object between every role that declares the same rule."""

    def __init__(self) -> None:
        self._rules: dict[PolicyRule, PolicyRule] = {}

    def __call__(self, rule: PolicyRule) -> PolicyRule:
        return self._rules.setdefault(rule, rule)


def is_rbac(resource: Resource) -> bool:
    return resource.group == RBAC_GROUP


def read_role(
    resource: Resource,
    namespace: str | None,
    intern: RuleInterner,
    problems: list[RbacProblem],
    definition: int = 0,
) -> RoleDef:
    """``namespace`` is the Role's effective namespace, None for a ClusterRole; ``definition`` see ObjectRef."""
    ref = ObjectRef(resource.kind, namespace, resource.name, definition)
    report = _reporter(problems, ref, resource.origin)
    rules, positions = read_rules(resource.raw.get("rules"), intern, report, namespaced=namespace is not None)
    aggregation = None
    if resource.kind == "ClusterRole" and resource.raw.get("aggregationRule") is not None:
        aggregation = _read_aggregation(resource.raw["aggregationRule"], report)
    kept = positions if positions != tuple(range(len(rules))) else None
    return RoleDef(ref, rules, resource.labels, aggregation, resource.origin, kept)


def read_rules(
    raw: object, intern: RuleInterner, report: Report, namespaced: bool
) -> tuple[tuple[PolicyRule, ...], tuple[int, ...]]:
    """The usable rules, and the position of each in the manifest's list (malformed ones are skipped)."""
    if raw is None:
        return (), ()
    if not isinstance(raw, list):
        report("malformed-rule", "rules is not a list; the role grants nothing")
        return (), ()
    rules = []
    positions = []
    for position, item in enumerate(raw):
        rule = _read_rule(position, item, report)
        if rule is None:
            continue
        _check_rule_shape(position, rule, report, namespaced)
        rules.append(intern(rule))
        positions.append(position)
    return tuple(rules), tuple(positions)


def _read_rule(position: int, raw: object, report: Report) -> PolicyRule | None:
    if not isinstance(raw, Mapping):
        report("malformed-rule", f"rules[{position}] is not a mapping; rule ignored")
        return None
    values: dict[str, tuple[str, ...]] = {}
    for key, attribute in _RULE_FIELDS:
        value = raw.get(key)
        if value is None:
            values[attribute] = ()
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            values[attribute] = tuple(value)
        else:
            report("malformed-rule", f"rules[{position}].{key} is not a list of strings; rule ignored")
            return None
    return PolicyRule(**values)


def _check_rule_shape(position: int, rule: PolicyRule, report: Report, namespaced: bool) -> None:
    """Shapes the API server rejects; the rule is kept since its matching is still well defined."""
    where = f"rules[{position}]"
    if not rule.verbs:
        report("invalid-rule", f"{where} has no verbs and matches nothing")
    if rule.non_resource_urls:
        if namespaced:
            report("invalid-rule", f"{where}: nonResourceURLs in a Role never apply")
        if rule.resources or rule.api_groups:
            report("invalid-rule", f"{where} mixes resources and nonResourceURLs")
    else:
        if not rule.api_groups:
            report("invalid-rule", f"{where} has no apiGroups and matches no resource")
        if not rule.resources:
            report("invalid-rule", f"{where} has no resources and matches nothing")


def _read_aggregation(raw: object, report: Report) -> tuple[LabelSelector, ...] | None:
    if not isinstance(raw, Mapping):
        report("invalid-aggregation", "aggregationRule is not a mapping; declared rules kept")
        return None
    selectors = raw.get("clusterRoleSelectors")
    if selectors is None:
        selectors = []
    if not isinstance(selectors, list):
        message = "aggregationRule.clusterRoleSelectors is not a list; declared rules kept"
        report("invalid-aggregation", message)
        return None
    parsed = []
    for position, selector in enumerate(selectors):
        try:
            parsed.append(parse_label_selector(selector))
        except SelectorError as error:
            # The aggregation controller gives up on the whole role, leaving its rules as they are.
            report("invalid-aggregation", f"clusterRoleSelectors[{position}]: {error}; declared rules kept")
            return None
    return tuple(parsed)


def read_binding(
    resource: Resource, namespace: str | None, problems: list[RbacProblem], definition: int = 0
) -> BindingDef:
    """``namespace`` is the RoleBinding's effective namespace, None for a ClusterRoleBinding."""
    ref = ObjectRef(resource.kind, namespace, resource.name, definition)
    report = _reporter(problems, ref, resource.origin)
    role_ref = _read_role_ref(resource.raw.get("roleRef"), namespace, report)
    subjects = _read_subjects(resource.raw.get("subjects"), namespace, report)
    return BindingDef(ref, role_ref, subjects, resource.origin)


def _read_role_ref(raw: object, namespace: str | None, report: Report) -> ObjectRef | None:
    if not isinstance(raw, Mapping):
        what = "missing" if raw is None else f"{_shown(raw)}, not an object (apiGroup, kind, name)"
        report("malformed-binding", f"roleRef is {what}; the binding grants nothing")
        return None
    kind, name, group = raw.get("kind"), raw.get("name"), raw.get("apiGroup")
    if not isinstance(name, str) or not name:
        report("malformed-binding", "roleRef.name is missing or not a string; the binding grants nothing")
        return None
    if group is not None and group != RBAC_GROUP:
        report("invalid-role-ref", f"roleRef.apiGroup is {group!r}, expected {RBAC_GROUP!r}")
    if kind == "ClusterRole":
        return ObjectRef("ClusterRole", None, name)
    if kind == "Role":
        if namespace is None:
            report("invalid-role-ref", f"a ClusterRoleBinding cannot grant Role {name!r}; it grants nothing")
            return None
        return ObjectRef("Role", namespace, name)
    report("invalid-role-ref", f"roleRef.kind {kind!r} is neither Role nor ClusterRole; it grants nothing")
    return None


def _read_subjects(raw: object, namespace: str | None, report: Report) -> tuple[Subject, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        report("malformed-binding", f"subjects is {_shown(raw)}, not a list; the binding applies to no one")
        return ()
    subjects = []
    for position, item in enumerate(raw):
        subject = _read_subject(position, item, namespace, report)
        if subject is not None:
            subjects.append(subject)
    return tuple(subjects)


def _read_subject(position: int, raw: object, namespace: str | None, report: Report) -> Subject | None:
    where = f"subjects[{position}]"
    if not isinstance(raw, Mapping):
        report("malformed-subject", f"{where} is not a mapping; ignored")
        return None
    kind, name, subject_ns = raw.get("kind"), raw.get("name"), raw.get("namespace")
    if not isinstance(name, str) or not name:
        report("malformed-subject", f"{where}.name is missing or not a string; ignored")
        return None
    if subject_ns is not None and not isinstance(subject_ns, str):
        report("malformed-subject", f"{where}.namespace is not a string; ignored")
        return None
    if kind == "User" or kind == "Group":
        return Subject(kind, name)
    if kind == "ServiceAccount":
        # An SA subject without a namespace means the binding's own; a ClusterRoleBinding has none.
        effective = subject_ns or namespace
        if not effective:
            message = f"{where}: ServiceAccount {name!r} has no namespace and matches no one"
            report("malformed-subject", message)
            return None
        return Subject("ServiceAccount", name, effective)
    report("malformed-subject", f"{where}.kind {kind!r} is not User, Group or ServiceAccount; ignored")
    return None


def _shown(value: object) -> str:
    """A wrong value for a message: short, and in the quotes Python gives it."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _reporter(problems: list[RbacProblem], ref: ObjectRef, origin: Origin) -> Report:
    def report(code: str, message: str) -> None:
        problems.append(RbacProblem(code, message, ref, origin))

    return report
