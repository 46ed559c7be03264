"""`stockade paths --cluster`: the fake API server, the real kubernetes client, live placement."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks.gen_paths_cluster import generate

from stockade.cli.main import main
from stockade.testing import FakeApiServer


def test_live_paths_match_the_snapshot_and_use_node_placement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeApiServer(generate(400), tls=True, token="t0ken") as server:
        kubeconfig = str(server.kubeconfig(tmp_path / "kubeconfig"))
        code = main(["paths", "--no-progress", "--kubeconfig", kubeconfig, "-f", "json", "--limit", "500"])
        live = capsys.readouterr().out
        snapshot = tmp_path / "cluster.json.gz"
        assert main(["snapshot", "--no-progress", "--kubeconfig", kubeconfig, "-o", str(snapshot)]) == 0
        capsys.readouterr()
    assert code == 1
    assert main(["paths", "--no-progress", "--snapshot", str(snapshot), "-f", "json", "--limit", "500"]) == 1
    offline = capsys.readouterr().out
    assert json.loads(live) == json.loads(offline)
    data = json.loads(live)
    assert data["pairs"] > 0
    # The privileged log collector runs on every node: from a live cluster its escape lands on
    # the named nodes, and each node reaches the pods placed on it.
    main(
        [
            "paths",
            "--no-progress",
            "--snapshot",
            str(snapshot),
            "from",
            "DaemonSet/kube-system/log-collector",
            "-f",
            "json",
        ]
    )
    blast = json.loads(capsys.readouterr().out)
    assert blast["reaches"]["node"] >= 3
    steps = {(e["from"], e["to"]) for p in blast["paths"] for e in p["edges"]}
    assert any(target.startswith("Node/node-") for _, target in steps)
