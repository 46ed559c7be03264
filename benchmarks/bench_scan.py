"""Scan throughput, memory and start-up, side by side with Checkov in the same run.

    python benchmarks/bench_scan.py            # everything (installs nothing; see `make bench`)
    python benchmarks/bench_scan.py --no-checkov

Checkov runs from its own virtualenv (benchmarks/.work/checkov-venv, created on first use) so its
pinned dependencies do not touch Stockade's. Figures go to stdout as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = HERE / "corpus-generated"  # not hidden: Checkov skips dot-directories
WORK = HERE / ".work"
CHECKOV_VENV = WORK / "checkov-venv"
CHECKOV_VERSION = "3.3.30"
STOCKADE = [sys.executable, "-m", "stockade.cli.main"]


def run(cmd: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB, exit code of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def checkov_bin() -> Path:
    binary = CHECKOV_VENV / "bin" / "checkov"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(CHECKOV_VENV)], check=True)
        subprocess.run([str(CHECKOV_VENV / "bin" / "pip"), "install", "-q", f"checkov=={CHECKOV_VERSION}"], check=True)
    return binary


def ensure_corpora() -> dict[str, Path]:
    sys.path.insert(0, str(ROOT))
    from benchmarks.gen_corpus import generate, replicate_realworld

    paths = {
        "generated-10k": CORPUS / "generated-10k",
        "realworld-x20": CORPUS / "realworld-x20",
    }
    if not paths["generated-10k"].exists():
        generate(10_000, paths["generated-10k"])
    if not paths["realworld-x20"].exists():
        replicate_realworld(20, paths["realworld-x20"])
    small = CORPUS / "small.yaml"
    if not small.exists():
        small.write_text((ROOT / "examples" / "demo" / "storefront" / "api.yaml").read_text())
    paths["small"] = small
    return paths


def count_resources(path: Path) -> int:
    import yaml

    files = [path] if path.is_file() else sorted(path.rglob("*.yaml"))
    return sum(1 for f in files for d in yaml.load_all(f.read_text(), Loader=yaml.CSafeLoader) if isinstance(d, dict))


def median_wall(cmd: list[str], repeat: int) -> tuple[float, float]:
    walls, rss = [], []
    for _ in range(repeat):
        wall, peak, _ = run(cmd)
        walls.append(wall)
        rss.append(peak)
    return statistics.median(walls), max(rss)


CORPORA = ("generated-10k", "realworld-x20", "small")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-checkov", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", action="append", choices=CORPORA, help="measure only this corpus (repeatable)")
    args = parser.parse_args()
    corpora = ensure_corpora()
    rows = []
    for name in args.only or CORPORA:
        path = corpora[name]
        resources = count_resources(path)
        repeat = 10 if name == "small" else args.repeat
        s_wall, s_rss = median_wall(
            [*STOCKADE, "scan", str(path), "--rules", "all", "-f", "json", "-o", os.devnull], repeat
        )
        row = {"corpus": name, "resources": resources, "stockade_s": s_wall, "stockade_mb": s_rss}
        if not args.no_checkov:
            checkov = checkov_bin()
            flag = "-f" if path.is_file() else "-d"
            c_wall, c_rss = median_wall(
                [
                    str(checkov),
                    flag,
                    str(path),
                    "--framework",
                    "kubernetes",
                    "-o",
                    "json",
                    "--quiet",
                    "--compact",
                ],
                1 if name != "small" else 3,
            )
            row.update(checkov_s=c_wall, checkov_mb=c_rss, ratio=c_wall / s_wall)
        rows.append(row)
        print(row, file=sys.stderr)
    print(
        "| corpus | resources | Stockade wall s | Stockade peak MB | Checkov wall s | Checkov peak MB | Stockade speed-up |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        checkov = (
            f"{r['checkov_s']:.2f} | {r['checkov_mb']:.0f} | {r['ratio']:.0f}×" if "checkov_s" in r else "– | – | –"
        )
        print(f"| {r['corpus']} | {r['resources']} | {r['stockade_s']:.2f} | {r['stockade_mb']:.0f} | {checkov} |")
    print(
        f"\nPython {sys.version.split()[0]}, {os.cpu_count()} cores, checkov {CHECKOV_VERSION}; "
        f"median of {args.repeat} Stockade runs (10 for small), {shutil.which('kubectl') and 'kubectl present'}"
    )


if __name__ == "__main__":
    main()
