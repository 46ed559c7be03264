"""A deterministic cluster for reachability: namespaces of tiered workloads under the policies a
careful platform team writes (default deny, tier-to-tier allows by named port, a monitoring
namespace allowed on a port range, workers' egress limited to DNS and public addresses).

    python benchmarks/gen_network_cluster.py --namespaces 200 --workloads 2000 --policies 1000 -o cluster.yaml
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

TIERS = ("web", "api", "db", "cache", "worker")
PORTS = {
    "web": (8080, "http"),
    "api": (9000, "grpc"),
    "db": (5432, "pg"),
    "cache": (6379, "redis"),
    "worker": (7000, "jobs"),
}


def _namespace(index: int) -> dict[str, Any]:
    team = "ops" if index == 0 else f"team-{index % 20}"
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"ns-{index}", "labels": {"team": team}}}


def _workload(namespace: str, index: int) -> dict[str, Any]:
    tier = TIERS[index % len(TIERS)]
    number, name = PORTS[tier]
    container = {
        "name": "main",
        "image": f"registry.example.com/{tier}:1",
        "ports": [{"name": name, "containerPort": number}, {"name": "metrics", "containerPort": 9100}],
    }
    labels = {"app": f"{tier}-{index}", "tier": tier}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"{tier}-{index}", "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def _policy(namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def _policies(namespace: str, default_deny: bool) -> Iterator[dict[str, Any]]:
    """Five per namespace; without the default deny, three (no policy selecting every pod), which
    leaves most pods open to every other."""
    if default_deny:
        yield _policy(namespace, "default-deny", {"podSelector": {}, "policyTypes": ["Ingress"]})
    yield _policy(
        namespace,
        "api-from-web",
        {
            "podSelector": {"matchLabels": {"tier": "api"}},
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"tier": "web"}}}], "ports": [{"port": "grpc"}]}],
        },
    )
    yield _policy(
        namespace,
        "db-from-api",
        {
            "podSelector": {"matchLabels": {"tier": "db"}},
            "ingress": [
                {
                    "from": [
                        {
                            "podSelector": {
                                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["api", "worker"]}]
                            }
                        }
                    ],
                    "ports": [{"port": "pg"}],
                }
            ],
        },
    )
    if not default_deny:
        yield from _worker_egress(namespace)
        return
    yield _policy(
        namespace,
        "metrics-from-ops",
        {
            "podSelector": {},
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {"matchLabels": {"team": "ops"}},
                            "podSelector": {"matchLabels": {"tier": "web"}},
                        }
                    ],
                    "ports": [{"port": 9000, "endPort": 9100}],
                }
            ],
        },
    )
    yield from _worker_egress(namespace)


def _worker_egress(namespace: str) -> Iterator[dict[str, Any]]:
    yield _policy(
        namespace,
        "worker-egress",
        {
            "podSelector": {"matchLabels": {"tier": "worker"}},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"namespaceSelector": {"matchLabels": {"team": "ops"}}}],
                    "ports": [{"port": 53, "protocol": "UDP"}],
                },
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "169.254.169.254/32"]}}]},
                {"to": [{"podSelector": {"matchLabels": {"tier": "db"}}}]},
            ],
        },
    )


def generate(namespaces: int, workloads: int, policies: int, default_deny: bool = True) -> list[dict[str, Any]]:
    objects = [_namespace(i) for i in range(namespaces)]
    per_namespace = max(1, workloads // namespaces)
    for n in range(namespaces):
        objects.extend(_workload(f"ns-{n}", i) for i in range(per_namespace))
    written = 0
    for n in range(namespaces):
        for policy in _policies(f"ns-{n}", default_deny):
            if written < policies:
                objects.append(policy)
                written += 1
    return objects


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--workloads", type=int, default=2000)
    parser.add_argument("--policies", type=int, default=1000)
    parser.add_argument("--open", action="store_true", help="no default-deny policies: most pods accept anyone")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    objects = generate(args.namespaces, args.workloads, args.policies, default_deny=not args.open)
    Path(args.output).write_text(yaml.safe_dump_all(objects))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
