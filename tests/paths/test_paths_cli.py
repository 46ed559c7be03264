"""`stockade paths` and `scan --rank-by-risk` end to end: files in, every format and exit code out."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import orjson
import pytest

from stockade.cli.main import main
from stockade.paths import Analysis
from stockade.report.paths import render_graph
from tests.paths.support import Raw, analysis_of, container, deployment, namespace, service
from tests.paths.test_paths_end_to_end import mixed_cluster

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "src" / "stockade" / "schemas" / "findings-v1.schema.json").read_text())


def write(tmp_path: Path, objects: list[Raw], name: str = "cluster.json") -> str:
    path = tmp_path / name
    path.write_bytes(orjson.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["paths", "--no-progress", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_paths_table_lists_paths_and_the_fixes_that_cut_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, write(tmp_path, mixed_cluster()))
    assert code == 1
    assert "Service/shop/web → jewel:cluster-admin" in out
    assert "Fix these 2 to cut 100% of paths (4 of 4 entry-to-jewel pairs)" in out
    assert "NP-003 Service/shop/web spec.type" in out


def test_no_path_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    quiet = [namespace("shop"), deployment("web", automountServiceAccountToken=False)]
    code, out, _ = run(capsys, write(tmp_path, quiet))
    assert code == 0
    assert "No entry point reaches a crown jewel" in out


def test_json_is_stable_and_complete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, mixed_cluster())
    _, first, _ = run(capsys, path, "-f", "json")
    _, second, _ = run(capsys, path, "-f", "json")
    assert first == second
    data = json.loads(first)
    assert data["pairs"] == 4
    assert data["remediation"]["cut_percent"] == 100.0
    step = data["paths"][0]["edges"][0]
    assert {"from", "to", "attack", "technique", "how", "fixes"} <= set(step)
    assert all(f["fingerprint"] for f in data["remediation"]["fixes"])


def test_from_and_to(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, mixed_cluster())
    code, out, _ = run(capsys, "from", "Deployment/shop/web", path)
    assert code == 1
    assert "From Deployment/shop/web an attacker reaches" in out and "jewel:cluster-admin" in out
    code, out, _ = run(capsys, "to", "cluster-admin", path, "-f", "json")
    data = json.loads(out)
    assert data["to"] == "jewel:cluster-admin"
    assert "ServiceAccount/shop/web" in {p["from"] for p in data["paths"]}


def test_an_unknown_node_is_a_usage_error_with_a_suggestion(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, mixed_cluster())
    with pytest.raises(SystemExit) as exit_info:
        run(capsys, "from", "Deployment/shop/webb", path)
    assert exit_info.value.code == 2
    assert "did you mean 'Deployment/shop/web'" in capsys.readouterr().err


def test_unreadable_input_is_named_and_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, mixed_cluster())
    bad = tmp_path / "broken.yaml"
    bad.write_text("kind: Pod\nmetadata: {name: [unclosed\n")
    code, out, err = run(capsys, good, str(bad))
    assert code == 3
    assert "broken.yaml" in err
    assert "Service/shop/web" in out  # the rest was still read and analysed


def test_hostile_names_are_inert_in_every_format(tmp_path: Path) -> None:
    hostile = 'x"]; evil[<script>alert(1)</script>\n\u202e'
    objects = [
        namespace("shop"),
        deployment("web", containers=[container(hostile, securityContext={"privileged": True})]),
        service("web"),
    ]
    analysis: Analysis = analysis_of(objects)
    assert analysis.paths
    dot = render_graph(analysis.paths, "dot")
    mermaid = render_graph(analysis.paths, "mermaid")
    assert "<script>" not in mermaid and '"]' not in mermaid.replace('"]\n', "")
    assert "\n\u202e" not in dot and "\\u202e" in dot
    for line in dot.splitlines()[3:-1]:  # every node and edge line is one statement with quoted labels
        statement = r'\s*n\d+( -> n\d+)? \[label="(?:[^"\\]|\\.)*"(, style=filled, fillcolor="#[0-9a-f]{6}")?\];'
        assert re.fullmatch(statement, line), line


def test_scan_rank_by_risk_orders_findings_and_adds_the_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, mixed_cluster())
    code = main(["scan", "--no-progress", path, "--rank-by-risk", "-f", "json"])
    out = capsys.readouterr().out
    assert code == 1
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    assert data["attack_paths"]["pairs"] == 4
    on_paths = {r["fingerprint"] for r in data["attack_paths"]["risk"] if r["paths"]}
    assert data["findings"][0]["fingerprint"] in on_paths
    main(["scan", "--no-progress", path, "--rank-by-risk"])
    table = capsys.readouterr().out
    assert table.startswith("Findings ranked by attack-path risk")
    main(["scan", "--no-progress", path, "--rank-by-risk", "-f", "html", "-o", str(tmp_path / "r.html")])
    html = (tmp_path / "r.html").read_text()
    assert '<h2 id="attack-paths">Attack paths</h2>' in html


def test_ranking_puts_findings_on_paths_above_their_severity_peers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, mixed_cluster())
    main(["scan", "--no-progress", path, "--rank-by-risk"])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  ") and "(" in line][:20]
    scores = [int(line.split()[0]) for line in lines]
    assert scores == sorted(scores, reverse=True)
    assert "on " in lines[0]  # the riskiest finding lies on a path
