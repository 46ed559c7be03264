"""Table output of large answers: ``pss evaluate -f table`` on 10,000 pods, ``rbac who-can`` with 3,000 grants.

    python benchmarks/bench_tables.py              # 10,000 pods, 3,000 grants, 5 runs each
    python benchmarks/bench_tables.py --runs 3 --pods 2000 --grants 600

The inputs are generated into a temporary directory; each command runs as the installed CLI would
(a fresh ``python -m stockade.cli.main`` process, stdout to a pipe that is read and counted), so a
figure covers start-up, reading, evaluation and the table. Exit status 1 when a median exceeds its
budget. Figures go to stdout as a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

STOCKADE = [sys.executable, "-m", "stockade.cli.main"]
PSS_BUDGET_S = 0.8
WHO_CAN_BUDGET_S = 0.6
RBAC_GROUP = "rbac.authorization.k8s.io"
NAMESPACES = 50
PODS_PER_FILE = 500

Raw = dict[str, Any]


def _pod(i: int) -> Raw:
    """Every other pod is hardened; the rest break several restricted checks (so details are printed)."""
    container: Raw = {"name": f"app-{i % 7}", "image": f"registry.example.com/team/service-{i % 40}:1.{i % 9}"}
    if i % 2:
        container["securityContext"] = {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        }
    else:
        container["securityContext"] = {"privileged": i % 4 == 0, "capabilities": {"add": ["NET_ADMIN"]}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"service-{i % 40}-{'x' * (i % 13)}-{i}", "namespace": f"team-{i % NAMESPACES}"},
        "spec": {"containers": [container]},
    }


def _namespace(n: int) -> Raw:
    """A third of the namespaces enforce restricted, a third baseline with a restricted warn label, a third none."""
    labels = {}
    if n % 3 == 0:
        labels["pod-security.kubernetes.io/enforce"] = "restricted"
    elif n % 3 == 1:
        labels["pod-security.kubernetes.io/enforce"] = "baseline"
        labels["pod-security.kubernetes.io/warn"] = "restricted"
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"team-{n}", "labels": labels}}


def write_pods(directory: Path, pods: int) -> None:
    directory.mkdir()
    documents = [_namespace(n) for n in range(NAMESPACES)]
    (directory / "namespaces.json").write_bytes(orjson.dumps({"apiVersion": "v1", "kind": "List", "items": documents}))
    for start in range(0, pods, PODS_PER_FILE):
        items = [_pod(i) for i in range(start, min(pods, start + PODS_PER_FILE))]
        (directory / f"pods-{start:05d}.json").write_bytes(
            orjson.dumps({"apiVersion": "v1", "kind": "List", "items": items})
        )


def write_grants(directory: Path, grants: int) -> None:
    """Half the grants from RoleBindings in namespace shop, half from ClusterRoleBindings; each binds one subject."""
    directory.mkdir()
    role_rules = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]
    items: list[Raw] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
        {
            "apiVersion": f"{RBAC_GROUP}/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "secret-reader"},
            "rules": role_rules,
        },
        {
            "apiVersion": f"{RBAC_GROUP}/v1",
            "kind": "Role",
            "metadata": {"name": "shop-secrets", "namespace": "shop"},
            "rules": role_rules,
        },
    ]
    for i in range(grants):
        if i % 3 == 0:
            subject: Raw = {"kind": "ServiceAccount", "name": f"worker-{i}", "namespace": f"team-{i % NAMESPACES}"}
        elif i % 3 == 1:
            subject = {"apiGroup": RBAC_GROUP, "kind": "User", "name": f"user-{i}@example.com"}
        else:
            subject = {"apiGroup": RBAC_GROUP, "kind": "Group", "name": f"group-{i}"}
        if i % 2:
            meta: Raw = {"name": f"read-secrets-{i}", "namespace": "shop"}
            binding: Raw = {
                "kind": "RoleBinding",
                "metadata": meta,
                "roleRef": {"kind": "Role", "name": "shop-secrets"},
            }
        else:
            binding = {
                "kind": "ClusterRoleBinding",
                "metadata": {"name": f"read-secrets-{i}"},
                "roleRef": {"kind": "ClusterRole", "name": "secret-reader"},
            }
        binding["roleRef"]["apiGroup"] = RBAC_GROUP
        items.append({"apiVersion": f"{RBAC_GROUP}/v1", **binding, "subjects": [subject]})
    (directory / "rbac.json").write_bytes(orjson.dumps({"apiVersion": "v1", "kind": "List", "items": items}))


def run(cmd: list[str]) -> tuple[float, int, int]:
    """Wall seconds, lines written to stdout, exit code."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[:2000]}")
    return wall, proc.stdout.count(b"\n"), proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--grants", type=int, default=3_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pods, rbac = Path(tmp) / "pods", Path(tmp) / "rbac"
        write_pods(pods, args.pods)
        write_grants(rbac, args.grants)
        cases = [
            (f"pss evaluate -f table, {args.pods:,} pods", ["pss", "evaluate", "-f", "table", str(pods)], PSS_BUDGET_S),
            (
                f"rbac who-can get secrets -n shop, {args.grants:,} grants",
                ["rbac", "who-can", "get", "secrets", "-n", "shop", str(rbac)],
                WHO_CAN_BUDGET_S,
            ),
        ]
        print("| command | lines out | best (s) | median (s) | budget (s) |")
        print("|---|---|---|---|---|")
        over = False
        for label, command, budget in cases:
            times, lines = [], 0
            for _ in range(args.runs):
                wall, lines, _ = run([*STOCKADE, *command, "--no-progress"])
                times.append(wall)
            median = statistics.median(times)
            over |= median > budget
            print(f"| {label} | {lines:,} | {min(times):.2f} | {median:.2f} | ≤ {budget} |")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
