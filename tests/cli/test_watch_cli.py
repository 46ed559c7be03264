"""`stockade watch` from the command line: usage errors before anything runs, and a bounded run
against the fake API server that writes events and the history."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from stockade.cli.main import main
from stockade.store import FindingStore
from stockade.testing import FakeApiServer
from tests.watch.support import privileged_pod


@pytest.fixture(autouse=True)
def _restore_signals() -> object:
    """run_watch installs SIGINT/SIGTERM handlers; put pytest's back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield None
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def _fail(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(["watch", *args])
    assert stopped.value.code == 2
    return capsys.readouterr().err


def test_usage_errors_are_said_before_anything_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeApiServer() as server:
        config = str(server.kubeconfig(tmp_path / "kubeconfig"))
        store = f"sqlite:///{tmp_path / 'h.db'}"
        err = _fail(capsys, "--kubeconfig", config, "--store", store, "--metrics-address", "nowhere")
        assert "--metrics-address 'nowhere'" in err
        err = _fail(capsys, "--kubeconfig", config, "--store", store, "--webhook", "ftp://example.com/hook")
        assert "--webhook" in err
        err = _fail(capsys, "--kubeconfig", config, "--store", store, "--rules", "NO-SUCH-RULE")
        assert "NO-SUCH-RULE" in err
        err = _fail(capsys, "--kubeconfig", config, "--store", store, "--kinds", "frobnicators")
        assert "frobnicators" in err
    err = _fail(capsys, "--kubeconfig", config, "--store", store)  # the server is gone now
    assert "cannot reach the cluster" in err
    assert _fail(capsys, "--kubeconfig", config, "--duration", "0").count("--duration") == 1


def test_a_bounded_watch_records_and_tells(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="stockade.watch")
    events, store = tmp_path / "events.jsonl", f"sqlite:///{tmp_path / 'h.db'}"
    with FakeApiServer([privileged_pod("web")], bookmark_interval=0.2) as server:
        config = str(server.kubeconfig(tmp_path / "kubeconfig"))
        args = ["--kubeconfig", config, "--store", store, "--store-cluster", "demo", "--rules", "WL-001"]
        code = main(["watch", *args, "--kinds", "pods", "--events", str(events), "--duration", "3"])
    assert code == 0, capsys.readouterr().err
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert [(e["schema"], e["cluster"], e["rule"], e["change"]) for e in lines] == [
        ("stockade.event/v1", "demo", "WL-001", "opened")
    ]
    assert lines[0]["resource"] == {"apiVersion": "v1", "kind": "Pod", "namespace": "shop", "name": "web"}
    with FindingStore.open(store) as opened:
        assert [f.resource.name for f in opened.open_findings("demo")] == ["web"]
    assert "watching 1 resource(s)" in caplog.text
