"""The project configuration from the command line: found from the working directory, flags over
the file over the defaults, `config show` and `config schema`, and errors that exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stockade.cli.main import main
from tests.helpers import PLAIN_POD


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository (its .git ends the upward search) with a manifest; the working directory is a
    folder inside it, as when a user runs stockade from a subdirectory."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "pod.yaml").write_text(PLAIN_POD)
    monkeypatch.chdir(tmp_path / "k8s")
    return tmp_path


def _configure(project: Path, text: str) -> None:
    (project / ".stockade.yaml").write_text(text)


def _scan(*flags: str) -> int:
    return main(["scan", "pod.yaml", "--no-progress", "-f", "json", "-o", "report.json", *flags])


def test_skip_rules_and_fail_on_from_the_file_change_the_exit_code(project: Path) -> None:
    assert _scan() == 1  # WL-002 is high
    _configure(project, "skip-rules: [WL-002]\n")
    assert _scan() == 0
    _configure(project, "skip-rules: [WL-002]\nfail-on: medium\n")
    assert _scan() == 1


def test_a_flag_wins_over_the_file(project: Path) -> None:
    _configure(project, "skip-rules: [WL-002]\nfail-on: medium\n")
    assert _scan("--fail-on", "critical") == 0
    # A flag repeating the default still wins; a list flag replaces the file's list.
    assert _scan("--fail-on", "high") == 0
    assert _scan("--fail-on", "high", "--skip-rules", "IM-001") == 1


def test_no_config_and_an_explicit_config(project: Path, tmp_path: Path) -> None:
    _configure(project, "skip-rules: [WL-002]\n")
    assert _scan("--no-config") == 1
    other = project / "strict.yaml"
    other.write_text("fail-on: low\nskip-rules: [WL-002]\n")
    assert _scan("--config", str(other)) == 1
    assert _scan("--config", str(other), "--fail-on", "high") == 0


def test_severity_override_reaches_the_report_and_the_gate(project: Path) -> None:
    _configure(project, "skip-rules: [WL-002]\nseverity: {image-tag-latest: critical}\nfail-on: critical\n")
    assert _scan() == 1
    report = json.loads((project / "k8s" / "report.json").read_text())
    assert {f["rule"]["severity"] for f in report["findings"] if f["rule"]["id"] == "IM-001"} == {"critical"}


def test_pyproject_variant(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.stockade]\nskip-rules = ['WL-002']\n")
    assert _scan() == 0


def test_config_show_names_each_origin(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _configure(project, "skip-rules: [WL-002]\nfail-on: medium\nkubernetes-version: '1.29'\n")
    assert main(["config", "show", "--rules", "WL,IM"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["configuration"] == "configuration file: ../.stockade.yaml"
    assert lines["skip-rules"].split()[1:] == ["WL-002", "../.stockade.yaml:1"]
    assert lines["fail-on"].split()[1:] == ["medium", "../.stockade.yaml:2"]
    assert lines["rules"].split()[1:] == ["WL,IM", "--rules"]
    assert lines["secret-entropy-threshold"].split()[1:] == ["3.5", "default"]
    assert "Pod Security Standards version" in lines["kubernetes-version"]


def test_config_show_json(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _configure(project, "fail-on: medium\n")
    assert main(["config", "show", "-f", "json", "--secret-entropy-threshold", "4"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["file"] == "../.stockade.yaml"
    assert shown["settings"]["fail-on"] == {"value": "medium", "origin": "../.stockade.yaml:1"}
    assert shown["settings"]["secret-entropy-threshold"] == {"value": 4.0, "origin": "--secret-entropy-threshold"}
    assert shown["settings"]["rules"] == {"value": [], "origin": "default"}


def test_config_show_without_a_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("configuration file: none\n")
    assert "fail-on                   high" in out


def test_config_schema_prints_the_shipped_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "schema"]) == 0
    shipped = Path(__file__).resolve().parents[2] / "src" / "stockade" / "schemas" / "config-v1.schema.json"
    assert json.loads(capsys.readouterr().out) == json.loads(shipped.read_text())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "fail-on: high\nskip-rule: [WL-002]\n",
            ".stockade.yaml:2: skip-rule: unknown key (did you mean 'skip-rules'?)",
        ),
        ("fail-on: 3\n", ".stockade.yaml:1: fail-on: expected one of"),
        ("rules: [\n", ".stockade.yaml"),
    ],
)
def test_a_bad_file_exits_2_naming_file_line_and_key(
    project: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    _configure(project, text)
    with pytest.raises(SystemExit) as exited:
        _scan()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("stockade: error: ")
    assert message in err
    assert "Traceback" not in err


def test_config_and_no_config_exclude_each_other(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _scan("--config", "x.yaml", "--no-config")
    assert exited.value.code == 2
    assert "--config and --no-config exclude each other" in capsys.readouterr().err


def test_a_missing_config_file_exits_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _scan("--config", "absent.yaml")
    assert exited.value.code == 2
    assert "absent.yaml: cannot read" in capsys.readouterr().err


def test_kubernetes_version_is_the_pss_default_version(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["pss", "evaluate", "pod.yaml", "--level", "baseline", "--no-progress"]
    _configure(project, "kubernetes-version: '1.22'\n")
    main(argv)
    assert {json.loads(line)["version"] for line in capsys.readouterr().out.splitlines()} == {"v1.22"}
    main([*argv, "--version", "v1.25"])
    assert {json.loads(line)["version"] for line in capsys.readouterr().out.splitlines()} == {"v1.25"}
