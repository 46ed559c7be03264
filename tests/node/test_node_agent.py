"""`stockade deploy manifests --node-agent`: the DaemonSet reads the node and can do nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from stockade.cli.main import main


@pytest.fixture
def agent(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> tuple[list[dict[str, object]], Path]:
    assert main(["deploy", "manifests", "--node-agent"]) == 0
    text = capsys.readouterr().out
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    return [d for d in yaml.safe_load_all(text) if d], path


def _daemonset(objects: list[dict[str, object]]) -> dict[str, object]:
    [found] = [o for o in objects if o["kind"] == "DaemonSet"]
    return found


def test_every_host_mount_is_read_only_and_the_runtime_socket_is_not_mounted(
    agent: tuple[list[dict[str, object]], Path],
) -> None:
    spec = _daemonset(agent[0])["spec"]["template"]["spec"]  # type: ignore[index]
    [container] = spec["containers"]
    assert all(m["readOnly"] for m in container["volumeMounts"])
    paths = [v["hostPath"]["path"] for v in spec["volumes"]]
    assert not [p for p in paths if p.startswith(("/run", "/var/run")) or p == "/"]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"], "add": ["DAC_READ_SEARCH"]}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert spec["automountServiceAccountToken"] is False and not spec["hostPID"] and not spec["hostNetwork"]
    assert container["args"][:2] == ["node", "watch"]


def test_stockades_own_scan_finds_nothing_at_medium_or_above(
    agent: tuple[list[dict[str, object]], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["scan", "--no-progress", str(agent[1]), "--fail-on", "medium", "-f", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, [f["rule"]["id"] for f in report["findings"] if f["status"] == "fail"]
    excepted = {f["rule"]["id"] for f in report["findings"] if f["status"] == "excepted"}
    assert {"WL-003", "WL-009"} <= excepted  # the waivers it carries, with their reasons


def test_it_cannot_pass_baseline_and_says_why(
    agent: tuple[list[dict[str, object]], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    main(["pss", "evaluate", str(agent[1]), "--level", "baseline"])
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines() if '"DaemonSet"' in text]
    assert {v["check"] for v in line["violations"]} == {"capabilities_baseline", "hostPathVolumes"}
    namespace = next(o for o in agent[0] if o["kind"] == "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"  # type: ignore[index]
