"""The project configuration as a library: finding it upward, validating it, the JSON Schema agreeing
with the loader, and its values reaching a scan (severity overrides included)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

import stockade
from stockade.cli.config_cmd import ALL_KEYS
from stockade.config import KEYS, ProjectConfig, find_config, json_schema, load_config
from stockade.errors import ConfigFileError
from stockade.model.finding import Severity
from stockade.sources.files import FileSource
from tests.helpers import PLAIN_POD

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_SCHEMA = ROOT / "src" / "stockade" / "schemas" / "config-v1.schema.json"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository root (its .git ends the upward search, so nothing above tmp_path is read)."""
    (tmp_path / ".git").mkdir()
    return tmp_path


def _write(directory: Path, text: str, name: str = ".stockade.yaml") -> Path:
    path = directory / name
    path.write_text(text)
    return path


# -- finding ---------------------------------------------------------------------------------------
def test_found_from_a_nested_directory(project: Path) -> None:
    config = _write(project, "fail-on: low\n")
    nested = project / "deploy" / "base"
    nested.mkdir(parents=True)
    assert find_config(nested) == config


def test_the_nearest_file_wins_and_yaml_wins_over_pyproject(project: Path) -> None:
    _write(project, "fail-on: low\n")
    inner = project / "svc"
    inner.mkdir()
    _write(inner, "[tool.stockade]\nfail-on = 'medium'\n", "pyproject.toml")
    assert find_config(inner) == inner / "pyproject.toml"
    own = _write(inner, "fail-on: info\n")
    assert find_config(inner) == own


def test_a_pyproject_without_the_table_is_passed_over(project: Path) -> None:
    config = _write(project, "fail-on: low\n")
    inner = project / "svc"
    inner.mkdir()
    _write(inner, "[project]\nname = 'svc'\n", "pyproject.toml")
    assert find_config(inner) == config


def test_the_search_stops_at_the_repository_root(tmp_path: Path) -> None:
    _write(tmp_path, "fail-on: low\n")  # above the repository: not the project's
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    assert find_config(repo) is None


# -- loading ---------------------------------------------------------------------------------------
def test_every_key_loads_with_paths_relative_to_the_file(project: Path) -> None:
    (project / "exceptions.yaml").write_text("exceptions: []\n")
    (project / "policies").mkdir()
    path = _write(
        project,
        """\
rules: [WL, container-privileges]
skip-rules: [WL-001]
severity:
  WL-003: critical
  image-tag-latest: info
exceptions: exceptions.yaml
allowed-registries: [registry.example.com]
fail-on: medium
pod-templates: [Rollout.argoproj.io=spec.template]
kubernetes-version: "v1.30"
policies: policies
secret-entropy-threshold: 4
frameworks: [cis-1.10]
""",
    )
    config = load_config(path)
    assert config.rules == ("WL", "container-privileges")
    assert config.severity == {"WL-003": Severity.CRITICAL, "IM-001": Severity.INFO}
    assert config.exceptions == project / "exceptions.yaml"
    assert config.policies == project / "policies"
    assert config.kubernetes_version == "1.30"
    assert config.secret_entropy_threshold == 4.0
    assert config.origin("fail-on") == f"{path}:8"
    assert config.origin("frameworks") == f"{path}:13"
    assert config.origin("kubernetes-version") == f"{path}:10"
    assert {key.name for key in KEYS if config.value(key.name) is None} == set()


def test_pyproject_table_loads_with_lines(project: Path) -> None:
    path = _write(
        project,
        "[project]\nname = 'x'\n\n[tool.stockade]\nfail-on = 'low'\nskip-rules = ['WL-001']\n\n"
        "[tool.stockade.severity]\nWL-002 = 'info'\n",
        "pyproject.toml",
    )
    config = load_config(path)
    assert config.fail_on == "low"
    assert config.severity == {"WL-002": Severity.INFO}
    assert config.origin("fail-on") == f"{path}:5"
    assert config.origin("severity") == f"{path}:8"


