"""Reading on two cores gives exactly what reading on one gives: objects, errors, skips, order."""

from __future__ import annotations

import os
from pathlib import Path

from stockade.sources.files import _worker_share, collect_paths
from tests.helpers import run_fresh_python
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


# Run in a fresh interpreter with warnings as errors: pytest's own process may hold threads of
# earlier tests, and the question is what a fork sees. Every fork is recorded (with the number of
# threads alive at that moment) by an at-fork hook, so the test holds on any Python version, not
# only on those (3.12+) that warn about forking a threaded process.
_THREADED_SCAN = """
import json, os, sys, threading
from stockade.sources.files import collect_paths

forks = []
os.register_at_fork(before=lambda: forks.append(threading.active_count()))
paths = sys.argv[1:]

def objects(result):
    return [(r.origin, r.raw) for r in result.resources], result.errors, result.skipped

serial = objects(collect_paths(paths, parallel=False))
stop = threading.Event()
other = threading.Thread(target=stop.wait)
other.start()
threaded = objects(collect_paths(paths, parallel=True))
forks_threaded = list(forks)
stop.set()
other.join()
alone = objects(collect_paths(paths, parallel=True))
again = objects(collect_paths(paths, parallel=True))  # the first worker left no thread behind
print(json.dumps({
    "threaded_same": threaded == serial,
    "alone_same": alone == serial and again == serial,
    "objects": len(serial[0]),
    "forks_threaded": forks_threaded,
    "forks_alone": forks[len(forks_threaded):],
}))
"""


def test_a_threaded_process_reads_in_process_and_a_single_threaded_one_forks() -> None:
    paths = [str(CORPUS / "kube-prometheus"), str(CORPUS / "microservices-demo")]
    report = run_fresh_python(_THREADED_SCAN, *paths)
    assert report["objects"] > 100
    assert report["threaded_same"] and report["alone_same"]
    assert report["forks_threaded"] == []  # a second thread was running: no fork
    assert report["forks_alone"] == [1, 1]  # one worker per scan, forked while single-threaded
