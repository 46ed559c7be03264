"""No transition lost or written twice: a watcher killed with SIGKILL mid-stream and restarted, and
a database that goes away for 10 seconds while findings change."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import URL

from stockade.store import FindingStore, State
from stockade.testing import FakeApiServer
from tests.watch.proxy import TcpProxy
from tests.watch.support import privileged_pod, running, wait_until

PODS = 12


def _watch_process(kubeconfig: Path, store: str, events: Path) -> subprocess.Popen[bytes]:
    log = events.with_suffix(".log").open("wb")  # the child writes it; ours closes now
    try:
        return _start(kubeconfig, store, events, log)
    finally:
        log.close()


def _start(kubeconfig: Path, store: str, events: Path, log: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from stockade.cli.main import main; raise SystemExit(main())",
            "watch",
            "--kubeconfig",
            str(kubeconfig),
            "--kinds",
            "pods",
            "--rules",
            "WL-001",
            "--store",
            store,
            "--store-cluster",
            "test",
            "--events",
            str(events),
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,  # type: ignore[arg-type]
    )


def _open_names(store: str) -> set[str]:
    with FindingStore.open(store) as opened:
        return {f.resource.name for f in opened.open_findings("test")}


def test_sigkill_mid_stream_then_restart_loses_and_repeats_nothing(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'history.db'}"
    pods = [privileged_pod(f"p{i}") for i in range(PODS)]
    truth = {f"p{i}": True for i in range(PODS)}  # privileged now?
    with FakeApiServer(pods, bookmark_interval=0.2) as server:
        config = server.kubeconfig(tmp_path / "kubeconfig")
        first = _watch_process(config, store, tmp_path / "events-1.jsonl")
        try:
            wait_until(lambda: _open_names(store) == set(truth), timeout=60, what="the first reconcile")
            flipping = threading.Event()

            def flip() -> None:
                n = 0
                while not flipping.is_set():
                    name = f"p{n % PODS}"
                    truth[name] = not truth[name]
                    server.update(privileged_pod(name, privileged=truth[name]))
                    n += 1
                    time.sleep(0.01)

            flipper = threading.Thread(target=flip)
            flipper.start()
            time.sleep(1.5)
            first.send_signal(signal.SIGKILL)  # wherever it is: mid-batch, mid-commit, mid-read
            first.wait(10)
            time.sleep(0.5)
            flipping.set()
            flipper.join()
        finally:
            if first.poll() is None:
                first.kill()
        assert first.returncode == -signal.SIGKILL
        second = _watch_process(config, store, tmp_path / "events-2.jsonl")
        try:
            expected = {name for name, privileged in truth.items() if privileged}
            wait_until(lambda: _open_names(store) == expected, timeout=60, what="the restart's reconcile")
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=20)
        assert second.returncode == 0, (tmp_path / "events-2.log").read_text()
    with FindingStore.open(store) as opened:
        history: dict[str, list[State]] = {}
        for transition in opened.transitions("test"):
            history.setdefault(transition.resource.name, []).append(transition.to_state)
    assert set(history) == set(truth)
    for name, states in history.items():
        # Each finding alternates: a transition written twice would repeat a state.
        assert all(a is not b for a, b in itertools.pairwise(states)), (name, states)
        assert states[0] is State.OPEN
        assert (states[-1] is State.OPEN) == truth[name], (name, states)
    assert sum(len(states) for states in history.values()) > PODS  # the flips were recorded


def test_a_database_outage_of_ten_seconds_loses_nothing(postgres_url: URL, tmp_path: Path) -> None:
    target = postgres_url
    with TcpProxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
        through = target.set(port=proxy.port).render_as_string(hide_password=False)
        with (
            FakeApiServer([privileged_pod("a")], bookmark_interval=0.2) as server,
            running(server, tmp_path, through) as (service, sink),
        ):
            status = service.watcher.status
            wait_until(lambda: sink.changes() == [("WL-001", "a", "opened")], what="the first reconcile")
            proxy.cut()
            cut_at = time.monotonic()
            judged = status.judged
            for step, privileged in enumerate((False, True, False), start=1):
                server.update(privileged_pod("a", privileged=privileged))
                wait_until(lambda step=step: status.judged >= judged + step, what=f"change {step} to be judged")
            assert not status.store_ok
            assert sink.changes() == [("WL-001", "a", "opened")]  # nothing told before it is stored
            time.sleep(max(0.0, 10.0 - (time.monotonic() - cut_at)))
            proxy.restore()
            wait_until(lambda: len(sink.changes()) == 4, timeout=30, what="the buffered changes")
            wait_until(lambda: status.buffered == 0, what="the count of waiting batches to catch up")
            assert status.store_ok and status.collapsed == 0
        with FindingStore.open(through) as store:
            changes = [t.change.value for t in store.transitions("test")]
            ats = [t.at for t in store.transitions("test")]
    assert changes == ["opened", "resolved", "reopened", "resolved"]
    assert ats == sorted(ats) and len(set(ats)) == 4  # each kept its own time, in order
    assert proxy.refused > 0  # the watcher did try while the database was away
