"""Snapshots and configuration files are read within a size limit, and special files are refused."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import orjson
import pytest

from stockade.errors import ConfigFileError
from stockade.sources.configfile import MAX_CONFIG_BYTES, read_config_file
from stockade.sources.limits import DEFAULT_LIMITS, ParseLimits
from stockade.sources.snapshot import SnapshotSource, collect_snapshot


def stockade(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stockade.cli.main", *arguments, "--no-progress"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def gzip_bomb(path: Path, expanded: int) -> Path:
    """A valid gzip file of a few hundred KB that expands to ``expanded`` bytes of JSON-ish text."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (1024 * 1024)
    parts = [packer.compress(b'{"kind": "ClusterSnapshot", "items": [')]
    for _ in range(expanded // len(block)):
        parts.append(packer.compress(block))
    parts.append(packer.compress(b"]}") + packer.flush())
    path.write_bytes(b"".join(parts))
    return path


def test_a_gzip_bomb_snapshot_stops_at_the_limit(tmp_path: Path) -> None:
    bomb = gzip_bomb(tmp_path / "bomb.json.gz", DEFAULT_LIMITS.max_file_bytes + 2 * 1024 * 1024)
    assert bomb.stat().st_size < 1024 * 1024
    result = collect_snapshot(bomb)
    limit = DEFAULT_LIMITS.max_file_bytes
    message = f"cannot read snapshot: it expands to more than {limit} bytes, over the {limit}-byte limit"
    assert [(e.message, e.kind) for e in result.errors] == [(message, "limit")]
    assert result.resources == []


def test_a_small_limit_applies_to_the_expanded_size_and_the_file_size(tmp_path: Path) -> None:
    limits = ParseLimits(max_file_bytes=100_000)
    bomb = gzip_bomb(tmp_path / "bomb.json.gz", 2 * 1024 * 1024)
    assert "expands to more than 100000 bytes" in SnapshotSource(bomb, limits).collect().errors[0].message
    plain = tmp_path / "big.json"
    plain.write_bytes(orjson.dumps({"kind": "ClusterSnapshot", "items": ["x" * 200_000]}))
    assert SnapshotSource(plain, limits).collect().errors[0].message == (
        f"cannot read snapshot: it is {plain.stat().st_size} bytes, over the 100000-byte limit"
    )
    # Under the limit, the same kind of file reads as before.
    small = tmp_path / "small.json.gz"
    small.write_bytes(gzip.compress(b'{"apiVersion": "stockade.io/v1alpha1", "kind": "ClusterSnapshot", "items": []}'))
    assert SnapshotSource(small, limits).collect().errors == []


def test_snapshot_from_dev_zero_is_refused_at_once() -> None:
    started = time.monotonic()
    result = collect_snapshot("/dev/zero")
    assert time.monotonic() - started < 1
    assert [e.message for e in result.errors] == ["cannot read snapshot: it is a character device, not a regular file"]
    done = stockade("scan", "--snapshot", "/dev/zero")
    assert done.returncode == 3, done.stderr
    assert "/dev/zero" in done.stdout + done.stderr
    assert "it is a character device, not a regular file" in done.stdout + done.stderr


def test_snapshot_from_a_fifo_without_a_writer_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "snapshot.json"
    os.mkfifo(fifo)
    started = time.monotonic()
    result = collect_snapshot(fifo)
    assert time.monotonic() - started < 1
    assert [e.message for e in result.errors] == ["cannot read snapshot: it is a FIFO, not a regular file"]


def test_exceptions_from_dev_zero_is_a_usage_error() -> None:
    with pytest.raises(ConfigFileError) as raised:
        read_config_file("/dev/zero")
    assert str(raised.value) == "/dev/zero: cannot read (it is a character device, not a regular file)"
    done = stockade("scan", "examples/demo", "--exceptions", "/dev/zero")
    assert done.returncode == 2, done.stderr
    assert "stockade: error: /dev/zero: cannot read (it is a character device" in done.stderr


def test_exceptions_from_a_fifo_with_a_writer_or_none_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "exceptions.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigFileError, match="it is a FIFO, not a regular file"):
        read_config_file(str(fifo))

    def write_forever() -> None:  # a writer that never stops: must not be read from either
        try:
            with open(fifo, "wb") as out:
                while True:
                    out.write(b"a" * 65536)
        except OSError:
            return

    writer = threading.Thread(target=write_forever, daemon=True)
    writer.start()
    with pytest.raises(ConfigFileError, match="it is a FIFO, not a regular file"):
        read_config_file(str(fifo))
    # Open and close the read end once so the writer sees a broken pipe and ends.
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    os.close(reader)
    writer.join(timeout=5)


def test_an_oversized_exceptions_file_names_the_file(tmp_path: Path) -> None:
    big = tmp_path / "exceptions.yaml"
    big.write_bytes(b"# padding\n" * (MAX_CONFIG_BYTES // 10 + 1))
    with pytest.raises(ConfigFileError) as raised:
        read_config_file(str(big))
    assert str(raised.value) == (
        f"{big}: cannot read (it is {big.stat().st_size} bytes, over the {MAX_CONFIG_BYTES}-byte limit)"
    )
