"""What each fast path buys: a benchmark run as shipped, and with one fast path taken out.

    python benchmarks/bench_fastpaths.py                          # every benchmark, 5 rounds
    python benchmarks/bench_fastpaths.py --rounds 7 --only scan-realworld-x20

The product has no switches: a variant is a fresh process (this file with ``--child``) that
replaces one function of the installed package with its plain equivalent, then runs the CLI
exactly as ``stockade`` does (``python -m stockade.cli.main`` for the shipped code) or calls the
public ``stockade.scan``. Runs are interleaved (every variant once, then again, ``--rounds``
times) so that load from other work on the machine falls on all of them alike; the best run of
each is compared. CLI runs are timed as whole processes (wall time and peak RSS from ``wait4``);
API runs time the ``stockade.scan`` call. The corpora are bench_scan.py's.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = HERE / "corpus-generated"
SHIPPED = "shipped"


# -- variants: each takes one fast path out (runs in the child, before the scan) ------------------


def _no_fork() -> None:
    """Every file parsed in the scanning process."""
    import stockade.sources.files as files

    files._worker_share = lambda sizes, parallel: set()


def _pickled_share(items: Any, limits: Any) -> bytes:
    """The worker's share sent back pickled, whole: SourceResults with their Resources."""
    import pickle

    from stockade.sources.files import read_input

    return pickle.dumps([(index, read_input(item, limits)) for index, item in items])


def _no_marshal() -> None:
    """The worker's results pickled instead of sent as plain marshalled data."""
    import pickle

    import stockade.sources.files as files

    files._read_share = _pickled_share
    files._decode_share = lambda blob: iter(pickle.loads(blob))


def _no_gc_switch() -> None:
    """The cyclic collector left on everywhere (the CLI's switch and the RBAC index build's pause)."""
    import gc

    gc.disable = lambda: None


def _no_quick_normalize() -> None:
    """Every document walked in Python instead of the orjson check first."""
    import stockade.sources.normalize as normalize

    normalize._quick_ok = lambda value, max_depth: False


def _no_line_fork() -> None:
    """Every finding's line looked up in the scanning process (no forked helper for large batches)."""
    import stockade.sources.locate as locate

    locate.PARALLEL_MIN_DOCUMENTS = sys.maxsize


def _lookbehind_octal() -> None:
    """The octal-literal pre-check as first written: a pattern that starts with a lookbehind, so
    the regex engine tries every position instead of jumping between zeros."""
    import re

    import stockade.sources.compat as compat
    import stockade.sources.yamlload as yamlload

    pattern = re.compile(r"(?<![0-9])0[0-7]++(?=[ \t]*+(?:[\n,\]}#]|\Z))")

    def has_octal_candidate(text: str, start: int = 0, end: int | None = None) -> bool:
        stop = len(text) if end is None else end
        return any(compat._value_position(text, m.start()) for m in pattern.finditer(text, start, stop))

    compat.has_octal_candidate = has_octal_candidate
    yamlload.has_octal_candidate = has_octal_candidate


VARIANTS: dict[str, Callable[[], None]] = {
    "fork": _no_fork,
    "marshal": _no_marshal,
    "gc": _no_gc_switch,
    "quicknormalize": _no_quick_normalize,
    "linefork": _no_line_fork,
    "octal": _lookbehind_octal,
}
# "cligc": the CLI without its own gc.disable() (the RBAC index build still pauses the collector).


@dataclass(frozen=True)
class Bench:
    name: str
    args: list[str]  # CLI arguments, or [corpus] for an API benchmark
    fast_paths: tuple[str, ...]
    api: bool = False


def _scan(corpus: str) -> list[str]:
    return ["scan", str(CORPUS / corpus), "--rules", "all", "-f", "json", "-o", os.devnull]


BENCHMARKS = (
    Bench("scan-generated-10k", _scan("generated-10k"), ("gc", "cligc", "quicknormalize", "linefork", "octal")),
    Bench(
        "scan-realworld-x20",
        _scan("realworld-x20"),
        ("fork", "marshal", "gc", "cligc", "quicknormalize", "linefork", "octal"),
    ),
    Bench("scan-small", _scan("small.yaml"), ("gc",)),
    Bench("api-scan-generated-10k", [str(CORPUS / "generated-10k")], ("gc", "quicknormalize"), api=True),
    Bench("api-scan-realworld-x20", [str(CORPUS / "realworld-x20")], ("gc", "fork"), api=True),
    Bench("api-rbac-index-build", ["rbac"], ("gc",), api=True),
)


