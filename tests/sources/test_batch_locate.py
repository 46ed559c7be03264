"""Lines for a whole scan's findings at once: a large batch is split over two processes, and the
answer is the same as asking one request at a time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from stockade.model.resource import Origin
from stockade.sources.files import collect_paths
from stockade.sources.locate import LineLocator
from tests.helpers import run_fresh_python


def _write_corpus(root: Path, files: int, documents: int) -> None:
    for number in range(files):
        parts = []
        for document in range(documents):
            # Documents of different lengths, so that every document's lines differ.
            extra = "".join(f"    k{pad}: v\n" for pad in range((number + document) % 5))
            parts.append(
                f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{number}-{document}\n"
                f"  labels:\n{extra}    app: x\ndata:\n  key: value\n"
            )
        (root / f"file{number}.yaml").write_text("---\n".join(parts))


def _requests(root: Path) -> list[tuple[Origin, tuple[str | int, ...]]]:
    result = collect_paths([str(root)], parallel=False)
    assert not result.errors
    paths: list[tuple[str | int, ...]] = [("data", "key"), ("metadata", "labels", "app"), ()]
    return [(r.origin, path) for r in result.resources for path in paths]


def test_a_batch_gives_the_same_lines_split_or_not(tmp_path: Path) -> None:
    _write_corpus(tmp_path, files=6, documents=80)
    requests = _requests(tmp_path)
    one_by_one = [LineLocator().locate(origin, path) for origin, path in requests]
    assert LineLocator().locate_all(requests, parallel=False) == one_by_one
    assert LineLocator().locate_all(requests, parallel=True) == one_by_one
    # The lines are the fields' own, not the documents' starts.
    data_lines = one_by_one[0::3]
    assert all(line > origin.line for line, (origin, _) in zip(data_lines, requests[0::3], strict=True))
    assert one_by_one[2::3] == [origin.line for origin, _ in requests[2::3]]


_FORK_COUNT = """
import json, os, sys, threading
from stockade.sources.files import collect_paths
from stockade.sources.locate import LineLocator

forks = []
os.register_at_fork(before=lambda: forks.append(threading.active_count()))
result = collect_paths([sys.argv[1]], parallel=False)
requests = [(r.origin, ("data", "key")) for r in result.resources]
serial = LineLocator().locate_all(requests, parallel=False)
stop = threading.Event()
other = threading.Thread(target=stop.wait)
other.start()
threaded = LineLocator().locate_all(requests, parallel=True)
forks_threaded = len(forks)
stop.set()
other.join()
alone = LineLocator().locate_all(requests, parallel=True)
print(json.dumps({"same": serial == threaded == alone, "forks_threaded": forks_threaded, "forks": forks}))
"""


def test_only_a_single_threaded_process_forks_for_lines(tmp_path: Path) -> None:
    _write_corpus(tmp_path, files=4, documents=60)
    report = run_fresh_python(_FORK_COUNT, str(tmp_path))
    assert report["same"]
    assert report["forks_threaded"] == 0
    assert report["forks"] == [1]


_CHILDREN = """
import json, os
from stockade.sources.forking import start_forked

def broken():
    raise RuntimeError("the child's work failed")

answers = []
for work in (lambda: b"answer" * 100_000, broken, lambda: os._exit(3)):  # the first fills a pipe
    wait = start_forked(work)
    answers.append(None if wait is None else wait())
print(json.dumps([None if a is None else len(a) for a in answers]))
"""


def test_a_child_that_fails_gives_none_and_one_that_answers_gives_its_bytes() -> None:
    # A fresh interpreter: this one may hold threads of earlier tests, and then nothing forks.
    done = subprocess.run([sys.executable, "-c", _CHILDREN], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [600_000, None, None]
    assert "the child's work failed" not in done.stderr  # the child leaves quietly
