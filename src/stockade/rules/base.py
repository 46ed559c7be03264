"""How a rule is declared: metadata in a decorator, prose in the docstring.

A rule is a pure, typed function. The decorator says what it is called with:

- ``@container_rule``: ``(ctx, container: ContainerRef)`` once per container of every pod template;
- ``@pod_rule``: ``(ctx, pod: PodTemplate)`` once per pod template, whatever kind carries it;
- ``@object_rule(kinds=…)``: ``(ctx, resource: Resource)`` once per object of those kinds;
- ``@inventory_rule``: ``(ctx)`` once, yielding :class:`Outcome` values (a target and its
  violations) so that passes are counted too.

``reads=`` names the kinds a rule reads from ``ctx.inventory`` (directly or through
``ctx.analyses``) besides the object it judges; an inventory rule names every kind it reads
(``READS_ANY`` when it reads them all, ``READS_PLACEMENT`` when it reads only which objects are
where and which service accounts their pods run as; none said means READS_ANY). ``reads_owner=True``: the rule
asks whether the judged object's controller is present. Incremental evaluation re-runs a rule on
that basis, and a test checks that no rule reads more than it declares.

Per-object rules yield :class:`Violation` values; none means pass. A rule raises
:class:`RuleNotApplicable` when the whole rule cannot apply (e.g. no registry allow-list configured):
it is then ``skipped`` with the reason, never silently green. A rule that raises anything else, or
yields a value of the wrong type, gives an ``error`` finding: a broken rule never reads as a pass.

The decorator does not register anything: it attaches the :class:`Rule` to the function, and
:mod:`stockade.rules.registry` discovers the rules of every module in the package.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol, TypedDict, TypeVar, Unpack

from stockade.model.finding import Area, Severity, Stage
from stockade.model.rule import READS_ANY as READS_ANY  # re-exported: rules declare what they read
from stockade.model.rule import READS_PLACEMENT as READS_PLACEMENT
from stockade.model.rule import RuleDoc, RuleSpec
from stockade.model.rule import Scope as Scope  # re-exported: rules name their scope through the decorators

if TYPE_CHECKING:
    from stockade.model.inventory import Inventory
    from stockade.model.podspec import ContainerRef, PodTemplate
    from stockade.model.request import RequestFacts
    from stockade.model.resource import Resource
    from stockade.rules.analyses import Analyses

PathPart = str | int
Path = tuple[PathPart, ...]


# Area id → how people read it; the order is the order reports list areas in.
AREAS: Mapping[str, str] = {area.value: area.label for area in Area}

FAMILIES: Mapping[str, str] = {
    "WL": "workloads",
    "PSS": "pod security standards",
    "RB": "RBAC",
    "NP": "network",
    "EW": "east-west traffic (service mesh)",
    "SC": "secrets",
    "IM": "images and supply chain",
    "SA": "service accounts",
    "NS": "namespaces",
    "CP": "control plane",
    "ND": "node",
    "OB": "logging and monitoring",
    "GO": "GitOps",
    "AU": "authentication",
    "AD": "audit-log detections",
    "POL": "your own policies (CEL and Rego)",
}


class RuleNotApplicable(Exception):
    """Raised by a rule that cannot apply to this scan at all (the rule is reported as skipped)."""


class MalformedField(Exception):
    """Raised by a rule that must read a field holding a shape the API server would reject (a list
    where an object belongs, an empty image): the rule cannot judge it, so it is an ``error``
    finding naming the field, never a pass."""


@dataclass(frozen=True, slots=True)
class Violation:
    message: str
    path: Path = ()
    severity: Severity | None = None  # overrides the rule's severity for this violation
    # A concrete patch or command for this object; a function writes it only when a report will
    # show it (the webhook and the watcher never do, and writing patches is a tenth of a decision).
    remediation: str | Callable[[], str] | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an inventory rule says about one target: violations, or none for a pass; ``error`` when
    part of the target could not be judged (an ``error`` finding, never a pass)."""

    target: Resource
    violations: tuple[Violation, ...] = ()
    container: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """User settings that rules read (never the environment, never files)."""

    allowed_registries: tuple[str, ...] | None = None
    secret_entropy_threshold: float = 3.5
    # (major, minor) the cluster runs: flag defaults differ by version. None: the version a live
    # cluster or snapshot reports (filled in by the scan), else the newest defaults.
    kubernetes_version: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What every rule is called with: the scan's objects, the user's settings, and the analyses
    (RBAC, network policies, Pod Security results) built once per scan and shared by rules."""

    inventory: Inventory
    config: RuleConfig
    analyses: Analyses
    # The admission request being judged (the webhook); None in a scan and in the watcher.
    request: RequestFacts | None = None

    @classmethod
    def of(
        cls, inventory: Inventory, config: RuleConfig | None = None, request: RequestFacts | None = None
    ) -> RuleContext:
        from stockade.rules.analyses import Analyses

        return cls(inventory, config or RuleConfig(), Analyses(inventory), request)


ContainerCheck = Callable[["RuleContext", "ContainerRef"], Iterable[Violation]]
PodCheck = Callable[["RuleContext", "PodTemplate"], Iterable[Violation]]
ObjectCheck = Callable[["RuleContext", "Resource"], Iterable[Violation]]
InventoryCheck = Callable[["RuleContext"], Iterable[Outcome]]
Check = ContainerCheck | PodCheck | ObjectCheck | InventoryCheck


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule(RuleSpec):
    """A rule's metadata and its check function."""

    check: Check


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


