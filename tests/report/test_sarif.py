"""SARIF report: valid against the official OASIS SARIF 2.1.0 schema (errata 01)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from stockade.model.finding import Status
from stockade.report import ReportContext, render
from stockade.report.sarif_report import artifact_uri

SARIF_SCHEMA = json.loads((Path(__file__).parent.parent / "data" / "sarif-2.1.0.schema.json").read_text())
VALIDATOR = jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.FormatChecker())


def _load(ctx: ReportContext) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render("sarif", ctx))
    errors = list(VALIDATOR.iter_errors(data))
    assert not errors, "\n".join(f"{list(err.absolute_path)}: {err.message}" for err in errors)
    return data


def test_schema_is_the_official_one() -> None:
    assert (
        SARIF_SCHEMA["id"]
        == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    )
    assert len(SARIF_SCHEMA["definitions"]) == 52


@pytest.mark.parametrize("name", ["full_ctx", "passed_ctx", "empty_ctx", "hostile_ctx"])
def test_output_validates(name: str, request: pytest.FixtureRequest) -> None:
    _load(request.getfixturevalue(name))


def test_validator_catches_a_broken_log(full_ctx: ReportContext) -> None:
    data = json.loads(render("sarif", full_ctx))
    data["runs"][0]["results"][0]["level"] = "fatal"
    data["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert len(list(VALIDATOR.iter_errors(data))) == 2


def test_rules_and_results(full_ctx: ReportContext) -> None:
    data = _load(full_ctx)
    assert data["version"] == "2.1.0"
    (run,) = data["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "Stockade" and driver["version"] == "0.1.0"
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [r.id for r in full_ctx.result.rules]
    wl001 = next(r for r in rules if r["id"] == "WL-001")
    assert wl001["name"] == "privileged-container"
    assert wl001["shortDescription"]["text"] == "Container runs privileged"
    assert wl001["defaultConfiguration"]["level"] == "error"
    assert wl001["properties"]["security-severity"] == "9.5"
    assert {"container-privileges", "crawl", "cis-1.10", "security"} <= set(wl001["properties"]["tags"])
    assert "```yaml" in wl001["help"]["markdown"] and "Remediation" in wl001["help"]["text"]

    results = run["results"]
    not_passed = [f for f in full_ctx.result.findings if f.status is not Status.PASS]
    assert len(results) == len(not_passed)
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert len(result["partialFingerprints"]["stockade/v1"]) == 20
    levels = {r["ruleId"]: r["level"] for r in results}
    assert levels["WL-001"] == "error" and levels["WL-012"] == "warning" and levels["WL-011"] == "note"

    first = next(r for r in results if r["ruleId"] == "WL-001")
    physical = first["locations"][0]["physicalLocation"]
    assert physical == {"artifactLocation": {"uri": "test.yaml"}, "region": {"startLine": 1}}
    assert first["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "Deployment/shop/api"

    suppressed = [r for r in results if "suppressions" in r]
    assert len(suppressed) == 3
    kinds = sorted(r["suppressions"][0]["kind"] for r in suppressed)
    assert kinds == ["external", "inSource", "inSource"]
    assert any("platform-team" in r["suppressions"][0]["justification"] for r in suppressed)
    expired = next(r for r in results if r["ruleId"] == "WL-008")
    assert "suppressions" not in expired
    assert expired["properties"]["expiredException"]["expires"] == "2026-01-31"


def test_invocation_reports_unreadable_inputs(full_ctx: ReportContext) -> None:
    (invocation,) = _load(full_ctx)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    errors = [n for n in notes if n["level"] == "error"]
    assert len(errors) == 2
    assert errors[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 7
    assert sum(1 for n in notes if n["level"] == "note") == 12  # skipped inputs
    config = invocation["toolConfigurationNotifications"]
    assert any("stale exception exceptions.yaml#3" in n["message"]["text"] for n in config)
    skipped = next(n for n in config if "IM-003" in n["message"]["text"])
    assert skipped["associatedRule"]["id"] == "IM-003"


def test_clean_run_is_successful(empty_ctx: ReportContext) -> None:
    run = _load(empty_ctx)["runs"][0]
    assert run["results"] == []
    assert run["invocations"][0]["executionSuccessful"] is True


@pytest.mark.parametrize(
    ("file", "uri"),
    [
        ("k8s/app.yaml", "k8s/app.yaml"),
        ("k8s\\win\\app.yaml", "k8s/win/app.yaml"),
        ("dir with space/a#b.yaml", "dir%20with%20space/a%23b.yaml"),
        ("/abs/app.yaml", "file:///abs/app.yaml"),
        ("C:\\repo\\app.yaml", "file:///C:/repo/app.yaml"),
        ("<stdin>", None),
        ("cluster:prod", None),
    ],
)
def test_artifact_uri(file: str, uri: str | None) -> None:
    assert artifact_uri(file) == uri
