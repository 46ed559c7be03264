"""`stockade scan` end to end: real files, real sources, every exit code and format."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from stockade.cli.main import main
from stockade.rules import load_rules

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo"
SCHEMA = json.loads((ROOT / "src" / "stockade" / "schemas" / "findings-v1.schema.json").read_text())

PRIVILEGED = """\
apiVersion: v1
kind: Pod
metadata: {name: bad, namespace: shop}
spec:
  containers:
    - name: c
      image: registry.example.com/app:1.0
      securityContext:
        privileged: true
"""
CLEAN = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {LOG_LEVEL: info}
"""


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["scan", "--no-progress", *args])
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(path)


def test_exit_0_when_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = scan(capsys, write(tmp_path, "ok.yaml", CLEAN))
    assert code == 0
    assert "1 resources scanned" in out or "1 resource" in out


def test_exit_1_on_findings_at_fail_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "bad.yaml", PRIVILEGED)
    assert scan(capsys, path)[0] == 1
    assert scan(capsys, path, "--rules", "WL-011")[0] == 0  # only a low finding: below the default fail-on
    assert scan(capsys, path, "--rules", "WL-011", "--fail-on", "low")[0] == 1
    assert scan(capsys, path, "--fail-on", "none")[0] == 0


@pytest.mark.parametrize(
    "args",
    [
        ["--rules", "NOPE-999"],
        ["--framework", "iso-27001"],
        ["--format", "pdf"],
        ["--fail-on", "severe"],
        ["--rules", "WL-001", "--skip-rules", "WL-001"],
        ["--pod-template", "garbage"],
        ["--allowed-registries", " , "],
        ["--secret-entropy-threshold", "12"],
    ],
)
def test_exit_2_on_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["scan", write(tmp_path, "bad.yaml", PRIVILEGED), *args])
    assert exc.value.code == 2
    assert "stockade: error:" in capsys.readouterr().err


def test_exit_2_without_paths(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["scan"])
    assert exc.value.code == 2


def test_exit_2_on_malformed_exceptions_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path, "ex.yaml", "exceptions:\n  - rule: WL-001\n")  # no reason
    with pytest.raises(SystemExit) as exc:
        main(["scan", write(tmp_path, "bad.yaml", PRIVILEGED), "--exceptions", bad])
    assert exc.value.code == 2
    assert "'reason' is required" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["scan", write(tmp_path, "bad.yaml", PRIVILEGED), "--exceptions", str(tmp_path / "missing.yaml")])


def test_exit_3_beats_1_when_input_unreadable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path, "bad.yaml", PRIVILEGED)
    broken = write(tmp_path, "broken.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n")
    code, out, _ = scan(capsys, bad, broken, "-f", "json")
    assert code == 3
    report = json.loads(out)
    assert any(e["source"].endswith("broken.yaml") for e in report["errors"])
    assert any(f["resource"]["name"] == "bad" for f in report["findings"]), "the rest of the scan went on"


def test_missing_path_is_unreadable_not_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = scan(capsys, str(tmp_path / "nope.yaml"), "-f", "json")
    assert code == 3
    assert json.loads(out)["errors"]


def test_non_kubernetes_files_are_skipped_with_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    compose = write(tmp_path, "docker-compose.yml", "version: '3'\nservices:\n  web: {image: nginx}\n")
    code, out, _ = scan(capsys, compose, write(tmp_path, "ok.yaml", CLEAN), "-f", "json")
    assert code == 0
    skipped = json.loads(out)["skipped_inputs"]
    assert skipped and "docker-compose.yml" in skipped[0]["source"] and "apiVersion" in skipped[0]["reason"]


def test_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(PRIVILEGED.encode())))
    code, out, _ = scan(capsys, "-", "-f", "json")
    assert code == 1
    findings = json.loads(out)["findings"]
    assert {f["location"]["file"] for f in findings} == {"<stdin>"}
    assert any(f["rule"]["id"] == "WL-001" for f in findings)


def test_exact_line_of_the_offending_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "multi.yaml", CLEAN + "---\n" + PRIVILEGED)
    _, out, _ = scan(capsys, path, "-f", "json", "--rules", "WL-001")
    (finding,) = json.loads(out)["findings"]
    # CLEAN has 4 lines, the separator 1; `privileged: true` is line 9 of PRIVILEGED.
    assert finding["location"] == {"file": path, "line": 4 + 1 + 9}


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "junit", "markdown", "html"])
def test_every_format_on_the_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    output = tmp_path / f"report.{fmt}"
    code, _, _ = scan(capsys, str(DEMO), "-f", fmt, "-o", str(output), "--exceptions", str(DEMO / "exceptions.yaml"))
    assert code == 1
    text = output.read_text()
    assert "node-debug" in text
    assert "demo-only" not in text, "a secret value leaked into the report"
    if fmt == "json":
        jsonschema.validate(json.loads(text), SCHEMA)


