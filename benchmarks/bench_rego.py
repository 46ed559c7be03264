"""Gatekeeper policies with the Rego engine: what one evaluation costs, and a 10,000-object scan.

    python benchmarks/bench_rego.py                 # everything below
    python benchmarks/bench_rego.py --quick         # fewer evaluations, no scan

1. **Per evaluation.** ``Constraint.evaluate`` for the Gatekeeper library's requiredlabels template
   (tests/data/gatekeeper/general/requiredlabels, constraint ``all-must-have-owner``) on a Namespace
   that breaks it and on one that does not: the worker-process round trip (JSON both ways) and
   rego-cpp's evaluation, median and p99. The same with the template's CEL engine for comparison.
2. **Scan.** ``stockade.scan`` of the generated 10,000-object corpus (benchmarks/gen_corpus.py)
   with the default rules, then with the example policies (examples/policies: two Gatekeeper
   templates, whose Rego engine runs, and one ValidatingAdmissionPolicy) added: wall time (best
   of ``--repeat``) and the Rego evaluations it took.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_policies import timed  # noqa: E402 - after the path is set

REQUIRED_LABELS = ROOT / "tests" / "data" / "gatekeeper" / "general" / "requiredlabels"
EXAMPLES = ROOT / "examples" / "policies"


def namespace(labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": labels}}


def per_evaluation(count: int) -> None:
    from stockade.model.inventory import Inventory
    from stockade.model.resource import Origin, resource_from_raw
    from stockade.policies.gatekeeper import bind_constraint, compile_template
    from stockade.policies.request import policy_request
    from stockade.rules.base import RuleContext

    started = time.perf_counter()
    template = compile_template(yaml.safe_load((REQUIRED_LABELS / "template.yaml").read_text()), "template.yaml")
    compile_ms = (time.perf_counter() - started) * 1000
    raw = yaml.safe_load((REQUIRED_LABELS / "samples" / "all-must-have-owner" / "constraint.yaml").read_text())
    print(f"\n## 1. requiredlabels, one evaluation (Constraint.evaluate; template compiled in {compile_ms:.0f} ms)\n")
    print("| object | engine | violations | median | p99 |")
    print("|---|---|---|---|---|")
    for label, labels in (
        ("Namespace without a valid owner", {"owner": "nobody"}),
        ("Namespace with a valid owner", {"owner": "user.agilebank.demo"}),
    ):
        resource = resource_from_raw(namespace(labels), Origin("bench"))
        assert not isinstance(resource, str)
        request = policy_request(resource, RuleContext.of(Inventory([resource])))
        for engine in template.engines:
            constraint = bind_constraint(template, raw, "constraint.yaml", engine)
            outcome = constraint.evaluate(request)
            assert outcome.error is None, outcome.error
            median, p99 = timed(lambda c=constraint, r=request: c.evaluate(r), count)  # type: ignore[misc]
            print(f"| {label} | {engine} | {len(outcome.violations)} | {median:.1f} µs | {p99:.1f} µs |")


def scan_with_policies(repeat: int) -> None:
    import stockade
    from benchmarks.bench_scan import ensure_corpora
    from stockade.policies import rego

    corpus = ensure_corpora()["generated-10k"]
    print(f"\n## 2. Scan of {corpus.name} (best of {repeat})\n")
    print("| rules | objects | findings | POL- findings | Rego evaluations | wall |")
    print("|---|---|---|---|---|---|")
    calls = [0]
    original = rego.RegoWorker.violations

    def counted(self: rego.RegoWorker, *args: Any, **kwargs: Any) -> list[Any]:
        calls[0] += 1
        return original(self, *args, **kwargs)

    rego.RegoWorker.violations = counted  # type: ignore[method-assign]
    for label, options in (
        ("default rules", stockade.ScanOptions()),
        ("default rules + examples/policies", stockade.ScanOptions(policies=[EXAMPLES])),
    ):
        best = float("inf")
        result = None
        for _ in range(repeat):
            calls[0] = 0
            started = time.perf_counter()
            result = stockade.scan([stockade.FileSource([str(corpus)])], options)
            best = min(best, time.perf_counter() - started)
        assert result is not None and not result.errors
        policy_findings = sum(1 for f in result.findings if f.rule_id.startswith("POL-"))
        print(
            f"| {label} | {result.resources_scanned:,} | {len(result.findings):,} | {policy_findings:,}"
            f" | {calls[0]:,} | {best:.2f} s |"
        )
    rego.RegoWorker.violations = original  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer evaluations and no scan")
    parser.add_argument("--repeat", type=int, default=3, help="scans per configuration (best kept)")
    args = parser.parse_args()
    per_evaluation(500 if args.quick else 5000)
    if not args.quick:
        scan_with_policies(args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
