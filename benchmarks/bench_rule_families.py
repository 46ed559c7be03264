"""Time of the IM, SA, NS, SC and NP rule families over a 10,000-object inventory.

Run: ``python benchmarks/bench_rule_families.py [--resources 10000] [--repeat 3]`` from the
repository root, with the project venv. The corpus is the generated one of ``gen_corpus.py``
(kept in benchmarks/corpus-generated/generated-<N>); reading it is not timed. Each rule is evaluated alone
over a fresh Inventory (so per-inventory indexes are built inside the timing), then every family
together. Figures go to stdout as a Markdown table (median of ``--repeat`` runs).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import stockade  # noqa: E402
from benchmarks.gen_corpus import generate  # noqa: E402
from stockade.engine.evaluate import evaluate  # noqa: E402
from stockade.model.inventory import Inventory  # noqa: E402
from stockade.model.resource import Resource  # noqa: E402
from stockade.rules import load_rules  # noqa: E402
from stockade.rules.base import Rule, RuleConfig  # noqa: E402

FAMILIES = ("IM", "SA", "NS", "SC", "NP")
CONFIG = RuleConfig(allowed_registries=("registry.example.com", "ghcr.io/acme/"))


def timed(resources: Sequence[Resource], rules: list[Rule], repeat: int) -> tuple[float, int]:
    walls = []
    findings = 0
    for _ in range(repeat):
        inventory = Inventory(resources)
        _ = inventory.pod_templates  # shared by every rule; built by the engine before any rule runs
        start = time.perf_counter()
        result = evaluate(inventory, rules, config=CONFIG)
        walls.append(time.perf_counter() - start)
        findings = len(result.findings)
    return statistics.median(walls), findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    corpus = HERE / "corpus-generated" / f"generated-{args.resources // 1000}k"
    if not corpus.exists():
        generate(args.resources, corpus)
    resources = stockade.collect(stockade.FileSource([str(corpus)])).resources
    rules = [r for r in load_rules().values() if r.family in FAMILIES]
    templates = len(Inventory(resources).pod_templates)
    print(f"{len(resources)} objects, {templates} pod templates, median of {args.repeat}\n")
    print("| rule | ms | findings |\n|---|---:|---:|")
    for rule in rules:
        wall, findings = timed(resources, [rule], args.repeat)
        print(f"| {rule.id} {rule.name} | {wall * 1000:.1f} | {findings} |")
    wall, findings = timed(resources, rules, args.repeat)
    print(f"| all {len(rules)} rules | {wall * 1000:.1f} | {findings} |")


if __name__ == "__main__":
    main()
