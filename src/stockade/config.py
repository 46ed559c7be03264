"""Project configuration: ``.stockade.yaml`` or ``[tool.stockade]`` in ``pyproject.toml``.

::

    from pathlib import Path
    import stockade
    from stockade.config import find_config, load_config

    found = find_config(Path.cwd())
    config = load_config(found) if found else stockade.config.ProjectConfig()
    result = stockade.scan([stockade.FileSource(["k8s/"])], config.scan_options())
    raise SystemExit(result.gate(config.fail_on or "high"))

One table, :data:`KEYS`, says what each key holds: the loader validates against it, the JSON
Schema (``stockade/schemas/config-v1.schema.json``) is generated from it and ``stockade config
show`` lists it. Keys are kebab-case like the command-line flags that override them. Paths
(``exceptions``, ``policies``) are relative to the configuration file's directory. Every problem
raises :class:`~stockade.errors.ConfigFileError` as ``FILE:LINE: KEY: what is wrong``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from stockade.api import ScanOptions, select, severity_overrides
from stockade.errors import ConfigFileError, StockadeError
from stockade.frameworks import framework_ids
from stockade.model.finding import Severity
from stockade.model.podspec import parse_template_path_option
from stockade.model.result import FAIL_ON
from stockade.model.text import did_you_mean
from stockade.policies.catalogue import FAMILY as POLICY_FAMILY
from stockade.rules import load_rules, rule_aliases
from stockade.rules.base import AREAS, FAMILIES, RuleConfig
from stockade.rules.im._imageref import parse_registry_pattern
from stockade.sources.projectconfig import CONFIG_FILE, PYPROJECT, RawConfig, find_config, read_raw_config

__all__ = ["CONFIG_FILE", "KEYS", "PYPROJECT", "Key", "ProjectConfig", "find_config", "json_schema", "load_config"]

SCHEMA_ID = "urn:stockade:schema:config:v1"
SCHEMA_RESOURCE = "schemas/config-v1.schema.json"  # inside the stockade package
# "1.30" or "v1.30". Quoted in YAML: a bare 1.30 is the number 1.3.
KUBERNETES_VERSION = re.compile(r"v?1\.(0|[1-9][0-9]*)")
TEMPLATE_PATH = r"^[^.=]+(\.[^=]*)?=.+$"


@dataclass(frozen=True, slots=True)
class Key:
    """One configuration key: its JSON Schema, the flag that overrides it, and what it does."""

    name: str
    schema: Mapping[str, Any]
    description: str
    flag: str | None = None
    default: object = None
    note: str = ""  # for keys that are recorded before anything reads them

    @property
    def attribute(self) -> str:
        return self.name.replace("-", "_")


def _strings(**items: Any) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string", "minLength": 1, **items}}


_SEVERITIES = [s.value for s in Severity]

KEYS: tuple[Key, ...] = (
    Key("rules", _strings(), "only these rule ids, names, families or areas ('all' for every rule)", "--rules"),
    Key("skip-rules", _strings(), "leave out these rule ids, names, families or areas", "--skip-rules"),
    Key(
        "severity",
        {"type": "object", "additionalProperties": {"enum": _SEVERITIES}},
        "rule id or name → the severity its findings get in this project",
    ),
    Key("exceptions", {"type": "string", "minLength": 1}, "exceptions file (relative to this file)", "--exceptions"),
    Key(
        "allowed-registries",
        _strings(),
        "registries (host or host/path prefix) images may come from",
        "--allowed-registries",
    ),
    Key(
        "fail-on",
        {"enum": list(FAIL_ON)},
        "exit 1 when a finding at or above this severity fails",
        "--fail-on",
        "high",
    ),
    Key(
        "pod-templates",
        _strings(pattern=TEMPLATE_PATH),
        "extra CRD kinds carrying a pod template, KIND.GROUP=path.to.template",
        "--pod-template",
    ),
    Key(
        "kubernetes-version",
        {"type": "string", "pattern": f"^{KUBERNETES_VERSION.pattern}$"},
        "the clusters' Kubernetes minor version, e.g. '1.30' (quoted)",
        note="default Pod Security Standards version of `pss evaluate`",
    ),
    Key(
        "policies",
        {"type": "string", "minLength": 1},
        "directory of user policies: ValidatingAdmissionPolicies, Gatekeeper templates and constraints"
        " (relative to this file)",
        "--policies",
    ),
    Key(
        "secret-entropy-threshold",
        {"type": "number", "exclusiveMinimum": 0, "maximum": 8},
        "Shannon entropy (bits per character) above which a literal value looks like a secret",
        "--secret-entropy-threshold",
        3.5,
    ),
    Key(
        "frameworks",
        _strings(enum=list(framework_ids())),
        "only rules mapped to these frameworks (e.g. cis-1.10)",
        "--framework",
    ),
)
KEY_BY_NAME: Mapping[str, Key] = {key.name: key for key in KEYS}


@dataclass(frozen=True, slots=True)
class ProjectConfig:
    """A validated configuration; ``None`` is "not set". ``lines``: key → line it was set on."""

    path: Path | None = None
    rules: tuple[str, ...] | None = None
    skip_rules: tuple[str, ...] | None = None
    severity: Mapping[str, Severity] | None = None
    exceptions: Path | None = None
    allowed_registries: tuple[str, ...] | None = None
    fail_on: str | None = None
    pod_templates: tuple[str, ...] | None = None
    kubernetes_version: str | None = None
    policies: Path | None = None
    secret_entropy_threshold: float | None = None
    frameworks: tuple[str, ...] | None = None
    lines: Mapping[str, int | None] = field(default_factory=dict)

    def value(self, key: str) -> object:
        return getattr(self, KEY_BY_NAME[key].attribute)

    def origin(self, key: str) -> str | None:
        """``FILE:LINE`` where ``key`` was set, or None when the file does not set it."""
        if self.path is None or self.value(key) is None:
            return None
        line = self.lines.get(key)
        return f"{self.path}:{line}" if line else str(self.path)

    def scan_options(self, base: ScanOptions | None = None) -> ScanOptions:
        """``base`` (default: a default scan) with this configuration's values where it sets them."""
        base = base or ScanOptions()
        threshold = self.secret_entropy_threshold
        return dataclasses.replace(
            base,
            rules=self.rules if self.rules is not None else base.rules,
            skip_rules=self.skip_rules if self.skip_rules is not None else base.skip_rules,
            frameworks=self.frameworks if self.frameworks is not None else base.frameworks,
            waivers=str(self.exceptions) if self.exceptions is not None else base.waivers,
            policies=[str(self.policies)] if self.policies is not None else base.policies,
            pod_templates=self.pod_templates if self.pod_templates is not None else base.pod_templates,
            severity_overrides=self.severity if self.severity is not None else base.severity_overrides,
            config=RuleConfig(
                allowed_registries=self.allowed_registries or base.config.allowed_registries,
                secret_entropy_threshold=threshold if threshold is not None else base.config.secret_entropy_threshold,
            ),
        )