# -- the child -----------------------------------------------------------------------------------


def child(variant: str, api: bool, args: list[str]) -> None:
    if variant in VARIANTS:
        VARIANTS[variant]()
    if api and args == ["rbac"]:
        print(*_rbac_build())
        return
    if api:
        import stockade

        started, cpu = time.perf_counter(), time.process_time()
        stockade.scan([stockade.FileSource(args)], stockade.ScanOptions())
        print(f"{time.perf_counter() - started:.6f} {time.process_time() - cpu:.6f}")
        return
    from stockade.cli import main as cli

    if variant == "cligc":  # main() given argv leaves the collector on: only the library's own pause
        sys.exit(cli.main(args))
    sys.argv = ["stockade", *args]
    sys.exit(cli.main())


def _rbac_build() -> tuple[float, float]:
    """(wall, CPU) seconds of ``RbacIndex.build`` over bench_rbac.py's generated cluster."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.gen_rbac_cluster import generate
    from stockade.model.inventory import Inventory
    from stockade.model.resource import Origin, Resource, resource_from_raw
    from stockade.rbac import RbacIndex

    resources = []
    for position, raw in enumerate(generate(5_000, 2_000, 2_000)):
        item = resource_from_raw(raw, Origin("generated", position))
        assert isinstance(item, Resource)
        resources.append(item)
    inventory = Inventory(resources)
    started, cpu = time.perf_counter(), time.process_time()
    RbacIndex.build(inventory)
    return time.perf_counter() - started, time.process_time() - cpu


# -- the parent ----------------------------------------------------------------------------------


def run_once(bench: Bench, variant: str) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MB) of one run."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", variant]
    command += ["--api", "--", *bench.args] if bench.api else ["--", *bench.args]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{bench.name} {variant}: exit code {code}")
    if bench.api:
        wall, cpu = (float(field) for field in out.split()[:2])
    else:
        cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024


def measure(bench: Bench, rounds: int) -> Iterator[str]:
    variants = [SHIPPED, *bench.fast_paths]
    best: dict[str, tuple[float, float, float]] = {}
    for round_number in range(rounds):
        shift = round_number % len(variants)  # each variant takes each place in the order in turn
        for variant in variants[shift:] + variants[:shift]:
            wall, cpu, rss = run_once(bench, variant)
            old = best.get(variant, (float("inf"), float("inf"), 0.0))
            best[variant] = (min(old[0], wall), min(old[1], cpu), max(old[2], rss))
    wall, cpu, rss = best[SHIPPED]
    for variant in bench.fast_paths:
        wall_without, cpu_without, rss_without = best[variant]
        yield (
            f"| {variant} | {bench.name} | {wall:.2f} / {wall_without:.2f} | {_gain(wall, wall_without)} "
            f"| {cpu:.2f} / {cpu_without:.2f} | {_gain(cpu, cpu_without)} | {rss:.0f} / {rss_without:.0f} |"
        )


def _gain(with_it: float, without: float) -> str:
    """Time saved by the fast path, as a share of the time without it."""
    return f"{(without - with_it) / without:+.0%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", action="append", default=[], metavar="BENCH")
    parser.add_argument("--child", metavar="VARIANT", help=argparse.SUPPRESS)
    parser.add_argument("--api", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.api, args.rest)
        return
    sys.path.insert(0, str(ROOT))
    from benchmarks.bench_scan import ensure_corpora

    ensure_corpora()
    print("| fast path | benchmark | wall s with / without | gain | CPU s with / without | gain | peak MB |")
    print("|---|---|---|---|---|---|---|")
    for bench in BENCHMARKS:
        if args.only and bench.name not in args.only:
            continue
        for line in measure(bench, args.rounds):
            print(line, flush=True)
    with contextlib.suppress(OSError):
        load = os.getloadavg()
        print(f"\nbest of {args.rounds} interleaved runs; load average at the end {load[0]:.1f}")


if __name__ == "__main__":
    main()
