"""Manifest loading throughput: Stockade's file source against PyYAML's libyaml loader.

Corpus: kube-prometheus + microservices-demo vendored in tests/data/corpus/real-world, then
the same files replicated into 20 namespace copies in a temporary directory (``metadata.namespace``
renamed, kustomization files left out so every file is read as plain YAML by both sides).

Three loaders over the same files:

* ``stockade``  — ``stockade.collect(stockade.FileSource(...))``, the public API (decode, split,
  yaml_rs, limits, normalisation, Resources);
* ``yaml_rs``   — bare ``yaml_rs.loads`` per file, the floor under Stockade's loader;
* ``pyyaml-c``  — ``yaml.load_all`` with ``CSafeLoader`` (libyaml), the usual Python choice.

Every loader keeps all it loaded until its timing stops (as a scanner does) and runs with the
cycle collector on, as a library caller has it (pausing it buys Stockade's reading nothing
measurable: benchmarks/RESULTS.md, fast paths).

Run: ``python benchmarks/bench_parse.py [--rounds N] [--copies N]``; best-of-N wall times.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
import yaml_rs

import stockade

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "corpus" / "real-world"
SETS = ("kube-prometheus", "microservices-demo")
_NAMESPACE = re.compile(r"^(\s*namespace:\s*)([A-Za-z0-9.-]+)\s*$", re.M)


class _PyYAMLLoader(yaml.CSafeLoader):
    """libyaml with the one extra constructor kube-prometheus needs (YAML 1.1 '=' value tag)."""


def _value_tag(loader: yaml.CSafeLoader, node: yaml.Node) -> Any:
    assert isinstance(node, yaml.ScalarNode)
    return loader.construct_scalar(node)


_PyYAMLLoader.add_constructor("tag:yaml.org,2002:value", _value_tag)


def corpus_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for name in SETS:
        files.extend(p for p in sorted((root / name).rglob("*")) if p.suffix in (".yaml", ".yml", ".json"))
    return [p for p in files if p.name != "kustomization.yaml"]


def replicate(files: list[Path], target: Path, copies: int) -> list[Path]:
    out = []
    for copy in range(1, copies + 1):
        for source in files:
            relative = source.relative_to(CORPUS)
            dest = target / f"ns-{copy:02d}" / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            text = source.read_text(encoding="utf-8")
            renamed = _NAMESPACE.sub(rf"\g<1>\g<2>-{copy:02d}", text)
            dest.write_text(renamed, encoding="utf-8")
            out.append(dest)
    return out


def _objects(doc: Any) -> int:
    """Objects in one document, counting the items of List kinds as Stockade does."""
    if not isinstance(doc, dict) or "apiVersion" not in doc or "kind" not in doc:
        return 0
    if str(doc["kind"]).endswith("List") and isinstance(doc.get("items"), list):
        return sum(1 for item in doc["items"] if isinstance(item, dict))
    return 1


# Each loader returns (objects found, everything it loaded): like a scanner, every loader keeps
# all documents until the timing stops, so freeing them is never part of the measurement.


def run_stockade(files: list[Path]) -> tuple[int, object]:
    result = stockade.collect(stockade.FileSource([str(p) for p in files]))
    assert not result.errors, result.errors[:3]
    return len(result.resources), result


def run_yaml_rs(files: list[Path]) -> tuple[int, object]:
    kept: list[Any] = []
    for path in files:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        parsed = yaml_rs.loads(text, parse_datetime=False)
        kept.extend(parsed if isinstance(parsed, list) and text.count("\n---") else [parsed])
    return sum(_objects(doc) for doc in kept), kept


def run_pyyaml(files: list[Path]) -> tuple[int, object]:
    kept: list[Any] = []
    for path in files:
        with open(path, encoding="utf-8") as handle:
            kept.extend(yaml.load_all(handle.read(), Loader=_PyYAMLLoader))
    return sum(_objects(doc) for doc in kept), kept


def best_of(rounds: int, run: Callable[[list[Path]], tuple[int, object]], files: list[Path]) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(rounds):
        gc.collect()
        started = time.perf_counter()
        count, kept = run(files)
        best = min(best, time.perf_counter() - started)
        del kept
    return best, count


def report(label: str, files: list[Path], rounds: int) -> None:
    size = sum(os.path.getsize(p) for p in files) / 1e6
    print(f"\n{label}: {len(files)} files, {size:.1f} MB, best of {rounds}")
    print(f"  {'loader':10} {'seconds':>8} {'resources':>10} {'resources/s':>12} {'MB/s':>7}")
    timings = {}
    for name, run in (("stockade", run_stockade), ("yaml_rs", run_yaml_rs), ("pyyaml-c", run_pyyaml)):
        seconds, count = best_of(rounds, run, files)
        timings[name] = seconds
        print(f"  {name:10} {seconds:8.3f} {count:10d} {count / seconds:12.0f} {size / seconds:7.1f}")
    print(f"  stockade is {timings['pyyaml-c'] / timings['stockade']:.1f}x faster than pyyaml-c; ", end="")
    print(f"its checks cost {timings['stockade'] / timings['yaml_rs']:.2f}x bare yaml_rs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()
    files = corpus_files(CORPUS)
    report("corpus (kube-prometheus + microservices-demo)", files, args.rounds)
    with tempfile.TemporaryDirectory(prefix="stockade-bench-") as tmp:
        replicated = replicate(files, Path(tmp), args.copies)
        report(f"replicated x{args.copies}", replicated, args.rounds)


if __name__ == "__main__":
    main()
