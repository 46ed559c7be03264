"""User policies: what one evaluation costs, which CEL library, and a 10,000-object scan with ten
policies added.

    python benchmarks/bench_policies.py                 # everything below
    python benchmarks/bench_policies.py --quick         # a short look (fewer evaluations, no scan)

1. **CEL library.** The expression of a typical ValidatingAdmissionPolicy on a realistic
   Deployment, evaluated with ``common-expression-language`` (the ``cel`` package, through
   Stockade's environment) and with ``cel-python`` (``celpy``) when it is installed
   (``pip install cel-python`` in the same virtualenv; not a dependency): median and p99 per
   evaluation, and compile time.
2. **Per evaluation, as rules run them.** ``CompiledVap.evaluate`` for a VAP with variables and
   a binding (benchmarks/policies/cel ``no-privileged``) and ``Constraint.evaluate`` for the
   Gatekeeper library's requiredlabels template with its Rego engine (the worker process round
   trip included) and with its CEL engine.
3. **Scan.** ``stockade.scan`` of the generated 10,000-object corpus (benchmarks/gen_corpus.py)
   with the default rules, then with the ten VAPs of benchmarks/policies/cel added (best of
   ``--repeat``, wall time in this process).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POLICIES = ROOT / "benchmarks" / "policies" / "cel"
GATEKEEPER = ROOT / "tests" / "data" / "gatekeeper" / "general" / "requiredlabels"
EXPRESSION = (
    "object.spec.template.spec.containers.all(c, !has(c.securityContext) ||"
    " !has(c.securityContext.privileged) || c.securityContext.privileged != true)"
)


def deployment(containers: int = 3) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "checkout", "namespace": "shop", "labels": {"app": "checkout", "team": "payments"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "checkout"}},
            "template": {
                "metadata": {"labels": {"app": "checkout"}},
                "spec": {
                    "serviceAccountName": "checkout",
                    "containers": [
                        {
                            "name": f"c{n}",
                            "image": f"registry.example.com/shop/c{n}:1.{n}.0",
                            "ports": [{"containerPort": 8080}],
                            "env": [{"name": "MODE", "value": "prod"}, {"name": "PORT", "value": "8080"}],
                            "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}},
                            "securityContext": {"allowPrivilegeEscalation": False, "privileged": False},
                        }
                        for n in range(containers)
                    ],
                },
            },
        },
    }


def timed(function: Callable[[], object], count: int) -> tuple[float, float]:
    """Median and p99 of ``count`` calls, in microseconds."""
    for _ in range(min(200, count)):
        function()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    samples.sort()
    return statistics.median(samples) * 1e6, samples[int(len(samples) * 0.99)] * 1e6


def cel_libraries(count: int) -> None:
    from stockade.policies.cel import CelEnvironment

    obj = deployment()
    print("\n## 1. CEL library: one expression, one Deployment\n")
    print("| library | compile | median | p99 |")
    print("|---|---|---|---|")
    started = time.perf_counter()
    environment = CelEnvironment(("object",))
    compiled = environment.compile(EXPRESSION, "bench")
    compile_ms = (time.perf_counter() - started) * 1000
    median, p99 = timed(lambda: environment.run(compiled, {"object": obj}), count)
    print(
        f"| common-expression-language (Stockade's environment) | {compile_ms:.2f} ms | {median:.1f} µs | {p99:.1f} µs |"
    )
    try:
        import celpy  # type: ignore[import-not-found]
    except ImportError:
        print("| cel-python | not installed (`pip install cel-python` to compare) | | |")
        return
    started = time.perf_counter()
    env = celpy.Environment()
    program = env.program(env.compile(EXPRESSION))
    compile_ms = (time.perf_counter() - started) * 1000
    activation = {"object": celpy.json_to_cel(obj)}
    assert bool(program.evaluate(activation)) is True
    median_py, p99_py = timed(lambda: program.evaluate({"object": celpy.json_to_cel(obj)}), max(200, count // 10))
    print(
        f"| cel-python (conversion of the object included) | {compile_ms:.2f} ms | {median_py:.1f} µs | {p99_py:.1f} µs |"
    )
    median_pre, p99_pre = timed(lambda: program.evaluate(activation), max(200, count // 10))
    print(f"| cel-python (object converted once) | | {median_pre:.1f} µs | {p99_pre:.1f} µs |")
    print(f"\ncommon-expression-language is {median_py / median:.0f}× faster per evaluation (median).")


def per_evaluation(count: int) -> None:
    from stockade.model.inventory import Inventory
    from stockade.model.resource import Origin, resource_from_raw
    from stockade.policies.gatekeeper import bind_constraint, compile_template
    from stockade.policies.load import read_policies
    from stockade.policies.request import policy_request
    from stockade.rules.base import RuleContext

    resource = resource_from_raw(deployment(), Origin("bench"))
    assert not isinstance(resource, str)
    ctx = RuleContext.of(Inventory([resource]))
    request = policy_request(resource, ctx)
    policies = {p.name: p for p in read_policies([POLICIES]).policies}
    vap = policies["no-privileged"]
    print("\n## 2. One evaluation, as a rule runs it\n")
    print("| policy | engine | median | p99 |")
    print("|---|---|---|---|")
    median, p99 = timed(lambda: vap.judge(request, ctx), count)
    print(f"| VAP no-privileged (2 variables, 1 validation), same object | CEL | {median:.1f} µs | {p99:.1f} µs |")
    # A new object each time: its conversion to CEL values is paid once per object (the other
    # policies judging it reuse it).
    fresh = [policy_request(resource, ctx) for _ in range(count + 200)]
    fresh = [dataclasses.replace(r, object=copy.deepcopy(r.object)) for r in fresh]
    pending = iter(fresh)
    median, p99 = timed(lambda: vap.judge(next(pending), ctx), count)
    print(f"| VAP no-privileged, a new object each time | CEL | {median:.1f} µs | {p99:.1f} µs |")
    template = compile_template(yaml.safe_load((GATEKEEPER / "template.yaml").read_text()), "template.yaml")
    raw = yaml.safe_load((GATEKEEPER / "samples" / "all-must-have-owner" / "constraint.yaml").read_text())
    namespace = resource_from_raw(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"owner": "nobody"}}},
        Origin("bench"),
    )
    assert not isinstance(namespace, str)
    asked = policy_request(namespace, RuleContext.of(Inventory([namespace])))
    for engine in template.engines:
        constraint = bind_constraint(template, raw, "constraint.yaml", engine)
        assert constraint.evaluate(asked).violations, "the sample namespace breaks the policy"
        median, p99 = timed(lambda c=constraint: c.evaluate(asked), count)  # type: ignore[misc]
        print(f"| Gatekeeper requiredlabels (a Namespace, one violation) | {engine} | {median:.1f} µs | {p99:.1f} µs |")


def scan_with_policies(repeat: int) -> None:
    import stockade
    from benchmarks.bench_scan import ensure_corpora

    corpus = ensure_corpora()["generated-10k"]
    print(f"\n## 3. Scan of {corpus.name} (best of {repeat})\n")
    print("| rules | objects | findings | wall |")
    print("|---|---|---|---|")
    for label, options in (
        ("default rules", stockade.ScanOptions()),
        ("default rules + 10 VAPs", stockade.ScanOptions(policies=[POLICIES])),
    ):
        best = float("inf")
        result = None
        for _ in range(repeat):
            started = time.perf_counter()
            result = stockade.scan([stockade.FileSource([str(corpus)])], options)
            best = min(best, time.perf_counter() - started)
        assert result is not None and not result.errors
        print(f"| {label} | {result.resources_scanned:,} | {len(result.findings):,} | {best:.2f} s |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer evaluations and no scan")
    parser.add_argument("--repeat", type=int, default=3, help="scans per configuration (best kept)")
    args = parser.parse_args()
    count = 500 if args.quick else 5000
    cel_libraries(count)
    per_evaluation(count)
    if not args.quick:
        scan_with_policies(args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
