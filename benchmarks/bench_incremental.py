"""Incremental evaluation at cluster scale: the engine piece of `stockade watch`, without I/O.

    python benchmarks/bench_incremental.py                      # 100,000 objects, 10,000 updates
    python benchmarks/bench_incremental.py --objects 20000 --updates 2000

The objects are bench_cluster.py's cluster (pods with full specs, Deployments, ReplicaSets,
Services, ConfigMaps, Secrets, ServiceAccounts, RoleBindings, a CRD and its objects), loaded with
``reset`` and judged by the default rule selection. Then ``--updates`` single-object updates
(Pods, Deployments and ConfigMaps flipping between two states, and every 50th one a RoleBinding,
a kind the RBAC rules read) are flushed in batches of ``--batch``, each flush not forced, as the
watcher flushes; the debounced recompute of the rules over the whole inventory is timed apart
(forced once at the end of every 2,000 updates, as a 2-second debounce at 1,000 changes a second
would run it).

Figures: the initial evaluation, per-batch flush time p50 / p99 (batches without a recompute),
the recompute time, and whether the final findings equal a fresh evaluate() of the same objects.
Exit status 1 when a batch p99 exceeds the budget (0.1 s for 100 updates: 1,000 changes a second
must keep up with room to spare) or the findings differ.
"""

from __future__ import annotations

import argparse
import copy
import gc
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_cluster import build_cluster
from benchmarks.bench_rbac import rss_mb
from stockade.api import select
from stockade.engine.evaluate import evaluate
from stockade.engine.incremental import IncrementalEvaluator
from stockade.model.inventory import Inventory
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.rules import load_rules, rule_aliases

BATCH_P99_BUDGET = 0.1
ORIGIN = Origin("cluster:bench")


def _resource(raw: dict[str, Any]) -> Resource:
    found = resource_from_raw(raw, ORIGIN)
    assert isinstance(found, Resource), found
    return found


def _flipped(raw: dict[str, Any], generation: int) -> dict[str, Any]:
    """The object in another state: privileged or not, another label, another binding subject."""
    changed = copy.deepcopy(raw)
    changed["metadata"]["resourceVersion"] = str(generation)
    kind = raw["kind"]
    if kind in ("Pod", "Deployment", "ReplicaSet"):
        spec = changed["spec"] if kind == "Pod" else changed["spec"]["template"]["spec"]
        spec["containers"][0]["securityContext"]["privileged"] = generation % 2 == 1
    elif kind == "RoleBinding":
        changed["subjects"][0]["name"] = f"sa-{generation % 50}"
    else:
        changed["metadata"].setdefault("labels", {})["generation"] = str(generation)
    return changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--recompute-every", type=int, default=2_000, help="updates between forced recomputes")
    parser.add_argument("--no-freeze", action="store_true", help="leave the findings to the cyclic collector")
    args = parser.parse_args()

    raws = build_cluster(args.objects)
    resources = [_resource(raw) for raw in raws]
    rules = select()
    aliases = rule_aliases(load_rules())
    now = [0.0]
    engine = IncrementalEvaluator(rules, rule_aliases=aliases, clock=lambda: now[0])

    started = time.perf_counter()
    engine.reset(resources)
    first = engine.flush(force=True)
    initial = time.perf_counter() - started
    rss_initial = rss_mb()
    # What a long-running watcher should do once its first evaluation is done: ~1M findings and
    # 100k objects in the permanent generation, so that the cyclic collector does not walk them
    # on every full collection (without it, one full collection is a 2-second pause in a batch).
    if not args.no_freeze:
        gc.freeze()

    rng = random.Random(12)
    local = [r for r in raws if r["kind"] in ("Pod", "Deployment", "ConfigMap")]
    bindings = [r for r in raws if r["kind"] == "RoleBinding"]
    batches: list[float] = []
    recomputes: list[float] = []
    recomputed_rules: set[str] = set()
    held = {(r["kind"], r["metadata"].get("namespace"), r["metadata"]["name"]): r for r in raws}
    done = 0
    while done < args.updates:
        for _ in range(min(args.batch, args.updates - done)):
            done += 1
            pick = rng.choice(bindings) if done % 50 == 0 else rng.choice(local)
            raw = _flipped(pick, done)
            held[(raw["kind"], raw["metadata"].get("namespace"), raw["metadata"]["name"])] = raw
            engine.upsert(_resource(raw))
        started = time.perf_counter()
        delta = engine.flush()
        batches.append(time.perf_counter() - started)
        assert not delta.recomputed
        if done % args.recompute_every == 0 or done == args.updates:
            started = time.perf_counter()
            delta = engine.flush(force=True)
            recomputes.append(time.perf_counter() - started)
            recomputed_rules |= set(delta.recomputed)

    started = time.perf_counter()
    final = [_resource(raw) for raw in held.values()]
    fresh = evaluate(Inventory(final), rules, rule_aliases=aliases, max_findings_per_rule=0)
    fresh_seconds = time.perf_counter() - started
    same = {f.fingerprint: (f.status, f.severity, f.message, f.waiver) for f in fresh.findings} == {
        f.fingerprint: (f.status, f.severity, f.message, f.waiver) for f in engine.findings()
    }

    ordered = sorted(batches)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    print(f"objects: {len(resources):,}; rules: {len(rules)} (default selection); updates: {args.updates:,}")
    print(f"gc.freeze() after the initial evaluation: {'no' if args.no_freeze else 'yes'}")
    print(f"rules recomputed when due: {', '.join(sorted(recomputed_rules)) or 'none'}\n")
    print("| step | figure |")
    print("|---|---|")
    print(f"| initial evaluation (reset + forced flush, {len(first.changed):,} findings) | {initial:.2f} s |")
    print(f"| flush of {args.batch} single-object updates, p50 | {p50 * 1000:.1f} ms |")
    print(f"| flush of {args.batch} single-object updates, p95 | {p95 * 1000:.1f} ms |")
    print(f"| flush of {args.batch} single-object updates, p99 | {p99 * 1000:.1f} ms |")
    print(f"| RSS after the initial evaluation (objects, findings) | {rss_initial:,.0f} MB |")
    print(
        f"| debounced recompute of the context rules, median of {len(recomputes)} | {statistics.median(recomputes):.2f} s |"
    )
    print(f"| debounced recompute, worst | {max(recomputes):.2f} s |")
    print(f"| for comparison: fresh evaluate() of the final objects | {fresh_seconds:.2f} s |")
    print(f"\nfinal findings equal a fresh evaluation: {'yes' if same else 'NO'}")
    ok = same and p99 <= BATCH_P99_BUDGET * args.batch / 100
    print(f"budget: batch p99 <= {BATCH_P99_BUDGET * args.batch / 100 * 1000:.0f} ms — {'within' if ok else 'OVER'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