def test_an_empty_file_sets_nothing(project: Path) -> None:
    config = load_config(_write(project, "# nothing yet\n"))
    assert all(config.value(key.name) is None for key in KEYS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "fail-on: high\nskip-rule: [WL-001]\n",
            ".stockade.yaml:2: skip-rule: unknown key (did you mean 'skip-rules'?)",
        ),
        ("rules: WL\n", ".stockade.yaml:1: rules: expected a list of strings, found a string"),
        (
            "rules:\n  - WL\n  - WL-0001\n",
            ".stockade.yaml:3: rules: 'WL-0001' is not a rule id, name, family, area or 'all' (did you mean 'WL-001'?)",
        ),
        ("severity:\n  WL-999: high\n", ".stockade.yaml:2: severity: unknown rule 'WL-999' (did you mean"),
        ("severity:\n  WL-001: urgent\n", ".stockade.yaml:2: severity: WL-001: unknown severity 'urgent'"),
        ("severity: [WL-001]\n", "severity: expected a mapping of rule id or name to severity, found a list"),
        ("fail-on: severe\n", ".stockade.yaml:1: fail-on: expected one of critical, high, medium, low, info, none"),
        ("kubernetes-version: 1.30\n", "kubernetes-version: write the version as a string, e.g. '1.30'"),
        ("kubernetes-version: '2.0'\n", "kubernetes-version: expected a version such as '1.30', found '2.0'"),
        ("exceptions: missing.yaml\n", "exceptions: no file"),
        ("policies: nowhere\n", "policies: no directory"),
        ("secret-entropy-threshold: 9\n", "secret-entropy-threshold: must be more than 0 and at most 8"),
        ("secret-entropy-threshold: 'high'\n", "secret-entropy-threshold: expected a number of bits per character"),
        ("frameworks: [cis-1.1O]\n", "frameworks: unknown framework 'cis-1.1O' (did you mean 'cis-1.10'?)"),
        ("pod-templates: [Rollout]\n", "pod-templates: expected KIND.GROUP=path.to.template"),
        ("allowed-registries: [registry.example.com/app@sha256:xyz]\n", ".stockade.yaml:1: allowed-registries:"),
        ("- fail-on\n", "expected a mapping of settings (key: value), found a list"),
        ("fail-on: [\n", ".stockade.yaml: "),
    ],
)
def test_errors_name_file_line_and_key(project: Path, text: str, message: str) -> None:
    path = _write(project, text)
    with pytest.raises(ConfigFileError) as caught:
        load_config(path)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(path))


def test_pyproject_errors_name_the_key(project: Path) -> None:
    path = _write(project, "[tool.stockade]\nfail-on = 'high'\nfail_on = 'low'\n", "pyproject.toml")
    with pytest.raises(ConfigFileError, match=r"pyproject.toml:3: fail_on: unknown key \(did you mean 'fail-on'\?\)"):
        load_config(path)


# -- the JSON Schema -------------------------------------------------------------------------------
def test_the_shipped_schema_is_the_generated_one() -> None:
    assert json.loads(SHIPPED_SCHEMA.read_text()) == json_schema()
    jsonschema.Draft202012Validator.check_schema(json_schema())


def test_the_command_line_knows_every_key() -> None:
    assert tuple(key.name for key in KEYS) == ALL_KEYS


VALID = [
    "{}",
    "rules: [WL]\nfail-on: none\n",
    "severity: {WL-001: low}\nkubernetes-version: '1.29'\nsecret-entropy-threshold: 0.5\n",
    "pod-templates: [Rollout.argoproj.io=spec.template]\nframeworks: [pss-restricted]\n",
]
INVALID = [
    "rule: [WL]\n",
    "rules: WL\n",
    "fail-on: urgent\n",
    "severity: {WL-001: urgent}\n",
    "kubernetes-version: 1.30\n",
    "kubernetes-version: 'latest'\n",
    "secret-entropy-threshold: 0\n",
    "frameworks: [nist]\n",
    "pod-templates: [Rollout]\n",
    "skip-rules: ['']\n",
]


@pytest.mark.parametrize("text", VALID)
def test_valid_examples_pass_schema_and_loader(project: Path, text: str) -> None:
    jsonschema.validate(yaml.safe_load(text), json_schema())
    load_config(_write(project, text))


@pytest.mark.parametrize("text", INVALID)
def test_invalid_examples_fail_schema_and_loader(project: Path, text: str) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(text), json_schema())
    with pytest.raises(ConfigFileError):
        load_config(_write(project, text))


# -- into a scan -----------------------------------------------------------------------------------
def scan_yaml(text: str, options: stockade.ScanOptions) -> stockade.ScanResult:
    return stockade.scan([FileSource(["-"], stdin=io.BytesIO(text.encode()))], options)


def test_scan_options_take_the_files_values(project: Path) -> None:
    config = load_config(_write(project, "skip-rules: [WL-002]\nseverity: {IM-001: critical}\n"))
    result = scan_yaml(PLAIN_POD, config.scan_options())
    failed = {f.rule_id: f.severity for f in result.failed}
    assert "WL-002" not in failed
    assert failed["IM-001"] is Severity.CRITICAL
    assert {r.id: r.severity for r in result.rules}["IM-001"] is Severity.CRITICAL
    assert result.gate("critical") == 1


def test_an_empty_configuration_changes_nothing() -> None:
    assert ProjectConfig().scan_options() == stockade.ScanOptions()


def test_severity_override_of_an_unknown_rule_is_refused() -> None:
    with pytest.raises(stockade.SelectionError, match="unknown rule 'WL-1' "):
        scan_yaml(PLAIN_POD, stockade.ScanOptions(severity_overrides={"WL-1": "high"}))


def test_the_readme_example_loads(project: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Project configuration", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    (project / ".stockade").mkdir()
    (project / ".stockade" / "exceptions.yaml").write_text("exceptions: []\n")
    config = load_config(_write(project, example))
    jsonschema.validate(yaml.safe_load(example), json_schema())
    assert config.fail_on == "medium"
    assert config.kubernetes_version == "1.30"