def test_json_compliance_summary_for_framework(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = scan(capsys, str(DEMO), "-f", "json", "--framework", "cis-1.10")
    report = json.loads(out)
    jsonschema.validate(report, SCHEMA)
    (cis,) = report["compliance"]
    assert cis["id"] == "cis-1.10"
    statuses = {c["id"]: c["status"] for c in cis["controls"]}
    assert statuses["5.2.2"] == "fail"  # node-debug runs privileged
    assert all(RULE_IN_CIS(f["rule"]) for f in report["findings"])
    assert code == 1


def RULE_IN_CIS(rule: dict[str, object]) -> bool:
    frameworks = rule["frameworks"]
    assert isinstance(frameworks, dict)
    return "cis-1.10" in frameworks


def test_demo_exceptions_are_applied_expired_and_stale(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = scan(capsys, str(DEMO), "-f", "json", "--exceptions", str(DEMO / "exceptions.yaml"))
    report = json.loads(out)
    excepted = {(f["rule"]["id"], f["resource"]["name"]) for f in report["findings"] if f["status"] == "excepted"}
    assert ("WL-003", "log-shipper") in excepted  # exceptions file, not yet expired
    assert ("WL-009", "log-shipper") in excepted  # annotation with a reason
    expired = [f for f in report["findings"] if f["exception"] and f["exception"]["expired"]]
    assert [(f["rule"]["id"], f["status"]) for f in expired] == [("WL-015", "fail")]
    assert [s["name"] for s in report["stale_exceptions"]] == ["old-node-exporter*"]


def test_allowed_registries_turns_on_the_registry_rule(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = scan(capsys, str(DEMO), "-f", "json", "--rules", "IM-003")
    assert json.loads(out)["skipped_rules"][0]["id"] == "IM-003"
    _, out, _ = scan(
        capsys, str(DEMO), "-f", "json", "--rules", "IM-003", "--allowed-registries", "registry.shop.example"
    )
    report = json.loads(out)
    assert not report["skipped_rules"]
    assert {f["resource"]["name"] for f in report["findings"]} >= {"postgres", "node-debug", "hello"}


def test_an_invalid_image_entry_in_allowed_registries_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        scan(capsys, str(DEMO), "--allowed-registries", "registry.shop.example,registry.shop.example/App:1")
    assert exit_info.value.code == 2
    assert "'registry.shop.example/App:1' has a tag or digest but is not a valid image reference" in (
        capsys.readouterr().err
    )


def test_kubectl_plugin_entry_point_is_installed() -> None:
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [str(bin_dir / "kubectl-stockade"), "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout.startswith("stockade ")


def test_rules_docs_are_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "docs", str(ROOT / "docs" / "rules"), "--check"]) == 0, capsys.readouterr().err


def test_rules_list_text_is_aligned_and_marks_opt_in_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rules = load_rules()
    assert len(lines) == len(rules)
    rows = [re.fullmatch(r"(\S+) +(\S+) +(\S+) +(\S+) +(\S.*?)  +(\S.*)", line) for line in lines]
    assert all(rows), lines
    # id, name, severity, stage, area and title each start at one place on every line.
    for group in range(1, 7):
        assert len({m.start(group) for m in rows if m}) == 1, group
    wl001 = next(m for m in rows if m and m[1] == "WL-001")
    assert wl001.groups()[1:5] == ("privileged-container", "critical", "crawl", "container privileges")
    opt_in = {m[1] for m in rows if m and m[6].endswith(" (opt-in)")}
    assert opt_in and opt_in == {rule_id for rule_id, rule in rules.items() if not rule.default}


def test_rules_list_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "list", "--framework", "cis-1.10", "-f", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed and all("cis-1.10" in r["frameworks"] for r in listed)
    assert main(["rules", "explain", "host-path-volume"]) == 0
    text = capsys.readouterr().out
    assert "# WL-009 host-path-volume" in text and "## Use instead" in text
    with pytest.raises(SystemExit) as exc:
        main(["rules", "explain", "WL-999"])
    assert exc.value.code == 2


def test_console_script_writes_complete_reports_and_exit_codes(tmp_path: Path) -> None:
    """The installed command: a long report through a pipe and to a file, and the exit codes."""
    bad = write(
        tmp_path,
        "bad.yaml",
        PRIVILEGED * 1 + "".join(f"---\n{PRIVILEGED.replace('bad', f'bad{i}')}" for i in range(300)),
    )
    stockade = str(Path(sys.executable).parent / "stockade")
    piped = subprocess.run([stockade, "scan", bad, "-f", "json"], capture_output=True, text=True, check=False)
    assert piped.returncode == 1
    assert len(json.loads(piped.stdout)["findings"]) > 300
    output = tmp_path / "report.sarif"
    to_file = subprocess.run(
        [stockade, "scan", bad, "-f", "sarif", "-o", str(output)], capture_output=True, check=False
    )
    assert to_file.returncode == 1
    assert json.loads(output.read_text())["version"] == "2.1.0"
    broken = subprocess.run([stockade, "scan", str(tmp_path / "missing.yaml")], capture_output=True, check=False)
    assert broken.returncode == 3
