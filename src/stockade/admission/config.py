"""The admission webhook's configuration: one YAML file, validated whole at start.

::

    apiVersion: stockade.io/v1            # optional
    kind: AdmissionConfiguration          # optional
    failure-policy: Fail                  # Fail | Ignore: what an internal error or a rule that
                                          # raised (in enforce mode) answers
    rules: [WL, NS, image-tag-latest]     # which rules run (as `scan --rules`; default: the default set)
    skip-rules: [WL-016]
    frameworks: [cis-1.10]                # only rules mapped to these
    modes:                                # enforce | warn | audit | dry-run | off
      default: warn
      frameworks: {pss-restricted: audit}
      families: {WL: enforce}
      rules: {WL-001: enforce, image-tag-latest: off}   # naming a rule here selects it
    exceptions: [exceptions.yaml]         # exceptions files (relative to this file)
    policies: [policies/]                 # user policies (VAPs, Gatekeeper templates and constraints,
                                          # relative to this file): rules POL-<name>, each in the mode
                                          # its own action asks for (Deny → enforce, Warn → warn,
                                          # Audit → audit, dryrun → dry-run) unless `modes` names it
    exemptions:                           # requests Stockade's rules do not judge
      namespaces: [kube-system]
      usernames: [system:serviceaccount:kube-system:replicaset-controller]
      groups: [system:masters]
    pod-security:                         # Pod Security Admission, as the API server's plugin
      enabled: true
      defaults: {enforce: baseline, enforce-version: latest, audit: restricted, audit-version: latest,
                 warn: restricted, warn-version: latest}
      exemptions: {usernames: [], runtimeClasses: [], namespaces: []}
    allowed-registries: [registry.example.com]
    secret-entropy-threshold: 3.5
    severity: {WL-005: high}
    pod-templates: [Rollout.argoproj.io=spec.template]
    mutate: {drop-all-capabilities: true}  # the safe defaults /mutate applies, each switchable

A rule's mode is the most specific that names it: its id or name, then its family, then a
framework it maps to (the strictest when several do), then ``default``. Rules whose verdict
depends on other objects (an RBAC or network-policy rule, a rule reading ServiceAccounts) cannot
judge one object at the door: naming one is an error, and selecting one through a family, an area,
a framework or ``all`` leaves it out (:attr:`AdmissionConfig.not_at_admission` lists them).
The ``pod-security`` section spells ``defaults`` and ``exemptions`` as the API server's
PodSecurityConfiguration does, so they can be copied from there.

Every problem is collected, each as ``FILE:LINE: key.path: what is wrong``, and raised together in
one :class:`AdmissionConfigError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, cast

from stockade.admission.mutate import MutationOptions
from stockade.api import ScanOptions, load_waivers, select, severity_overrides, template_paths
from stockade.api import catalogue as catalogue_of
from stockade.errors import ConfigFileError, StockadeError
from stockade.frameworks import framework_ids
from stockade.model.finding import Severity
from stockade.model.rule import Scope
from stockade.model.text import did_you_mean
from stockade.model.waiver import WaiverEntry
from stockade.policies.catalogue import FAMILY as POLICY_FAMILY
from stockade.policies.load import EMPTY as EMPTY_POLICIES
from stockade.policies.load import PolicySet, read_policies
from stockade.pss.model import LATEST, LEVELS, Level, PolicyVersion
from stockade.pss.namespaces import MODES as PSA_MODES
from stockade.pss.namespaces import Default
from stockade.pss.namespaces import Mode as PsaMode
from stockade.rules import rule_aliases
from stockade.rules.base import FAMILIES, Rule, RuleConfig
from stockade.rules.im._imageref import parse_registry_pattern
from stockade.sources.projectconfig import RawConfig, read_raw_config

Mode = Literal["enforce", "warn", "audit", "dry-run", "off"]
MODES: Final[tuple[Mode, ...]] = ("enforce", "warn", "audit", "dry-run", "off")
FailurePolicy = Literal["Fail", "Ignore"]
FAILURE_POLICIES: Final[tuple[FailurePolicy, ...]] = ("Fail", "Ignore")
DEFAULT_MODE: Final[Mode] = "warn"
CONFIG_API_VERSION: Final = "stockade.io/v1"
CONFIG_KIND: Final = "AdmissionConfiguration"

PathStep = str | int


class AdmissionConfigError(ConfigFileError):
    """The configuration has problems; ``problems`` lists each (``FILE:LINE: key.path: message``)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class Exemptions:
    """Requests Stockade's rules leave alone (Pod Security has its own, in :class:`PodSecurity`)."""

    namespaces: frozenset[str] = frozenset()
    usernames: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    def reason(self, namespace: str, username: str, groups: Iterable[str]) -> str | None:
        """Why a request is exempt ("namespace", "user", "group"), or None when it is not."""
        if namespace and namespace in self.namespaces:
            return "namespace"
        if username and username in self.usernames:
            return "user"
        if any(group in self.groups for group in groups):
            return "group"
        return None