def load_config(path: Path) -> ProjectConfig:
    """Read and validate ``path``; raises :class:`~stockade.errors.ConfigFileError`."""
    raw = read_raw_config(path)
    values: dict[str, object] = {}
    for name, value in raw.values.items():
        key = KEY_BY_NAME.get(str(name))
        if key is None:
            _fail(raw, (str(name),), f"unknown key{did_you_mean(str(name), KEY_BY_NAME)}")
        values[key.attribute] = _VALIDATORS[key.name](raw, key.name, value)
    lines = {str(name): raw.line((str(name),)) for name in raw.values}
    return ProjectConfig(path=path, lines=lines, **values)  # type: ignore[arg-type]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the configuration (what ``stockade config schema`` prints)."""
    properties: dict[str, Any] = {}
    for key in KEYS:
        text = key.description + (f"; command line: {key.flag}" if key.flag else "")
        properties[key.name] = {**key.schema, "description": text}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Stockade project configuration (.stockade.yaml, or [tool.stockade] in pyproject.toml)",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }


# -- validation ------------------------------------------------------------------------------------
def _fail(raw: RawConfig, steps: tuple[str | int, ...], message: str) -> NoReturn:
    line = raw.line(steps) or raw.line(steps[:1])
    where = f"{raw.path}:{line}" if line else str(raw.path)
    raise ConfigFileError(f"{where}: {steps[0]}: {message}")


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    names: dict[type, str] = {str: "a string", list: "a list", dict: "a mapping"}
    return names.get(type(value), type(value).__name__)


