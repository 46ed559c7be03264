"""`stockade node watch`: real files changed under a real inotify watcher, each change one event."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from stockade.cli.main import main
from stockade.node.watch import FileEvent, NodeWatcher

MANIFEST = "/etc/kubernetes/manifests/kube-apiserver.yaml"
ADMIN = "/etc/kubernetes/admin.conf"


class Recorder:
    def __init__(self) -> None:
        self.events: list[FileEvent] = []
        self.lock = threading.Lock()

    def __call__(self, event: FileEvent) -> None:
        with self.lock:
            self.events.append(event)

    def wait_for(self, predicate: object, timeout: float = 5.0) -> list[FileEvent]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [e for e in self.events if predicate(e)]  # type: ignore[operator]
            if found:
                return found
            time.sleep(0.01)
        raise AssertionError(f"no matching event among {self.events}")


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[Path, Recorder]]:
    root = tmp_path / "node"
    (root / "etc/kubernetes/manifests").mkdir(parents=True)
    (root / "etc/kubernetes/pki").mkdir()
    (root / MANIFEST.lstrip("/")).write_text("kind: Pod\n")
    (root / ADMIN.lstrip("/")).write_text("kind: Config\n")
    recorder = Recorder()
    watcher = NodeWatcher(str(root), "node-1", recorder, recheck=0.05)
    watcher.start()
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    yield root, recorder
    stop.set()
    thread.join(5)


def local(root: Path, path: str) -> Path:
    return root / path.lstrip("/")


def test_a_write_is_modified_with_hashes_before_and_after(watched: tuple[Path, Recorder]) -> None:
    root, recorder = watched
    content = "kind: Pod\nspec: {}\n"
    digest = hashlib.sha256(content.encode()).hexdigest()
    local(root, MANIFEST).write_text(content)
    # Truncate, then write: the watcher may see both states; the last event carries the new content.
    event = recorder.wait_for(lambda e: e.path == MANIFEST and e.after is not None and e.after.sha256 == digest)[-1]
    assert event.event == "modified"
    assert event.before and event.after and event.before.sha256 != event.after.sha256
    assert event.node == "node-1"
    assert "spec" not in orjson.dumps(event.to_json()).decode()  # hashes, never contents


def test_chmod_and_chown_are_attribute_changes(watched: tuple[Path, Recorder]) -> None:
    root, recorder = watched
    os.chmod(local(root, ADMIN), 0o640)
    [event] = recorder.wait_for(lambda e: e.path == ADMIN and e.event == "attributes")
    assert event.after is not None and event.after.mode == "0640"
    os.chown(local(root, ADMIN), 1000, 1000)
    changed = recorder.wait_for(lambda e: e.path == ADMIN and e.after is not None and e.after.uid == 1000)
    assert changed[0].event == "attributes" and changed[0].before is not None and changed[0].before.uid == 0


def test_replace_by_rename_and_delete(watched: tuple[Path, Recorder]) -> None:
    root, recorder = watched
    new = local(root, "/etc/kubernetes/manifests/.kube-apiserver.yaml.tmp")
    new.write_text("kind: Pod\nmetadata: {name: replaced}\n")
    os.rename(new, local(root, MANIFEST))
    [event] = recorder.wait_for(lambda e: e.path == MANIFEST and e.event == "renamed")
    assert event.before is not None and event.after is not None and event.before.sha256 != event.after.sha256
    local(root, ADMIN).unlink()
    [gone] = recorder.wait_for(lambda e: e.path == ADMIN and e.event == "deleted")
    assert gone.after is None and gone.before is not None


def test_new_files_in_watched_directories(watched: tuple[Path, Recorder]) -> None:
    root, recorder = watched
    local(root, "/etc/kubernetes/pki/evil.key").write_text("key")
    # Created, then written: one or two events, the first of which is the creation.
    event = recorder.wait_for(lambda e: e.path == "/etc/kubernetes/pki/evil.key")[0]
    assert event.event == "created" and event.before is None
    local(root, "/etc/kubernetes/manifests/notes.txt").write_text("not a key file")
    time.sleep(0.2)
    assert not [e for e in recorder.events if e.path.endswith("notes.txt")]


def test_a_recreated_directory_is_watched_again(watched: tuple[Path, Recorder]) -> None:
    root, recorder = watched
    pki = local(root, "/etc/kubernetes/pki")
    pki.rmdir()
    time.sleep(0.2)
    pki.mkdir()
    recorder.wait_for(lambda e: e.path == "/etc/kubernetes/pki" and e.event == "directory-recreated")
    (pki / "ca.key").write_text("key")
    recorder.wait_for(lambda e: e.path == "/etc/kubernetes/pki/ca.key" and e.event == "created")


def test_nothing_is_missed_in_a_burst(watched: tuple[Path, Recorder]) -> None:
    """1,000 new key files in about a second (the 10-second run at 1,000/s is in benchmarks/)."""
    root, recorder = watched
    pki = local(root, "/etc/kubernetes/pki")
    for number in range(1000):
        (pki / f"burst-{number}.crt").write_text(str(number))
    expected = {f"/etc/kubernetes/pki/burst-{n}.crt" for n in range(1000)}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with recorder.lock:
            seen = {e.path for e in recorder.events if e.event == "created"}
        if expected <= seen:
            break
        time.sleep(0.05)
    assert expected <= seen, f"missed {len(expected - seen)}"


def test_the_command_writes_json_lines(tmp_path: Path) -> None:
    root = tmp_path / "node"
    (root / "etc/kubernetes").mkdir(parents=True)
    output = tmp_path / "events.jsonl"

    def change_soon() -> None:
        time.sleep(0.5)
        (root / "etc/kubernetes/admin.conf").write_text("kind: Config\n")

    threading.Thread(target=change_soon, daemon=True).start()
    code = main(["node", "watch", "--root", str(root), "--node-name", "n1", "-o", str(output), "--duration", "1.5"])
    assert code == 0
    assert oct(output.stat().st_mode & 0o777) == "0o600"
    events = [orjson.loads(line) for line in output.read_bytes().splitlines()]
    assert [(e["path"], e["event"]) for e in events][:1] == [("/etc/kubernetes/admin.conf", "created")]


@pytest.mark.parametrize("webhook_format", ["json", "slack"])
def test_changes_reach_the_watchers_webhook_sink(tmp_path: Path, webhook_format: str) -> None:
    from tests.watch.receiver import Receiver

    root = tmp_path / "node"
    (root / "etc/kubernetes").mkdir(parents=True)

    def change_soon() -> None:
        time.sleep(0.5)
        (root / "etc/kubernetes/admin.conf").touch()  # an empty file: one event, never created-then-modified

    with Receiver() as receiver:
        threading.Thread(target=change_soon, daemon=True).start()
        code = main(
            [
                "node",
                "watch",
                "--root",
                str(root),
                "--node-name",
                "n1",
                "-o",
                str(tmp_path / "events.jsonl"),
                "--duration",
                "1.5",
                "--webhook",
                receiver.url("/hook"),
                "--webhook-format",
                webhook_format,
            ]
        )
        assert code == 0
        deadline = time.monotonic() + 5
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
        [posted] = receiver.received
    body = posted.json
    if webhook_format == "json":
        assert [(e["path"], e["event"]) for e in body["events"]] == [("/etc/kubernetes/admin.conf", "created")]
    else:
        assert body["text"].startswith("Stockade: 1 file change in n1 (1 created)")
        assert "CREATED n1:/etc/kubernetes/admin.conf" in body["text"]
