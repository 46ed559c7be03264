"""`stockade posture` end to end: the demo from files, formats, and a live cluster (fake API server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stockade.cli.main import main
from stockade.testing import FakeApiServer

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def test_the_demo_scorecard(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["posture", str(DEMO), "--no-progress", "-f", "json"]) == 0
    areas = {a["area"]: a for a in json.loads(capsys.readouterr().out)["areas"]}
    assert len(areas) == 14
    # The demo runs privileged workloads on purpose; manifests say nothing of node files.
    assert areas["container-privileges"]["summary"] == "not crawling"
    assert areas["node-files"]["summary"] == "not assessed"
    crawl = areas["container-privileges"]["stages"][0]["criteria"][0]
    assert crawl["guide"] == "G1 Prevent Container Escapes: crawl" and crawl["blockers"]
    assert main(["posture", str(DEMO), "--no-progress", "--detail"]) == 0
    out = capsys.readouterr().out
    assert "container privileges" in out and "blocks: WL-" in out
    assert main(["posture", str(DEMO), "--no-progress", "-f", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("# Posture: crawl / walk / run\n")


def test_a_live_cluster_without_add_ons_is_judged_not_merely_unseen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}]
    with FakeApiServer(objects, tls=True, token="t0ken") as server:
        kubeconfig = str(server.kubeconfig(tmp_path / "kubeconfig"))
        assert main(["posture", "--kubeconfig", kubeconfig, "--no-progress", "-f", "json"]) == 0
    areas = {a["area"]: a for a in json.loads(capsys.readouterr().out)["areas"]}
    assert areas["monitoring"]["summary"] == "not crawling"
    assert areas["admission"]["summary"] == "not crawling"


def test_scan_adds_the_scorecard_to_every_report_format(capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.resources

    import jsonschema

    def scanned(fmt: str) -> str:
        assert main(["scan", str(DEMO), "--posture", "-f", fmt, "--no-progress"]) == 1  # the demo has findings
        return capsys.readouterr().out

    document = json.loads(scanned("json"))
    schema = json.loads(importlib.resources.files("stockade.schemas").joinpath("findings-v1.schema.json").read_text())
    jsonschema.validate(document, schema)
    areas = {a["area"]: a["summary"] for a in document["posture"]["areas"]}
    assert areas["container-privileges"] == "not crawling" and areas["node-files"] == "not assessed"
    sarif = json.loads(scanned("sarif"))
    assert len(sarif["runs"][0]["properties"]["posture"]["areas"]) == 14
    assert "### Posture: crawl / walk / run" in scanned("markdown")
    assert '<section id="posture"><h2>Posture: crawl / walk / run</h2>' in scanned("html")
    assert scanned("table").startswith("container privileges")
    # Without --posture, no report carries it.
    assert main(["scan", str(DEMO), "-f", "json", "--no-progress"]) == 1
    assert "posture" not in json.loads(capsys.readouterr().out)


def test_junit_and_policyreport_carry_the_scorecard(capsys: pytest.CaptureFixture[str]) -> None:
    import xml.etree.ElementTree as ET

    import jsonschema
    import yaml

    assert main(["scan", str(DEMO), "--posture", "-f", "junit", "--no-progress"]) == 1
    root = ET.fromstring(capsys.readouterr().out)
    [suite] = [s for s in root if s.get("name") == "posture"]
    cases = {(c.get("classname"), c.get("name")): c for c in suite}
    assert len(cases) == 14 * 3 and suite.get("tests") == "42"
    assert cases[("posture.container-privileges", "crawl")].find("failure") is not None
    assert cases[("posture.node-files", "crawl")].find("skipped") is not None
    assert int(suite.get("failures", "0")) == sum(1 for c in suite if c.find("failure") is not None)

    assert main(["scan", str(DEMO), "--posture", "-f", "policyreport", "--no-progress"]) == 1
    reports = list(yaml.safe_load_all(capsys.readouterr().out))
    schema_path = Path(__file__).resolve().parents[1] / "data" / "policyreport" / "policyreport-v1alpha2.schema.json"
    validator = jsonschema.Draft202012Validator(json.loads(schema_path.read_text()))
    for report in reports:
        assert not list(validator.iter_errors(report))
    [cluster] = [r for r in reports if r["kind"] == "ClusterPolicyReport"]
    posture = [r for r in cluster["results"] if r["policy"] == "posture"]
    assert len(posture) == 42 and all(r["scored"] is False for r in posture)
    crawl = next(r for r in posture if r["rule"] == "container-privileges-crawl")
    assert crawl["result"] == "fail" and crawl["properties"]["reached"] == "not crawling"