def _string_list(check: Callable[[str], object] | None = None) -> Callable[[RawConfig, str, object], object]:
    def validate(raw: RawConfig, name: str, value: object) -> tuple[str, ...]:
        if not isinstance(value, list):
            _fail(raw, (name,), f"expected a list of strings, found {_type_name(value)}")
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                _fail(raw, (name, index), f"item {index + 1}: expected a non-empty string, found {item!r}")
            if check is not None:
                try:
                    check(item.strip())
                except (ValueError, StockadeError) as exc:
                    _fail(raw, (name, index), str(exc))
        return tuple(item.strip() for item in value)

    return validate


def _string(raw: RawConfig, name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        _fail(raw, (name,), f"expected a non-empty string, found {_type_name(value)}")
    return value.strip()


def _rule_token(token: str) -> None:
    if token.upper().startswith(f"{POLICY_FAMILY}-"):
        return  # a user policy's rule: the policies are read with the scan, which checks it
    try:
        select(ScanOptions(rules=[token]))
    except StockadeError:
        choices = [*rule_aliases(load_rules()), *FAMILIES, *AREAS, "all"]
        raise ValueError(
            f"{token!r} is not a rule id, name, family, area or 'all'{did_you_mean(token, choices)}"
        ) from None


def _framework(name: str) -> None:
    if name not in framework_ids():
        raise ValueError(f"unknown framework {name!r}{did_you_mean(name, framework_ids())}")


def _template_path(value: str) -> None:
    parse_template_path_option(value)


def _registry(value: str) -> None:
    parse_registry_pattern(value)


def _severity(raw: RawConfig, name: str, value: object) -> Mapping[str, Severity]:
    if not isinstance(value, dict):
        _fail(raw, (name,), f"expected a mapping of rule id or name to severity, found {_type_name(value)}")
    resolved: dict[str, Severity] = {}
    for rule, severity in value.items():
        if not isinstance(severity, str):
            _fail(raw, (name, str(rule)), f"{rule}: expected one of {', '.join(_SEVERITIES)}, found {severity!r}")
        try:
            resolved.update(severity_overrides({str(rule): severity}))
        except StockadeError as exc:
            _fail(raw, (name, str(rule)), str(exc))
    return resolved


def _relative_path(kind: str) -> Callable[[RawConfig, str, object], Path]:
    def validate(raw: RawConfig, name: str, value: object) -> Path:
        path = raw.path.parent / _string(raw, name, value)
        exists = path.is_dir() if kind == "directory" else path.is_file()
        if not exists:
            _fail(raw, (name,), f"no {kind} {str(path)!r}")
        return path

    return validate


def _fail_on(raw: RawConfig, name: str, value: object) -> str:
    if value not in FAIL_ON:
        _fail(raw, (name,), f"expected one of {', '.join(FAIL_ON)}, found {value!r}")
    return str(value)


def _kubernetes_version(raw: RawConfig, name: str, value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        _fail(raw, (name,), f"write the version as a string, e.g. '1.30' (a bare {value} is read as a number)")
    text = _string(raw, name, value)
    if not KUBERNETES_VERSION.fullmatch(text):
        _fail(raw, (name,), f"expected a version such as '1.30', found {text!r}")
    return text.removeprefix("v")


def _threshold(raw: RawConfig, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(raw, (name,), f"expected a number of bits per character, found {_type_name(value)}")
    if not 0.0 < value <= 8.0:
        _fail(raw, (name,), f"must be more than 0 and at most 8 bits per character, found {value}")
    return float(value)


_VALIDATORS: Mapping[str, Callable[[RawConfig, str, object], object]] = {
    "rules": _string_list(_rule_token),
    "skip-rules": _string_list(_rule_token),
    "severity": _severity,
    "exceptions": _relative_path("file"),
    "allowed-registries": _string_list(_registry),
    "fail-on": _fail_on,
    "pod-templates": _string_list(_template_path),
    "kubernetes-version": _kubernetes_version,
    "policies": _relative_path("directory"),
    "secret-entropy-threshold": _threshold,
    "frameworks": _string_list(_framework),
}
