"""How a rule is declared: metadata in the ``@rule`` decorator, prose in the docstring.

A rule is a pure function. Its scope says what it is called with:

- ``Scope.CONTAINER``: ``(ctx, container: ContainerRef)`` once per container of every pod template;
- ``Scope.POD``: ``(ctx, pod: PodTemplate)`` once per pod template, whatever kind carries it;
- ``Scope.OBJECT``: ``(ctx, resource: Resource)`` once per object of the rule's ``kinds``;
- ``Scope.INVENTORY``: ``(ctx)`` once, yielding ``Outcome`` values (a target and its violations) so
  that passes are counted too.

It returns (or yields) :class:`Violation` values; none means pass. It raises :class:`RuleNotApplicable`
when the whole rule cannot apply (e.g. no registry allow-list configured): that rule is then
``skipped`` with the reason, never silently green.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from stockade.model.finding import Severity, Stage

if TYPE_CHECKING:
    from stockade.model.inventory import Inventory
    from stockade.model.resource import Resource

PathPart = str | int
Path = tuple[PathPart, ...]


class Scope(StrEnum):
    CONTAINER = "container"
    POD = "pod"
    OBJECT = "object"
    INVENTORY = "inventory"


AREAS: Mapping[str, str] = {
    "control-plane": "control plane & API access",
    "authentication": "authentication",
    "rbac": "RBAC least privilege",
    "gitops": "GitOps",
    "container-privileges": "container privileges",
    "logging": "cluster logging",
    "monitoring": "real-time monitoring",
    "admission": "admission control",
    "east-west": "east-west traffic",
    "node-files": "key configuration files",
    "secrets": "secrets",
    "service-accounts": "service accounts",
    "namespaces": "namespaces",
    "registries": "trusted registries",
}

FAMILIES: Mapping[str, str] = {
    "WL": "workloads",
    "PSS": "pod security standards",
    "RB": "RBAC",
    "NP": "network",
    "SC": "secrets",
    "IM": "images and supply chain",
    "SA": "service accounts",
    "NS": "namespaces",
    "CP": "control plane",
    "ND": "node",
    "OB": "logging and monitoring",
    "GO": "GitOps",
    "AU": "audit-log detections",
}


class RuleNotApplicable(Exception):
    """Raised by a rule that cannot apply to this scan at all (the rule is reported as skipped)."""


@dataclass(frozen=True, slots=True)
class Violation:
    message: str
    path: Path = ()
    severity: Severity | None = None  # overrides the rule's severity for this violation
    remediation: str | None = None  # a concrete patch or command for this object


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an inventory-scope rule says about one target: violations, or none for a pass."""

    target: Resource
    violations: tuple[Violation, ...] = ()
    container: str | None = None


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """User settings that rules read (never the environment, never files)."""

    allowed_registries: tuple[str, ...] | None = None
    secret_entropy_threshold: float = 3.5


@dataclass(frozen=True, slots=True)
class RuleContext:
    inventory: Inventory
    config: RuleConfig = field(default_factory=RuleConfig)


@dataclass(frozen=True, slots=True)
class RuleDoc:
    """The docstring, split into its sections."""

    what: str
    why: str
    example: str
    use_instead: str
    remediation: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    title: str
    severity: Severity
    area: str
    stage: Stage
    scope: Scope
    frameworks: Mapping[str, tuple[str, ...]]
    remediation: str
    doc: RuleDoc
    check: Callable[..., Iterable[Any]]
    kinds: frozenset[str] | None = None  # OBJECT scope: the kinds it looks at
    # False: runs only when selected (by id, name, family, area, framework or `all`), e.g. the PSS
    # check rules, which restate what the WL rules report unless a PSS compliance view is wanted.
    default: bool = True

    @property
    def family(self) -> str:
        return self.id.split("-", 1)[0]


_REGISTRY: dict[str, Rule] = {}

