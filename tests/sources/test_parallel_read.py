"""Reading on two cores gives exactly what reading on one gives: objects, errors, skips, order."""

from __future__ import annotations

import os
from pathlib import Path

from stockade.sources.files import _worker_share, collect_paths
from tests.vendored import vendored

CORPUS = vendored("corpus", "real-world")


def test_same_result_in_the_same_order(tmp_path: Path) -> None:
    (tmp_path / "a-broken.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: [\n")
    (tmp_path / "b-compose.yml").write_text("services:\n  web: {image: nginx}\n")
    (tmp_path / "c-binary.yaml").write_bytes(b"\x00\x01\x02")
    os.symlink(CORPUS / "microservices-demo" / "kubernetes-manifests" / "adservice.yaml", tmp_path / "d-link.yaml")
    paths = [
        str(CORPUS / "kube-prometheus"),
        str(tmp_path),
        str(CORPUS / "microservices-demo" / "kubernetes-manifests" / "adservice.yaml"),
    ]
    serial = collect_paths(paths, parallel=False)
    parallel = collect_paths(paths, parallel=True)
    assert parallel.resources == serial.resources
    assert parallel.errors == serial.errors
    assert parallel.skipped == serial.skipped
    assert len(serial.resources) > 100 and len(serial.errors) == 2
    assert any("same file as" in s.reason for s in serial.skipped)  # the link read twice is reported once


def test_worker_takes_the_tail_half_by_size() -> None:
    sizes = {0: 10, 1: 10, 2: 10, 3: 70}
    assert _worker_share(sizes, True) == {3}
    assert _worker_share({0: 5, 1: 5, 2: 5, 3: 5}, True) == {2, 3}
    assert _worker_share(sizes, False) == set()
    assert _worker_share({0: 1}, True) == set()
