"""JSON report: every output validates against the published findings-v1 schema."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from stockade.report import ReportContext, render
from stockade.report.json_report import SCHEMA, SCHEMA_RESOURCE

SCHEMA_DOC = json.loads((resources.files("stockade") / SCHEMA_RESOURCE).read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA_DOC, format_checker=jsonschema.FormatChecker())


def _load(ctx: ReportContext) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render("json", ctx))
    errors = sorted(VALIDATOR.iter_errors(data), key=lambda err: list(err.absolute_path))
    assert not errors, "\n".join(f"{list(err.absolute_path)}: {err.message}" for err in errors)
    return data


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA_DOC)
    assert SCHEMA_DOC["properties"]["schema"]["const"] == SCHEMA


@pytest.mark.parametrize("name", ["full_ctx", "passed_ctx", "empty_ctx", "hostile_ctx"])
def test_output_validates(name: str, request: pytest.FixtureRequest) -> None:
    _load(request.getfixturevalue(name))


def test_schema_rejects_a_wrong_document(full_ctx: ReportContext) -> None:
    data = json.loads(render("json", full_ctx))
    data["findings"][0]["status"] = "ok"
    del data["summary"]["by_area"]
    assert len(list(VALIDATOR.iter_errors(data))) == 2


def test_content(full_ctx: ReportContext) -> None:
    data = _load(full_ctx)
    assert data["schema"] == "stockade.findings/v1"
    assert data["tool"] == {"name": "stockade", "version": "0.1.0"}
    assert data["targets"] == ["k8s/", "charts/web"]
    summary = data["summary"]
    assert summary["failed"] == sum(summary["by_severity"].values()) == summary["by_status"]["fail"]
    assert summary["failed"] == sum(1 for f in data["findings"] if f["status"] == "fail")
    assert summary["errors"] == len(data["errors"]) == 2

    privileged = next(f for f in data["findings"] if f["rule"]["id"] == "WL-001")
    assert privileged["rule"]["name"] == "privileged-container"
    assert privileged["rule"]["severity"] == "critical"
    assert privileged["rule"]["area"] == "container-privileges"
    assert privileged["rule"]["frameworks"]["cis-1.10"] == ["5.2.2"]
    assert privileged["resource"] == {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "api"}
    assert privileged["container"] == "app"
    assert privileged["path"].endswith("securityContext.privileged")
    assert privileged["exception"] is None

    expired = next(f for f in data["findings"] if f["rule"]["id"] == "WL-008")
    assert expired["status"] == "fail"
    assert expired["exception"] == {
        "source": "exceptions.yaml#2",
        "reason": "needs the node network for a packet capture",
        "expires": "2026-01-31",
        "expired": True,
    }
    annotation = next(f for f in data["findings"] if f["rule"]["id"] == "WL-006")
    assert annotation["status"] == "excepted"
    assert annotation["exception"]["source"] == "annotation"
    assert annotation["container"] is None

    assert data["errors"][0] == {
        "source": "broken/deploy.yaml",
        "line": 7,
        "object": None,
        "kind": "parse",
        "message": "mapping values are not allowed here",
    }
    assert len(data["skipped_inputs"]) == 12
    assert data["skipped_rules"] == [
        {"id": "IM-003", "reason": "no registry allow-list configured (--allowed-registries)"}
    ]
    assert [s["source"] for s in data["stale_exceptions"]] == ["exceptions.yaml#3"]
    cis = data["compliance"][0]
    assert cis["id"] == "cis-1.10"
    control = next(c for c in cis["controls"] if c["id"] == "5.2.2")
    assert control["status"] == "fail" and "WL-001" in control["rules"]


def test_pass_findings_are_listed_when_kept(passed_ctx: ReportContext) -> None:
    data = _load(passed_ctx)
    passes = [f for f in data["findings"] if f["status"] == "pass"]
    assert len(passes) == data["summary"]["passed"] > 0


def test_empty_scan(empty_ctx: ReportContext) -> None:
    data = _load(empty_ctx)
    assert data["findings"] == [] and data["errors"] == [] and data["compliance"] == []
    assert data["summary"]["resources_scanned"] == 0
