"""Named pipes, sockets and devices never block a scan: they are refused before they are opened,
and the line locator never opens anything but a regular file. Each case that could hang runs in
a subprocess with a time limit, so a regression fails the test instead of stopping the suite."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from pathlib import Path

from stockade.sources.files import collect_paths
from tests.sources.support import GOOD, write

# A hang shows as a timeout; the bound is loose for a shared machine (startup is about a second).
LIMIT = 30


def run(arguments: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(arguments, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=LIMIT, check=False)


def test_scan_of_a_named_fifo_with_no_writer_returns_at_once(tmp_path: Path) -> None:
    """The reproduction: `stockade scan pipe.yaml` blocked for ever waiting for a writer."""
    os.mkfifo(tmp_path / "pipe.yaml")
    write(tmp_path, {"good.yaml": GOOD})
    command = [sys.executable, "-m", "stockade.cli.main", "scan", "pipe.yaml", "good.yaml", "--no-progress"]
    done = run([*command, "-f", "json"], tmp_path)
    assert done.returncode == 3, done.stderr  # input that could not be read
    assert "pipe.yaml: it is a FIFO, not a regular file (only regular files are read; '-' reads standard input)" in (
        done.stderr
    )
    assert '"resources_scanned":1' in done.stdout.replace(" ", "")


def test_named_special_files_are_input_problems_naming_them(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(tmp_path / "socket.yaml"))
    try:
        result = collect_paths([str(tmp_path / "pipe.yaml"), str(tmp_path / "socket.yaml")])
    finally:
        listening.close()
    assert [(e.source, e.message.split(" (")[0], e.kind) for e in result.errors] == [
        (str(tmp_path / "pipe.yaml"), "it is a FIFO, not a regular file", "read"),
        (str(tmp_path / "socket.yaml"), "it is a socket, not a regular file", "read"),
    ]


LOCATE_AFTER_SWAP = """
import os, sys
from stockade.sources.files import collect_paths
from stockade.sources.locate import locate_line
path = sys.argv[1]
resource = collect_paths([path]).resources[0]
print(locate_line(resource.origin, ("spec", "replicas")))
os.unlink(path)
os.mkfifo(path)  # the file read by the scan is now a FIFO with no writer
print(locate_line(resource.origin, ("spec", "replicas")))
"""


def test_line_locator_never_opens_a_fifo(tmp_path: Path) -> None:
    """The file was opened a second time to find line numbers: a FIFO there blocked the report."""
    write(tmp_path, {"deploy.yaml": GOOD})
    done = run([sys.executable, "-c", LOCATE_AFTER_SWAP, str(tmp_path / "deploy.yaml")], tmp_path)
    assert done.returncode == 0, done.stderr
    # Line 7 from the file; then the document's start line: the FIFO is not opened.
    assert done.stdout.split() == ["7", "1"]


def test_standard_input_is_read_once_and_its_lines_found(tmp_path: Path) -> None:
    privileged = GOOD + "  template:\n    spec:\n      containers:\n      - name: c\n        image: nginx\n"
    privileged += "        securityContext: {privileged: true}\n"
    command = [sys.executable, "-m", "stockade.cli.main", "scan", "-", "-f", "json", "--no-progress"]
    done = run(command, tmp_path, stdin=privileged)
    assert done.returncode in (0, 1), done.stderr
    assert '"file":"<stdin>","line":13' in done.stdout.replace(" ", "")
    from_stream = collect_paths(["-"], stdin=io.BytesIO(privileged.encode()))
    assert [r.name for r in from_stream.resources] == ["good"]
