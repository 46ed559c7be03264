"""Live-cluster collection: time to read a 10,000-object cluster from FakeApiServer over loopback.

    python benchmarks/bench_cluster.py                  # 10,000 objects, HTTP and HTTPS, 3 runs each
    python benchmarks/bench_cluster.py --objects 2000   # a quicker run

The cluster is realistic in shape (pods with full specs, Deployments, ReplicaSets, Services,
ConfigMaps, Secrets, ServiceAccounts, RBAC, a CRD and its objects) and is served by
``stockade.testing.FakeApiServer`` in this process, so the figure covers the official client,
TLS, JSON decoding, paging (500 per page), Secret redaction and Resource construction — and
also the fake server's own work, on the same cores. Exit status 1 when the best run exceeds the
budget (10 s). Figures go to stdout as a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from stockade.sources.cluster import collect_cluster
from stockade.testing import FakeApiServer

BUDGET_SECONDS = 10.0

# Share of the objects each kind gets.
MIX = {
    "Pod": 0.40,
    "ReplicaSet": 0.10,
    "Deployment": 0.08,
    "Service": 0.08,
    "ConfigMap": 0.12,
    "Secret": 0.08,
    "ServiceAccount": 0.06,
    "RoleBinding": 0.04,
    "Widget": 0.04,
}


def _container(i: int) -> dict[str, Any]:
    return {
        "name": f"app-{i}",
        "image": f"registry.example.com/team/app-{i % 40}:1.{i % 17}.0",
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "env": [{"name": "MODE", "value": "prod"}, {"name": "REGION", "value": "eu-west-1"}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}],
    }


def _pod_spec(i: int) -> dict[str, Any]:
    return {
        "serviceAccountName": f"sa-{i % 50}",
        "containers": [_container(i), _container(i + 1)],
        "volumes": [{"name": "config", "configMap": {"name": f"cm-{i % 100}"}}],
    }


def _meta(kind: str, i: int, namespaces: int) -> dict[str, Any]:
    return {
        "name": f"{kind.lower()}-{i}",
        "namespace": f"team-{i % namespaces}",
        "labels": {"app": f"app-{i % 40}", "tier": "backend"},
        "annotations": {"owner": "platform"},
    }


def build_cluster(total: int) -> list[dict[str, Any]]:
    namespaces = max(1, total // 200)
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"team-{n}"}} for n in range(namespaces)
    ]
    objects.append(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                "versions": [{"name": "v1", "served": True, "storage": True}],
            },
        }
    )
    for kind, share in MIX.items():
        for i in range(int(total * share)):
            meta = _meta(kind, i, namespaces)
            if kind == "Pod":
                objects.append({"apiVersion": "v1", "kind": kind, "metadata": meta, "spec": _pod_spec(i)})
            elif kind in ("Deployment", "ReplicaSet"):
                spec = {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": f"app-{i % 40}"}},
                    "template": {"metadata": {"labels": {"app": f"app-{i % 40}"}}, "spec": _pod_spec(i)},
                }
                objects.append({"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec})
            elif kind == "Service":
                spec = {"selector": {"app": f"app-{i % 40}"}, "ports": [{"port": 80, "targetPort": 8080}]}
                objects.append({"apiVersion": "v1", "kind": kind, "metadata": meta, "spec": spec})
            elif kind == "ConfigMap":
                objects.append(
                    {"apiVersion": "v1", "kind": kind, "metadata": meta, "data": {"app.yaml": "x: 1\n" * 20}}
                )
            elif kind == "Secret":
                data = {"username": "YWRtaW4=", "password": "c2VjcmV0LXZhbHVl"}
                objects.append({"apiVersion": "v1", "kind": kind, "metadata": meta, "type": "Opaque", "data": data})
            elif kind == "ServiceAccount":
                objects.append({"apiVersion": "v1", "kind": kind, "metadata": meta})
            elif kind == "RoleBinding":
                binding = {
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                    "subjects": [{"kind": "ServiceAccount", "name": f"sa-{i % 50}", "namespace": meta["namespace"]}],
                }
                objects.append(
                    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta, **binding}
                )
            else:
                objects.append({"apiVersion": "example.com/v1", "kind": kind, "metadata": meta, "spec": {"size": i}})
    return objects


def measure(objects: list[dict[str, Any]], tls: bool, runs: int) -> tuple[list[float], int, int]:
    with FakeApiServer(objects, tls=tls, token="bench") as server, tempfile.TemporaryDirectory() as tmp:
        path = str(server.kubeconfig(Path(tmp) / "config"))
        times: list[float] = []
        count = requests = 0
        for _ in range(runs):
            server.reset_stats()
            started = time.perf_counter()
            result = collect_cluster(kubeconfig=path)
            times.append(time.perf_counter() - started)
            if result.errors:
                raise SystemExit(f"collection failed: {result.errors[0].message}")
            count, requests = len(result.resources), len(server.requests)
        return times, count, requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    objects = build_cluster(args.objects)
    print(f"cluster: {len(objects)} objects served by FakeApiServer on 127.0.0.1\n")
    print("| transport | objects collected | requests | best (s) | median (s) | objects/s |")
    print("|---|---|---|---|---|---|")
    worst_best = 0.0
    for tls in (False, True):
        times, count, requests = measure(objects, tls, args.runs)
        best = min(times)
        worst_best = max(worst_best, best)
        print(
            f"| {'HTTPS + token' if tls else 'HTTP + token'} | {count} | {requests} | {best:.2f} | "
            f"{statistics.median(times):.2f} | {count / best:,.0f} |"
        )
    print(f"\nbudget: {BUDGET_SECONDS:.0f} s — {'within' if worst_best <= BUDGET_SECONDS else 'OVER'}")
    return 0 if worst_best <= BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
