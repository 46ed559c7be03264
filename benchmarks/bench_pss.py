"""Microbenchmark of the Pod Security Standards evaluator.

Run: ``python benchmarks/bench_pss.py`` (from the repository root, with the project venv).

Reports the median time of one ``evaluate_pod`` call at baseline and restricted (policy ``latest``)
for a typical hardened pod and for a pod that violates most checks (messages and remediation patches
are built only when read, so a second row times reading them all), then the time to evaluate every
upstream conformance fixture once (already parsed), and the same including YAML parsing.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml_rs

from stockade.pss import Level, evaluate_pod, parse_version

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "data" / "pod-security"


def hardened_pod() -> dict[str, Any]:
    """A typical production pod: init container, app and sidecar, restricted-compliant."""
    sc = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    probe = {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10}
    return {
        "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"prometheus.io/scrape": "true"}},
        "spec": {
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "fsGroup": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "initContainers": [{"name": "migrate", "image": "app:1", "securityContext": copy.deepcopy(sc)}],
            "containers": [
                {
                    "name": "app",
                    "image": "app:1",
                    "ports": [{"containerPort": 8080, "name": "http"}],
                    "livenessProbe": probe,
                    "readinessProbe": probe,
                    "securityContext": copy.deepcopy(sc),
                },
                {"name": "proxy", "image": "envoy:1", "securityContext": copy.deepcopy(sc)},
            ],
            "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "config", "configMap": {"name": "web"}}],
        },
    }


def default_pod() -> dict[str, Any]:
    """The most common real-world case: no securityContext at all (baseline-clean, restricted-denied)."""
    pod = hardened_pod()
    spec = pod["spec"]
    del spec["securityContext"]
    for container in (*spec["initContainers"], *spec["containers"]):
        del container["securityContext"]
    return pod


def violating_pod() -> dict[str, Any]:
    """A pod that trips most baseline and restricted checks."""
    pod = hardened_pod()
    spec = pod["spec"]
    spec["hostNetwork"] = True
    spec["securityContext"] = {"runAsUser": 0, "sysctls": [{"name": "kernel.msgmax", "value": "1"}]}
    app = spec["containers"][0]
    app["securityContext"] = {
        "privileged": True,
        "capabilities": {"add": ["SYS_ADMIN", "NET_RAW"]},
        "seccompProfile": {"type": "Unconfined"},
    }
    app["ports"][0]["hostPort"] = 80
    app["livenessProbe"] = {"httpGet": {"host": "169.254.169.254", "port": 80}}
    spec["volumes"].append({"name": "root", "hostPath": {"path": "/"}})
    pod["metadata"]["annotations"]["container.apparmor.security.beta.kubernetes.io/app"] = "unconfined"
    return pod


def time_us(fn: Callable[[], object], calls: int, rounds: int) -> tuple[float, float]:
    """(median, best) over ``rounds`` of the mean µs per call in a batch of ``calls``."""
    fn()  # warm the plan cache
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter_ns() - start) / calls / 1000)
    return statistics.median(samples), min(samples)


def load_fixtures() -> list[tuple[Level, str, dict[str, Any]]]:
    cases: list[tuple[Level, str, dict[str, Any]]] = []
    for path in sorted(FIXTURES.glob("*/v1.*/*/*.yaml")):
        level = path.parts[-4]
        assert level in ("baseline", "restricted"), path
        pod = yaml_rs.loads(path.read_text(encoding="utf-8"))
        cases.append((level, path.parts[-3], pod))  # type: ignore[arg-type]
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per timing batch")
    parser.add_argument("--rounds", type=int, default=15, help="timing batches (the median is reported)")
    args = parser.parse_args()

    latest = parse_version("latest")
    rows: list[tuple[str, str, str, str]] = []
    pods = (
        ("hardened pod (3 containers)", hardened_pod()),
        ("default pod, no securityContext", default_pod()),
        ("violating pod (most checks)", violating_pod()),
    )
    for label, pod in pods:
        for level in ("baseline", "restricted"):
            metadata, spec = pod["metadata"], pod["spec"]
            result = evaluate_pod(metadata, spec, level, latest)

            def call(metadata: Any = metadata, spec: Any = spec, level: Any = level) -> object:
                return evaluate_pod(metadata, spec, level, latest)

            median, best = time_us(call, args.calls, args.rounds)
            rows.append(
                (f"{label}, {level}", f"{median:.1f} µs", f"{best:.1f} µs", f"{len(result.violations)} violations")
            )
            if result.violations:

                def read_all(metadata: Any = metadata, spec: Any = spec, level: Any = level) -> object:
                    return [(v.message, v.remediation) for v in evaluate_pod(metadata, spec, level, latest).violations]

                median, best = time_us(read_all, args.calls, args.rounds)
                rows.append(("  same, reading every message and patch", f"{median:.1f} µs", f"{best:.1f} µs", ""))

    if not FIXTURES.is_dir():
        print(f"conformance fixtures not found at {FIXTURES}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    cases = load_fixtures()
    parsed = time.perf_counter()
    versions = {text: parse_version(text) for _, text, _ in cases}
    for level, text, pod in cases:
        evaluate_pod(pod.get("metadata") or {}, pod["spec"], level, versions[text])
    done = time.perf_counter()
    rows.append((f"fixture suite: evaluate {len(cases)} pods", f"{(done - parsed) * 1000:.1f} ms", "", "total"))
    rows.append(("fixture suite: YAML load + evaluate", f"{(done - start) * 1000:.1f} ms", "", "total"))

    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {'median':>10}  {'best':>9}  note")
    print("-" * (width + 40))
    for name, median_text, best_text, note in rows:
        print(f"{name:<{width}}  {median_text:>10}  {best_text:>9}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