_PRIVILEGED: Final = Default()  # privileged:latest, PSA's own default


@dataclass(frozen=True, slots=True)
class PodSecurity:
    """Pod Security Admission's configuration: the defaults for unlabelled modes and the exemptions."""

    enabled: bool = True
    enforce: Default = _PRIVILEGED
    audit: Default = _PRIVILEGED
    warn: Default = _PRIVILEGED
    exempt_usernames: frozenset[str] = frozenset()
    exempt_runtime_classes: frozenset[str] = frozenset()
    exempt_namespaces: frozenset[str] = frozenset()

    def default(self, mode: PsaMode) -> Default:
        return self.enforce if mode == "enforce" else self.audit if mode == "audit" else self.warn


@dataclass(frozen=True, slots=True)
class AdmissionConfig:
    """A validated configuration (see the module docstring); :meth:`default` when there is no file.

    ``rule_modes``: rule id → mode for every rule judged at admission (never ``off``);
    ``rules``: those rules, in id order; ``not_at_admission``: selected rules that read other
    objects and so are not judged here; ``waivers``: the entries of the exceptions files.
    """

    path: Path | None
    failure_policy: FailurePolicy
    rules: tuple[Rule, ...]
    rule_modes: Mapping[str, Mode]
    not_at_admission: tuple[str, ...]
    waivers: tuple[WaiverEntry, ...]
    exceptions: tuple[Path, ...]
    exemptions: Exemptions
    pod_security: PodSecurity
    rule_config: RuleConfig
    severity: Mapping[str, Severity]
    pod_templates: tuple[str, ...]
    mutate: MutationOptions = field(default_factory=MutationOptions)
    policies: PolicySet = EMPTY_POLICIES

    @classmethod
    def default(cls) -> AdmissionConfig:
        """The configuration of an empty file."""
        return parse_admission_config({})

    def modes_count(self) -> dict[Mode, int]:
        counts: dict[Mode, int] = {mode: 0 for mode in MODES if mode != "off"}
        for mode in self.rule_modes.values():
            counts[mode] += 1
        return counts

    def summary(self) -> str:
        """One line saying what the configuration does (``--check-config`` prints it)."""
        counts = ", ".join(f"{mode} {count}" for mode, count in self.modes_count().items() if count)
        psa = "on" if self.pod_security.enabled else "off"
        return (
            f"{len(self.rule_modes)} rules at admission ({counts or 'none'}); pod security {psa};"
            f" failure policy {self.failure_policy}"
        )


def judges_one_object(rule: Rule) -> bool:
    """Whether ``rule`` can judge one object on its own (it reads nothing else). A user policy
    can: what it reads besides the object (its Namespace, its params) the webhook supplies."""
    return rule.family == POLICY_FAMILY or (rule.scope is not Scope.INVENTORY and not rule.reads)


# -- reading --------------------------------------------------------------------------------------
def load_admission_config(path: str | Path) -> AdmissionConfig:
    """Read and validate ``path``; raises :class:`AdmissionConfigError` listing every problem (or a
    ConfigFileError when the file cannot be read or parsed at all)."""
    raw = read_raw_config(Path(path))
    return _build(raw.values, _Problems(str(raw.path), raw), raw.path.parent, raw.path)


def parse_admission_config(values: Mapping[str, object], *, base: Path | None = None) -> AdmissionConfig:
    """Validate already-loaded ``values`` (relative paths from ``base``, default the working directory)."""
    return _build(values, _Problems("<configuration>", None), base or Path.cwd(), None)


