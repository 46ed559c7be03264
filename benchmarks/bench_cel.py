"""One ValidatingAdmissionPolicy expression, evaluated many times: Stockade's CEL engine
(``CompiledVap.evaluate``, on the ``cel`` package) against ``cel-python`` (``celpy``).

    .venv/bin/python benchmarks/bench_cel.py [--count 20000]

The expression is the usual "no privileged containers" check, on a realistic Deployment (three
containers with ports, env, probes, resources and volume mounts; one without a securityContext).
Figures are per evaluation, median and p99, in microseconds:

- ``evaluate, new object``: each call gets a request whose object was never seen (as an admission
  request arrives): matching, building the activation, converting what the expression reads of the
  object, and running it.
- ``evaluate, same object``: the same request again (as when several policies judge one object:
  the conversion is done once and reused).
- ``cel-python``: ``celpy`` with the object converted by ``json_to_cel`` on each call, and once.

``cel-python`` is not a dependency: ``pip install cel-python`` into the virtualenv to compare.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from stockade.policies.model import GroupVersionKind, GroupVersionResource, PolicyRequest  # noqa: E402
from stockade.policies.vap import compile_policy  # noqa: E402

EXPRESSION = (
    "object.spec.template.spec.containers.all(c, !has(c.securityContext) || c.securityContext.privileged != true)"
)
POLICY = {
    "apiVersion": "admissionregistration.k8s.io/v1",
    "kind": "ValidatingAdmissionPolicy",
    "metadata": {"name": "no-privileged"},
    "spec": {
        "failurePolicy": "Fail",
        "matchConstraints": {
            "resourceRules": [
                {
                    "apiGroups": ["apps"],
                    "apiVersions": ["v1"],
                    "operations": ["CREATE", "UPDATE"],
                    "resources": ["deployments"],
                }
            ]
        },
        "validations": [{"expression": EXPRESSION, "message": "privileged containers are not allowed"}],
    },
}
BINDING = {
    "metadata": {"name": "no-privileged"},
    "spec": {"policyName": "no-privileged", "validationActions": ["Deny"]},
}


def container(name: str, image: str, *, secured: bool) -> dict[str, Any]:
    found: dict[str, Any] = {
        "name": name,
        "image": image,
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [{"name": f"VAR_{n}", "value": f"value-{n}"} for n in range(8)]
        + [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/live", "port": 8080}, "initialDelaySeconds": 10},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}, {"name": "tmp", "mountPath": "/tmp"}],
    }
    if secured:
        found["securityContext"] = {
            "privileged": False,
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        }
    return found


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "checkout",
            "namespace": "shop",
            "labels": {"app": "checkout", "team": "payments", "tier": "backend"},
            "annotations": {"deployment.kubernetes.io/revision": "7"},
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "checkout"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "checkout", "tier": "backend"}},
                "spec": {
                    "serviceAccountName": "checkout",
                    "containers": [
                        container("app", "registry.example.com/shop/checkout:2.4.1", secured=True),
                        container("envoy", "registry.example.com/mesh/envoy:1.29", secured=True),
                        container("log-shipper", "registry.example.com/ops/fluent-bit:3.0", secured=False),
                    ],
                    "volumes": [{"name": "config", "configMap": {"name": "checkout"}}, {"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }


def request(obj: dict[str, Any]) -> PolicyRequest:
    return PolicyRequest(
        object=obj,
        kind=GroupVersionKind("apps", "v1", "Deployment"),
        resource=GroupVersionResource("apps", "v1", "deployments"),
        name="checkout",
        namespace="shop",
        user_info={"username": "ci", "groups": ["deployers"]},
        namespace_object={"metadata": {"name": "shop", "labels": {"kubernetes.io/metadata.name": "shop"}}},
    )


def timed(calls: list[Callable[[], object]]) -> tuple[float, float]:
    """Median and p99 of the calls, in microseconds (a few warm-up calls first)."""
    for call in calls[:100]:
        call()
    samples = []
    for call in calls:
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    samples.sort()
    return statistics.median(samples) * 1e6, samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20_000, help="evaluations per figure")
    count = parser.parse_args().count

    print(f"expression: {EXPRESSION}\n")
    print("| engine | median (µs) | p99 (µs) |")
    print("|---|---|---|")
    started = time.perf_counter()
    vap = compile_policy(POLICY, "bench")
    compile_ms = (time.perf_counter() - started) * 1000
    same = request(deployment())
    outcome = vap.evaluate(same, BINDING, None)
    assert outcome.applies and outcome.error is None and outcome.violations == (), outcome
    fresh = [request(copy.deepcopy(same.object)) for _ in range(count)]  # type: ignore[arg-type]
    median, p99 = timed([lambda r=r: vap.evaluate(r, BINDING, None) for r in fresh])  # type: ignore[misc]
    print(f"| Stockade `CompiledVap.evaluate`, new object | {median:.1f} | {p99:.1f} |")
    median, p99 = timed([lambda: vap.evaluate(same, BINDING, None)] * count)
    print(f"| Stockade `CompiledVap.evaluate`, same object | {median:.1f} | {p99:.1f} |")
    print(f"\n(compile: {compile_ms:.2f} ms)")

    try:
        import celpy  # type: ignore[import-not-found,unused-ignore]
        from celpy.adapter import json_to_cel  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        print("\ncel-python is not installed (`pip install cel-python` to compare).")
        return 0
    started = time.perf_counter()
    environment = celpy.Environment()
    program = environment.program(environment.compile(EXPRESSION))
    compile_ms = (time.perf_counter() - started) * 1000
    obj = deployment()
    converted = {"object": json_to_cel(obj)}
    assert bool(program.evaluate(converted)) is True
    fewer = max(1_000, count // 10)  # cel-python is much slower
    median, p99 = timed([lambda: program.evaluate({"object": json_to_cel(obj)})] * fewer)
    print("\n| engine | median (µs) | p99 (µs) |")
    print("|---|---|---|")
    print(f"| cel-python, object converted each call | {median:.1f} | {p99:.1f} |")
    median, p99 = timed([lambda: program.evaluate(converted)] * fewer)
    print(f"| cel-python, object converted once | {median:.1f} | {p99:.1f} |")
    print(f"\n(compile: {compile_ms:.2f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