class RuleMeta(TypedDict, total=False):
    """The decorator's keywords (``remediation``: the generic fix; violations may carry their own)."""

    id: str
    name: str
    title: str
    severity: Severity
    area: Area
    stage: Stage
    frameworks: Mapping[str, Iterable[str]]
    remediation: str
    default: bool
    since: str
    deprecated: str | None
    reads: Iterable[str]
    reads_owner: bool


_REQUIRED: Final = ("id", "name", "title", "severity", "area", "stage", "remediation")
RULE_ATTRIBUTE: Final = "__stockade_rule__"

F = TypeVar("F", bound=Callable[..., object])


def make_rule(
    check: Check, scope: Scope, meta: RuleMeta, kinds: Iterable[str] | None = None, doc: str | None = None
) -> Rule:
    """Validate the metadata and build the :class:`Rule` (used by the decorators and by rule tables)."""
    missing = [key for key in _REQUIRED if key not in meta]
    if missing:
        raise ValueError(f"rule {meta.get('id', '?')}: missing {missing}")
    rule_id, name, title = meta["id"], meta["name"], meta["title"]
    if not _RULE_ID.match(rule_id) or rule_id.split("-")[0] not in FAMILIES:
        raise ValueError(f"bad rule id {rule_id!r}")
    if not _RULE_NAME.match(name):
        raise ValueError(f"{rule_id}: rule name must be kebab-case, got {name!r}")
    if not isinstance(meta["area"], Area):
        raise ValueError(f"{rule_id}: area must be an Area, got {meta['area']!r}")
    if title.lower().startswith("ensure"):
        raise ValueError(f"{rule_id}: titles say what is wrong, not 'Ensure…'")
    if scope is Scope.OBJECT and not kinds:
        raise ValueError(f"{rule_id}: object rules name their kinds")
    reads = frozenset(meta.get("reads", ()))
    if any(not isinstance(kind, str) or not kind for kind in reads):
        raise ValueError(f"{rule_id}: reads names kinds")
    if scope is Scope.INVENTORY and not reads:
        reads = frozenset({READS_ANY})  # an inventory rule that says nothing may read anything
    frameworks = {key: tuple(ids) for key, ids in (meta.get("frameworks") or {}).items()}
    for key, ids in frameworks.items():
        if not ids or any(not isinstance(i, str) or not i for i in ids):
            raise ValueError(f"{rule_id}: framework {key!r} needs a list of control ids")
    return Rule(
        id=rule_id,
        name=name,
        title=title,
        severity=meta["severity"],
        area=meta["area"],
        stage=meta["stage"],
        scope=scope,
        frameworks=frameworks,
        remediation=meta["remediation"],
        doc=parse_doc(rule_id, doc if doc is not None else getattr(check, "__doc__", None)),
        check=check,
        kinds=frozenset(kinds) if kinds else None,
        default=meta.get("default", True),
        since=meta.get("since", "0.1.0"),
        deprecated=meta.get("deprecated"),
        reads=reads,
        reads_owner=meta.get("reads_owner", False),
    )


class TableEntry(Protocol):
    """A row of a rule table (control-plane flags, node files, kubelet settings, managed clusters)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def stage(self) -> Stage: ...


def table_rule(
    entry: TableEntry,
    check: Check,
    scope: Scope,
    *,
    area: Area,
    frameworks: Mapping[str, Iterable[str]],
    remediation: str,
    doc: str,
    kinds: Iterable[str] | None = None,
    reads: Iterable[str] = (),
) -> Rule:
    """The rule of one table row: the row's identity, the table's area and texts."""
    meta: RuleMeta = {
        "id": entry.id,
        "name": entry.name,
        "title": entry.title,
        "severity": entry.severity,
        "area": area,
        "stage": entry.stage,
        "frameworks": {key: list(ids) for key, ids in frameworks.items()},
        "remediation": remediation,
    }
    if reads:
        meta["reads"] = reads
    return make_rule(check, scope, meta, kinds=kinds, doc=doc)


def _attach(scope: Scope, meta: RuleMeta, kinds: Iterable[str] | None = None) -> Callable[[F], F]:
    def attach(check: F) -> F:
        setattr(check, RULE_ATTRIBUTE, make_rule(check, scope, meta, kinds))  # type: ignore[arg-type]
        return check

    return attach


def container_rule(**meta: Unpack[RuleMeta]) -> Callable[[ContainerCheck], ContainerCheck]:
    """A rule called once per container (init, regular and ephemeral) of every pod template."""
    return _attach(Scope.CONTAINER, meta)


def pod_rule(**meta: Unpack[RuleMeta]) -> Callable[[PodCheck], PodCheck]:
    """A rule called once per pod template, whatever kind carries it."""
    return _attach(Scope.POD, meta)


def object_rule(*, kinds: Iterable[str], **meta: Unpack[RuleMeta]) -> Callable[[ObjectCheck], ObjectCheck]:
    """A rule called once per object of ``kinds``."""
    return _attach(Scope.OBJECT, meta, kinds)


def inventory_rule(**meta: Unpack[RuleMeta]) -> Callable[[InventoryCheck], InventoryCheck]:
    """A rule called once per scan, yielding an :class:`Outcome` per target it judged."""
    return _attach(Scope.INVENTORY, meta)


def rule_of(obj: object) -> Rule | None:
    """The rule a decorated function carries, if any."""
    found = getattr(obj, RULE_ATTRIBUTE, None)
    return found if isinstance(found, Rule) else None


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