_SECTION = re.compile(r"^## (.+?)\s*$", re.MULTILINE)
_FENCE = re.compile(r"```(?:yaml)?\n(.*?)```", re.DOTALL)
_RULE_ID = re.compile(r"^[A-Z]{2,3}-\d{3}$")
_RULE_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def parse_doc(rule_id: str, docstring: str | None) -> RuleDoc:
    if not docstring:
        raise ValueError(f"{rule_id}: a rule needs a docstring")
    text = _dedent(docstring)
    parts = _SECTION.split(text)
    sections = {parts[i].strip().lower().rstrip("?"): parts[i + 1].strip() for i in range(1, len(parts), 2)}
    required = ("what it does", "why is this bad", "example", "use instead", "remediation")
    missing = [name for name in required if name not in sections]
    if missing:
        raise ValueError(f"{rule_id}: docstring lacks sections {missing}")

    def code(section: str) -> str:
        match = _FENCE.search(sections[section])
        if match is None:
            raise ValueError(f"{rule_id}: section {section!r} needs a ```yaml block")
        return match.group(1)

    references = tuple(
        line.lstrip("-* ").strip() for line in sections.get("references", "").splitlines() if line.strip()
    )
    return RuleDoc(
        what=sections["what it does"],
        why=sections["why is this bad"],
        example=code("example"),
        use_instead=code("use instead"),
        remediation=sections["remediation"],
        references=references,
    )


def _dedent(docstring: str) -> str:
    lines = docstring.expandtabs().splitlines()
    indent = min((len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()), default=0)
    return "\n".join([lines[0].strip(), *(line[indent:] for line in lines[1:])])


def rule(
    *,
    id: str,
    name: str,
    title: str,
    severity: Severity,
    area: str,
    stage: Stage,
    scope: Scope,
    frameworks: Mapping[str, Iterable[str]] | None = None,
    remediation: str,
    kinds: Iterable[str] | None = None,
    default: bool = True,
) -> Callable[[Callable[..., Iterable[Any]]], Callable[..., Iterable[Any]]]:
    """Register a rule. Metadata lives here; the docstring holds the prose and the examples."""
    if not _RULE_ID.match(id) or id.split("-")[0] not in FAMILIES:
        raise ValueError(f"bad rule id {id!r}")
    if not _RULE_NAME.match(name):
        raise ValueError(f"{id}: rule name must be kebab-case, got {name!r}")
    if area not in AREAS:
        raise ValueError(f"{id}: unknown area {area!r}")
    if title.lower().startswith("ensure"):
        raise ValueError(f"{id}: titles say what is wrong, not 'Ensure…'")
    if scope is Scope.OBJECT and not kinds:
        raise ValueError(f"{id}: object-scope rules name their kinds")

    def register(func: Callable[..., Iterable[Any]]) -> Callable[..., Iterable[Any]]:
        if id in _REGISTRY or any(r.name == name for r in _REGISTRY.values()):
            raise ValueError(f"{id}/{name}: registered twice")
        _REGISTRY[id] = Rule(
            id=id,
            name=name,
            title=title,
            severity=severity,
            area=area,
            stage=stage,
            scope=scope,
            frameworks={k: tuple(v) for k, v in (frameworks or {}).items()},
            remediation=remediation,
            doc=parse_doc(id, func.__doc__),
            check=func,
            kinds=frozenset(kinds) if kinds else None,
            default=default,
        )
        return func

    return register


def registered_rules() -> Mapping[str, Rule]:
    return _REGISTRY


def format_path(path: Path) -> str:
    """``("spec", "containers", 0, "image")`` → ``spec.containers[0].image``."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        else:
            out.append(f".{part}" if out else part)
    return "".join(out)


# YAML 1.1 booleans: the API server's YAML decoder reads `yes`/`on` as true. A value a rule takes as
# "false" must not become an evasion because the manifest spells it differently.
_TRUE_WORDS = frozenset({"true", "yes", "on", "y"})
_FALSE_WORDS = frozenset({"false", "no", "off", "n"})


def is_true(value: object) -> bool:
    if value is True:
        return True
    return isinstance(value, str) and value.lower() in _TRUE_WORDS


def is_false(value: object) -> bool:
    if value is False:
        return True
    return isinstance(value, str) and value.lower() in _FALSE_WORDS