class _Problems:
    """Collects problems, each placed at its key path (and the line of it, when the file says)."""

    def __init__(self, source: str, raw: RawConfig | None) -> None:
        self.source = source
        self.raw = raw
        self.found: list[tuple[int, str]] = []

    @property
    def items(self) -> list[str]:
        """The problems in file order (those without a line first)."""
        return [text for _, text in sorted(self.found, key=lambda item: item[0])]

    def add(self, steps: Sequence[PathStep], message: str) -> None:
        line = None
        if self.raw is not None:
            for depth in range(len(steps), 0, -1):
                line = self.raw.line(steps[:depth])
                if line:
                    break
        where = f"{self.source}:{line}" if line else self.source
        self.found.append((line or 0, f"{where}: {_dotted(steps)}: {message}"))


def _dotted(steps: Sequence[PathStep]) -> str:
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "(top level)"


def _type_name(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    names: dict[type, str] = {str: "a string", list: "a list", dict: "a mapping"}
    return names.get(type(value), type(value).__name__)


_TOP_KEYS: Final = (
    "apiVersion",
    "kind",
    "failure-policy",
    "rules",
    "skip-rules",
    "frameworks",
    "modes",
    "exceptions",
    "policies",
    "exemptions",
    "pod-security",
    "allowed-registries",
    "secret-entropy-threshold",
    "severity",
    "pod-templates",
    "mutate",
)


class _Reader:
    """Typed reads of the values; a wrong type is a problem and gives the default."""

    def __init__(self, problems: _Problems) -> None:
        self.problems = problems

    def mapping(self, value: object, steps: tuple[PathStep, ...], keys: Sequence[str]) -> Mapping[str, object]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problems.add(steps, f"expected a mapping, found {_type_name(value)}")
            return {}
        for key in value:
            if str(key) not in keys:
                self.problems.add((*steps, str(key)), f"unknown key{did_you_mean(str(key), keys)}")
        return {str(k): v for k, v in value.items() if str(k) in keys}

    def strings(self, value: object, steps: tuple[PathStep, ...]) -> tuple[str, ...]:
        """A list of non-empty strings (one string is taken as a list of one)."""
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            self.problems.add(steps, f"expected a list of strings, found {_type_name(value)}")
            return ()
        out: list[str] = []
        for index, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                self.problems.add((*steps, index), f"expected a non-empty string, found {_type_name(item)}")
                continue
            out.append(item.strip())
        return tuple(out)

    def choice(self, value: object, steps: tuple[PathStep, ...], choices: Sequence[str], default: str) -> str:
        if value is None:
            return default
        if not isinstance(value, str) or value not in choices:
            shown = repr(value) if isinstance(value, str) else _type_name(value)
            hint = did_you_mean(value, choices) if isinstance(value, str) else ""
            self.problems.add(steps, f"expected one of {', '.join(choices)}, found {shown}{hint}")
            return default
        return value


def _build(values: Mapping[str, object], problems: _Problems, base: Path, path: Path | None) -> AdmissionConfig:
    read = _Reader(problems)
    top = read.mapping(dict(values) if isinstance(values, Mapping) else values, (), _TOP_KEYS)
    if top.get("apiVersion") not in (None, CONFIG_API_VERSION):
        problems.add(("apiVersion",), f"expected {CONFIG_API_VERSION}, found {top['apiVersion']!r}")
    if top.get("kind") not in (None, CONFIG_KIND):
        problems.add(("kind",), f"expected {CONFIG_KIND}, found {top['kind']!r}")
    failure = cast(FailurePolicy, read.choice(top.get("failure-policy"), ("failure-policy",), FAILURE_POLICIES, "Fail"))
    rule_config = RuleConfig(
        allowed_registries=_registries(read, top.get("allowed-registries")) or None,
        secret_entropy_threshold=_threshold(problems, top.get("secret-entropy-threshold")),
    )
    policies = _policies(read, top.get("policies"), base)
    severity = _severity(read, top.get("severity"), policies)
    pod_templates = _pod_templates(read, top.get("pod-templates"))
    exceptions, waivers = _exceptions(read, top.get("exceptions"), base, policies)
    rules, modes, left_out = _rules_and_modes(read, top, policies)
    exemptions = _exemptions(read, top.get("exemptions"))
    pod_security = _pod_security(read, top.get("pod-security"))
    mutate = MutationOptions()
    raw_mutate = top.get("mutate")
    if raw_mutate is not None and not isinstance(raw_mutate, dict):
        problems.add(("mutate",), f"expected a mapping, found {_type_name(raw_mutate)}")
    elif raw_mutate is not None:
        try:
            mutate = MutationOptions.from_mapping(raw_mutate)
        except ValueError as error:
            problems.add(("mutate",), str(error))
    if problems.items:
        raise AdmissionConfigError(problems.items)
    return AdmissionConfig(
        path=path,
        failure_policy=failure,
        rules=rules,
        rule_modes=modes,
        not_at_admission=left_out,
        waivers=waivers,
        exceptions=exceptions,
        exemptions=exemptions,
        pod_security=pod_security,
        rule_config=rule_config,
        severity=severity,
        pod_templates=pod_templates,
        mutate=mutate,
        policies=policies,
    )


def _registries(read: _Reader, value: object) -> tuple[str, ...]:
    entries = read.strings(value, ("allowed-registries",))
    for index, entry in enumerate(entries):
        try:
            parse_registry_pattern(entry)
        except (ValueError, StockadeError) as exc:
            read.problems.add(("allowed-registries", index), str(exc))
    return entries


def _threshold(problems: _Problems, value: object) -> float:
    if value is None:
        return RuleConfig().secret_entropy_threshold
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 8:
        problems.add(("secret-entropy-threshold",), f"expected a number of bits above 0 and at most 8, found {value!r}")
        return RuleConfig().secret_entropy_threshold
    return float(value)


def _severity(read: _Reader, value: object, policies: PolicySet) -> Mapping[str, Severity]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        read.problems.add(("severity",), f"expected a mapping of rule to severity, found {_type_name(value)}")
        return {}
    resolved: dict[str, Severity] = {}
    for rule, level in value.items():
        try:
            if not isinstance(level, str):
                raise ValueError(f"expected a severity, found {_type_name(level)}")
            resolved.update(severity_overrides({str(rule): level}, policies))
        except (ValueError, StockadeError) as exc:
            read.problems.add(("severity", str(rule)), str(exc))
    return resolved


def _pod_templates(read: _Reader, value: object) -> tuple[str, ...]:
    entries = read.strings(value, ("pod-templates",))
    for index, entry in enumerate(entries):
        try:
            template_paths([entry])
        except StockadeError as exc:
            read.problems.add(("pod-templates", index), str(exc).removeprefix("--pod-template: "))
    return entries


def _policies(read: _Reader, value: object, base: Path) -> PolicySet:
    """The user policies the configuration names; each problem reading them is a problem here."""
    paths: list[str] = []
    for index, name in enumerate(read.strings(value, ("policies",))):
        path = base / name
        steps: tuple[PathStep, ...] = ("policies", index) if isinstance(value, list) else ("policies",)
        if not path.exists():
            read.problems.add(steps, f"no file or directory {str(path)!r}")
            continue
        paths.append(str(path))
    policies = read_policies(paths)
    for problem in policies.problems:
        where = f"{problem.source}: {problem.object}: " if problem.object else f"{problem.source}: "
        read.problems.add(("policies",), where + problem.message)
    return policies


def _exceptions(
    read: _Reader, value: object, base: Path, policies: PolicySet
) -> tuple[tuple[Path, ...], tuple[WaiverEntry, ...]]:
    paths: list[Path] = []
    entries: list[WaiverEntry] = []
    for index, name in enumerate(read.strings(value, ("exceptions",))):
        path = base / name
        steps: tuple[PathStep, ...] = ("exceptions", index) if isinstance(value, list) else ("exceptions",)
        if not path.is_file():
            read.problems.add(steps, f"no file {str(path)!r}")
            continue
        try:
            entries.extend(load_waivers(path, policies))
        except StockadeError as exc:
            read.problems.add(steps, str(exc))
            continue
        paths.append(path)
    return tuple(paths), tuple(entries)


def _exemptions(read: _Reader, value: object) -> Exemptions:
    section = read.mapping(value, ("exemptions",), ("namespaces", "usernames", "groups"))
    return Exemptions(
        namespaces=frozenset(read.strings(section.get("namespaces"), ("exemptions", "namespaces"))),
        usernames=frozenset(read.strings(section.get("usernames"), ("exemptions", "usernames"))),
        groups=frozenset(read.strings(section.get("groups"), ("exemptions", "groups"))),
    )


_PSA_DEFAULT_KEYS: Final = tuple(key for mode in PSA_MODES for key in (mode, f"{mode}-version"))


def _pod_security(read: _Reader, value: object) -> PodSecurity:
    steps: tuple[PathStep, ...] = ("pod-security",)
    section = read.mapping(value, steps, ("enabled", "defaults", "exemptions"))
    enabled = section.get("enabled", True)
    if not isinstance(enabled, bool):
        read.problems.add((*steps, "enabled"), f"expected true or false, found {_type_name(enabled)}")
        enabled = True
    defaults = read.mapping(section.get("defaults"), (*steps, "defaults"), _PSA_DEFAULT_KEYS)
    chosen: dict[str, Default] = {}
    for mode in PSA_MODES:
        level = cast(Level, read.choice(defaults.get(mode), (*steps, "defaults", mode), LEVELS, Default().level))
        chosen[mode] = Default(level, _psa_version(read, defaults.get(f"{mode}-version"), mode))
    exempt = read.mapping(
        section.get("exemptions"), (*steps, "exemptions"), ("usernames", "runtimeClasses", "namespaces")
    )
    where = (*steps, "exemptions")
    return PodSecurity(
        enabled=enabled,
        enforce=chosen["enforce"],
        audit=chosen["audit"],
        warn=chosen["warn"],
        exempt_usernames=frozenset(read.strings(exempt.get("usernames"), (*where, "usernames"))),
        exempt_runtime_classes=frozenset(read.strings(exempt.get("runtimeClasses"), (*where, "runtimeClasses"))),
        exempt_namespaces=frozenset(read.strings(exempt.get("namespaces"), (*where, "namespaces"))),
    )


def _psa_version(read: _Reader, value: object, mode: str) -> PolicyVersion:
    """``latest`` or ``v1.N``, as the PodSecurityConfiguration's defaults take it."""
    steps = ("pod-security", "defaults", f"{mode}-version")
    if value is None or value == "latest":
        return LATEST
    if isinstance(value, str) and value.startswith("v1.") and value[3:].isdigit() and str(int(value[3:])) == value[3:]:
        return PolicyVersion(int(value[3:]))
    hint = " (quote it: a bare 1.30 is a number)" if isinstance(value, int | float) else ""
    read.problems.add(steps, f"expected 'latest' or 'v1.<minor>' such as 'v1.30', found {value!r}{hint}")
    return LATEST


# -- rules and modes ----------------------------------------------------------------------------
_STRICTNESS: Final[Mapping[Mode, int]] = {"enforce": 4, "warn": 3, "audit": 2, "dry-run": 1, "off": 0}


def _rules_and_modes(
    read: _Reader, top: Mapping[str, object], policies: PolicySet
) -> tuple[tuple[Rule, ...], dict[str, Mode], tuple[str, ...]]:
    catalogue = catalogue_of(policies)
    own_modes = cast(Mapping[str, Mode], policies.admission_modes)
    aliases = rule_aliases(catalogue)

    def rule_id(token: str) -> str | None:
        return aliases.get(token) or aliases.get(token.upper()) or aliases.get(token.lower())

    selection = {key: read.strings(top.get(key), (key,)) for key in ("rules", "skip-rules", "frameworks")}
    for index, name in enumerate(selection["frameworks"]):
        if name not in framework_ids():
            read.problems.add(("frameworks", index), f"unknown framework {name!r}{did_you_mean(name, framework_ids())}")
    for key in ("rules", "skip-rules"):
        for index, token in enumerate(selection[key]):
            _check_token(read, (key, index), token, catalogue, rule_id, policies)
    modes_section = read.mapping(top.get("modes"), ("modes",), ("default", "frameworks", "families", "rules"))
    default = cast(Mode, read.choice(modes_section.get("default"), ("modes", "default"), MODES, DEFAULT_MODE))
    by_framework = _mode_table(read, modes_section.get("frameworks"), "frameworks", framework_ids())
    by_family = _mode_table(read, modes_section.get("families"), "families", tuple(FAMILIES))
    by_family = {name.upper(): mode for name, mode in by_family.items()}
    named: dict[str, Mode] = {}
    for token, mode in _mode_table(read, modes_section.get("rules"), "rules", tuple(aliases)).items():
        found = rule_id(token)
        assert found is not None
        if not judges_one_object(catalogue[found]) and mode != "off":
            read.problems.add(("modes", "rules", token), _not_at_admission(catalogue[found]))
            continue
        named[found] = mode
    if read.problems.items:
        return (), {}, ()
    try:
        options = ScanOptions(
            rules=selection["rules"], skip_rules=selection["skip-rules"], frameworks=selection["frameworks"]
        )
        selected = select(options, policies)
    except StockadeError as exc:
        read.problems.add(("rules",), str(exc))
        return (), {}, ()
    chosen = {rule.id: rule for rule in selected}
    skipped = {r.id for token in selection["skip-rules"] for r in _named_rules(token, catalogue, rule_id, policies)}
    for found, mode in named.items():
        if found in skipped and mode != "off":
            read.problems.add(("modes", "rules", found), f"{found} has mode {mode} but skip-rules leaves it out")
        elif found not in chosen and mode != "off":
            chosen[found] = catalogue[found]  # naming a rule's mode selects it
    modes: dict[str, Mode] = {}
    left_out: list[str] = []
    for found in sorted(chosen):
        rule = chosen[found]
        if not judges_one_object(rule):
            left_out.append(found)
            continue
        framework_modes = [by_framework[f] for f in rule.frameworks if f in by_framework]
        mode = (
            named.get(found)
            or by_family.get(rule.family)
            or _strictest(framework_modes)
            or own_modes.get(found)
            or default
        )
        if mode != "off":
            modes[found] = mode
    return tuple(catalogue[r] for r in modes), modes, tuple(left_out)


def _strictest(modes: Sequence[Mode]) -> Mode | None:
    chosen: Mode | None = None
    for mode in modes:
        if chosen is None or _STRICTNESS[mode] > _STRICTNESS[chosen]:
            chosen = mode
    return chosen


def _not_at_admission(rule: Rule) -> str:
    reads = ", ".join(sorted(r for r in rule.reads if not r.startswith("*"))) or "every object"
    return (
        f"{rule.id} ({rule.name}) reads other objects ({reads}) besides the one it judges;"
        " admission judges one object at a time, so it cannot run here (scan or watch the cluster for it)"
    )


def _named_rules(
    token: str, catalogue: Mapping[str, Rule], rule_id: Callable[[str], str | None], policies: PolicySet
) -> list[Rule]:
    found = rule_id(token)
    if found is not None:
        return [catalogue[found]]
    try:
        return select(ScanOptions(rules=[token]), policies)
    except StockadeError:
        return []


def _check_token(
    read: _Reader,
    steps: tuple[PathStep, ...],
    token: str,
    catalogue: Mapping[str, Rule],
    rule_id: Callable[[str], str | None],
    policies: PolicySet,
) -> None:
    found = rule_id(token)
    if found is not None:
        if steps[0] == "rules" and not judges_one_object(catalogue[found]):
            read.problems.add(steps, _not_at_admission(catalogue[found]))
        return
    try:
        select(ScanOptions(rules=[token]), policies)
    except StockadeError as exc:
        read.problems.add(steps, f"{exc}{did_you_mean(token, list(rule_aliases(catalogue)))}")


_NOUNS: Final = {"frameworks": "framework", "families": "family", "rules": "rule id or name"}


def _mode_table(read: _Reader, value: object, key: str, known: Sequence[str]) -> dict[str, Mode]:
    """``name: mode`` pairs; a name is looked up in ``known`` as typed, upper- and lower-cased."""
    steps: tuple[PathStep, ...] = ("modes", key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        read.problems.add(steps, f"expected a mapping of {key[:-1]} to mode, found {_type_name(value)}")
        return {}
    table: dict[str, Mode] = {}
    for name, mode in value.items():
        text = str(name)
        if not {text, text.upper(), text.lower()} & set(known):
            read.problems.add((*steps, text), f"unknown {_NOUNS[key]} {text!r}{did_you_mean(text, known)}")
            continue
        table[text] = cast(Mode, read.choice(mode, (*steps, text), MODES, DEFAULT_MODE))
    return table
