"""Item 3: output paths. Special files are written through, never replaced; a final symbolic link is
never followed; regular files are replaced atomically; ``rules docs`` touches only its own files."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from stockade.cli.docs_dir import MANIFEST
from stockade.cli.main import main
from stockade.outputs import OutputPathError, write_output

POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec: {containers: [{name: web, image: nginx:1.27}]}\n"


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "pod.yaml"
    path.write_text(POD)
    return path


def drain(source: int | Path, into: bytearray) -> threading.Thread:
    """Read ``source`` (a descriptor, or a FIFO opened in the thread: opening blocks until a writer
    comes) to its end in a thread."""

    def read() -> None:
        with open(source, "rb") as stream:
            into.extend(stream.read())

    thread = threading.Thread(target=read)
    thread.start()
    return thread


def test_snapshot_to_dev_null_leaves_the_device(manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = os.stat("/dev/null")
    assert main(["snapshot", "--no-progress", str(manifest), "-o", "/dev/null"]) == 0
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino and after.st_mode == before.st_mode
    assert "wrote 1 objects to /dev/null" in capsys.readouterr().err


def test_snapshot_streams_into_a_fifo(manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = bytearray()
    reader = drain(fifo, received)
    code = main(["snapshot", "--no-progress", str(manifest), "-o", str(fifo)])
    reader.join(timeout=30)
    assert code == 0, capsys.readouterr().err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert b'"kind":"ClusterSnapshot"' in bytes(received)


def test_a_proc_fd_link_to_a_pipe_is_written_through(manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    read_end, write_end = os.pipe()
    received = bytearray()
    reader = drain(read_end, received)
    try:
        code = main(["scan", "--no-progress", "-f", "json", "-o", f"/proc/self/fd/{write_end}", str(manifest)])
    finally:
        os.close(write_end)
    reader.join(timeout=30)
    assert code in (0, 1), capsys.readouterr().err
    assert b'"schema":"stockade.findings/v1"' in bytes(received)


def test_scan_refuses_a_symlink_and_leaves_its_target(
    manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    link = tmp_path / "link.html"
    link.symlink_to(victim)
    with pytest.raises(SystemExit) as exit_info:
        main(["scan", "--no-progress", "-f", "html", "-o", str(link), str(manifest)])
    assert exit_info.value.code == 2
    assert "symbolic link" in capsys.readouterr().err
    assert victim.read_text() == "precious\n" and link.is_symlink()


def test_a_dangling_symlink_is_refused_too(tmp_path: Path) -> None:
    link = tmp_path / "snap.json"
    link.symlink_to(tmp_path / "elsewhere" / "created.json")
    with pytest.raises(OutputPathError, match="symbolic link"):
        write_output(link, b"data")
    assert not (tmp_path / "elsewhere").exists()


def test_a_regular_file_is_replaced_atomically_and_a_hard_link_keeps_the_old_text(
    manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = tmp_path / "snap.json"
    snapshot.write_text("old\n")
    other_name = tmp_path / "other-name"
    os.link(snapshot, other_name)
    assert main(["snapshot", "--no-progress", str(manifest), "-o", str(snapshot)]) == 0
    assert snapshot.stat().st_mode & 0o777 == 0o600
    assert "ClusterSnapshot" in snapshot.read_text()
    assert other_name.read_text() == "old\n"  # the other name still holds the old file: nothing written through
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other-name", "pod.yaml", "snap.json"]  # no temp file left


def test_a_directory_target_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OutputPathError, match="is a directory"):
        write_output(tmp_path, b"x")


def test_rules_docs_leaves_files_it_did_not_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "NOTES.md").write_text("my notes\n")
    (tmp_path / "README.md").write_text("# My project\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["rules", "docs", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "README.md" in capsys.readouterr().err
    assert (tmp_path / "README.md").read_text() == "# My project\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["NOTES.md", "README.md"]  # nothing written


def test_rules_docs_removes_only_what_its_manifest_lists(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "NOTES.md").write_text("my notes\n")
    assert main(["rules", "docs", str(tmp_path)]) == 0
    listed = (tmp_path / MANIFEST).read_text()
    assert "WL-001.md" in listed and "NOTES.md" not in listed
    # A page it wrote for a rule that no longer exists goes; the notes stay.
    (tmp_path / "XX-999.md").write_text("old page\n")
    (tmp_path / MANIFEST).write_text(listed + "XX-999.md\n../escape.md\n")
    assert main(["rules", "docs", str(tmp_path)]) == 0
    assert not (tmp_path / "XX-999.md").exists()
    assert (tmp_path / "NOTES.md").read_text() == "my notes\n"
    assert main(["rules", "docs", str(tmp_path), "--check"]) == 0
    capsys.readouterr()


def test_rules_docs_does_not_follow_a_symlinked_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = tmp_path / "docs"
    assert main(["rules", "docs", str(docs)]) == 0
    victim = tmp_path / "victim.md"
    victim.write_text("precious\n")
    page = docs / "WL-001.md"
    page.unlink()
    page.symlink_to(victim)
    with pytest.raises(SystemExit) as exit_info:
        main(["rules", "docs", str(docs)])
    assert exit_info.value.code == 2
    assert victim.read_text() == "precious\n" and page.is_symlink()
    capsys.readouterr()
