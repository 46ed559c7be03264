"""A live-cluster-shaped snapshot for the attack-path benchmark, sized by pods (seeded, deterministic).

Shape per 100 pods: one namespace (half enforce Pod Security baseline) holding ten Deployments
with a ReplicaSet and ten Pods each (``ownerReferences`` and ``nodeName`` as a live API server
returns them), a ClusterIP Service per Deployment (a tenth of namespaces expose one as a
LoadBalancer, a twentieth as a NodePort), two ServiceAccounts (one without token automount),
three Secrets (one a legacy ServiceAccount token), ``bindings`` Role/RoleBinding pairs mixing
harmless reads with exec, pod creation, Deployment patching and Secret reads, and in half the
namespaces a default-deny ingress policy with one allow rule. Cluster-wide: one node per 30 pods
(three control-plane), a privileged log-collector DaemonSet with a pod per node and one with a
hostPath, 40 ClusterRoles with their bindings (the near misses ``pods/*`` and named Secrets among
them, one ``*/exec``), and a cluster-admin binding of a kube-system ServiceAccount that a pod uses.

    python benchmarks/gen_paths_cluster.py --pods 25000 -o /tmp/cluster-25k.json
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

Raw = dict[str, Any]
RBAC = "rbac.authorization.k8s.io/v1"
SNAPSHOT_API_VERSION = "stockade.io/v1alpha1"
SNAPSHOT_KIND = "ClusterSnapshot"


def _meta(name: str, namespace: str | None = None, **extra: Any) -> Raw:
    meta: Raw = {"name": name, "uid": f"uid-{namespace or ''}-{name}"}
    if namespace:
        meta["namespace"] = namespace
    meta.update(extra)
    return meta


def _owner(kind: str, name: str, api: str = "apps/v1") -> list[Raw]:
    return [{"apiVersion": api, "kind": kind, "name": name, "uid": f"uid-{name}", "controller": True}]


def _container(name: str, rng: random.Random, secret: str) -> Raw:
    container: Raw = {
        "name": name,
        "image": f"registry.example.com/{name}@sha256:{rng.getrandbits(256):064x}",
        "ports": [{"name": "http", "containerPort": 8080}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}}}],
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True},
    }
    if rng.random() < 0.02:
        container["securityContext"] = {"capabilities": {"add": ["SYS_ADMIN"]}}
    return container


def _rule(
    verbs: list[str], resources: list[str], groups: list[str] | None = None, names: list[str] | None = None
) -> Raw:
    rule: Raw = {"apiGroups": groups if groups is not None else [""], "resources": resources, "verbs": verbs}
    if names:
        rule["resourceNames"] = names
    return rule


NAMESPACED_ROLES = [
    [_rule(["get", "list", "watch"], ["pods", "services", "configmaps"])],
    [_rule(["create"], ["pods/exec"])],
    [_rule(["create"], ["pods"])],
    [_rule(["patch", "update"], ["deployments"], ["apps"])],
    [_rule(["get", "list"], ["secrets"])],
    [_rule(["get"], ["pods/log"])],
]


def _namespace(index: int, nodes: int, bindings: int, rng: random.Random, standalone: bool) -> list[Raw]:
    ns = f"team-{index:04d}"
    labels = {"team": ns}
    if index % 2:
        labels["pod-security.kubernetes.io/enforce"] = "baseline"
    objects: list[Raw] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(ns, labels=labels)}]
    for account in ("app", "ops"):
        sa: Raw = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(account, ns)}
        if account == "app":
            sa["automountServiceAccountToken"] = False
        objects.append(sa)
    for secret in ("db", "tls", "ops-token"):
        body: Raw = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta(secret, ns),
            "data": {"password": "cmVkYWN0ZWQ="},
        }
        if secret == "ops-token":
            body["type"] = "kubernetes.io/service-account-token"
            body["metadata"]["annotations"] = {"kubernetes.io/service-account.name": "ops"}
        objects.append(body)
    for number in range(bindings):
        rules = NAMESPACED_ROLES[(index + number) % len(NAMESPACED_ROLES)]
        subject = {"kind": "ServiceAccount", "name": rng.choice(["app", "ops", "default"]), "namespace": ns}
        name = f"role-{number}"
        objects.append({"apiVersion": RBAC, "kind": "Role", "metadata": _meta(name, ns), "rules": rules})
        ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}
        objects.append(
            {
                "apiVersion": RBAC,
                "kind": "RoleBinding",
                "metadata": _meta(name, ns),
                "roleRef": ref,
                "subjects": [subject],
            }
        )
    if index % 2 == 0:
        objects.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": _meta("default-deny", ns),
                "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
            }
        )
        objects.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": _meta("web-from-gateway", ns),
                "spec": {
                    "podSelector": {"matchLabels": {"tier": "web"}},
                    "ingress": [
                        {
                            "from": [{"namespaceSelector": {"matchLabels": {"team": "gateway"}}}],
                            "ports": [{"port": "http"}],
                        }
                    ],
                },
            }
        )
    for number in range(10):
        objects += _deployment(ns, f"svc-{number}", index, number, nodes, rng, standalone)
    return objects


def _deployment(
    ns: str, name: str, index: int, number: int, nodes: int, rng: random.Random, standalone: bool
) -> list[Raw]:
    """A Deployment, its ReplicaSet and ten pods; ``standalone``: the ten pods alone, each its own workload."""
    labels = {"app": name, "tier": "web" if number < 3 else "backend"}
    account = rng.choice(["app", "ops", "default"])
    spec: Raw = {"serviceAccountName": account, "containers": [_container(name, rng, "db")]}
    template = {"metadata": {"labels": labels}, "spec": spec}
    replica_set = f"{name}-6d8f9c"
    objects: list[Raw] = (
        []
        if standalone
        else [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": _meta(name, ns),
                "spec": {"replicas": 10, "selector": {"matchLabels": labels}, "template": template},
            },
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": _meta(replica_set, ns, ownerReferences=_owner("Deployment", name)),
                "spec": {"replicas": 10, "selector": {"matchLabels": labels}, "template": template},
            },
        ]
    )
    for pod in range(10):
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": _meta(
                    f"{replica_set}-{pod:02d}",
                    ns,
                    labels=labels,
                    **({} if standalone else {"ownerReferences": _owner("ReplicaSet", replica_set)}),
                ),
                "spec": {**spec, "nodeName": f"node-{rng.randrange(nodes):04d}"},
            }
        )
    kind = "ClusterIP"
    if number == 0 and index % 10 == 1:
        kind = "LoadBalancer"
    elif number == 1 and index % 20 == 3:
        kind = "NodePort"
    objects.append(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(name, ns),
            "spec": {"type": kind, "selector": {"app": name}, "ports": [{"port": 80, "targetPort": "http"}]},
        }
    )
    return objects


def _cluster_wide(nodes: int, rng: random.Random) -> list[Raw]:
    objects: list[Raw] = []
    for number in range(nodes):
        labels = {"kubernetes.io/hostname": f"node-{number:04d}"}
        if number < 3:
            labels["node-role.kubernetes.io/control-plane"] = ""
        objects.append({"apiVersion": "v1", "kind": "Node", "metadata": _meta(f"node-{number:04d}", labels=labels)})
    objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": _meta("kube-system")})
    objects.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("ops-admin", "kube-system")})
    for name, privileged, host_path in (("log-collector", True, None), ("node-exporter", False, "/proc")):
        container: Raw = {"name": name, "image": f"registry.example.com/{name}:1.0", "ports": [{"containerPort": 9100}]}
        spec: Raw = {"containers": [container], "tolerations": [{"operator": "Exists"}]}
        if privileged:
            container["securityContext"] = {"privileged": True}
        if host_path:
            spec["volumes"] = [{"name": "host", "hostPath": {"path": host_path}}]
            container["volumeMounts"] = [{"name": "host", "mountPath": "/host", "readOnly": True}]
        labels = {"app": name}
        template = {"metadata": {"labels": labels}, "spec": spec}
        objects.append(
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": _meta(name, "kube-system"),
                "spec": {"selector": {"matchLabels": labels}, "template": template},
            }
        )
        for number in range(nodes):
            objects.append(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": _meta(
                        f"{name}-{number:04d}", "kube-system", labels=labels, ownerReferences=_owner("DaemonSet", name)
                    ),
                    "spec": {**spec, "nodeName": f"node-{number:04d}"},
                }
            )
    admin_pod = {
        "serviceAccountName": "ops-admin",
        "containers": [{"name": "ops", "image": "registry.example.com/ops:1.0"}],
    }
    objects.append(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": _meta("ops-console", "kube-system", labels={"app": "ops"}),
            "spec": {**admin_pod, "nodeName": "node-0000"},
        }
    )
    cluster_roles = [
        ("reader", [_rule(["get", "list", "watch"], ["pods", "services"])]),
        ("near-miss-pods-star", [_rule(["create"], ["pods/*"])]),
        ("star-exec", [_rule(["create"], ["*/exec"])]),
        ("named-secret", [_rule(["get"], ["secrets"], names=["public-ca"])]),
    ]
    cluster_roles += [
        (f"crd-reader-{n}", [_rule(["get", "list"], [f"widgets{n}"], [f"example{n}.com"])]) for n in range(36)
    ]
    for name, rules in cluster_roles:
        objects.append({"apiVersion": RBAC, "kind": "ClusterRole", "metadata": _meta(name), "rules": rules})
        subject = {"kind": "Group", "name": f"team-{rng.randrange(1000):04d}", "apiGroup": "rbac.authorization.k8s.io"}
        ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name}
        objects.append(
            {
                "apiVersion": RBAC,
                "kind": "ClusterRoleBinding",
                "metadata": _meta(name),
                "roleRef": ref,
                "subjects": [subject],
            }
        )
    ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}
    subject = {"kind": "ServiceAccount", "name": "ops-admin", "namespace": "kube-system"}
    objects.append(
        {
            "apiVersion": RBAC,
            "kind": "ClusterRoleBinding",
            "metadata": _meta("ops-admin"),
            "roleRef": ref,
            "subjects": [subject],
        }
    )
    return objects


def generate(pods: int, *, bindings: int = 4, seed: int = 7, standalone: bool = False) -> list[Raw]:
    """Objects of a cluster with about ``pods`` pods (of which DaemonSet pods: two per node).
    ``standalone``: the application pods have no controller, so each is a workload of its own
    (the graph's worst case: 25,000 pods make 25,000 workload nodes instead of 2,500)."""
    rng = random.Random(seed)
    nodes = max(4, pods // 30)
    namespaces = max(1, (pods - 2 * nodes) // 100)
    objects = _cluster_wide(nodes, rng)
    for index in range(namespaces):
        objects += _namespace(index, nodes, bindings, rng, standalone)
    return objects


def snapshot_bytes(objects: list[Raw]) -> bytes:
    """A Stockade snapshot document holding ``objects``, as `stockade snapshot` writes it."""
    document = {
        "apiVersion": SNAPSHOT_API_VERSION,
        "kind": SNAPSHOT_KIND,
        "metadata": {"source": "cluster", "facts": {"server_version": "v1.31.0"}},
        "items": objects,
        "errors": [],
        "skipped": [],
    }
    return orjson.dumps(document)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--bindings", type=int, default=4, help="Role/RoleBinding pairs per namespace")
    parser.add_argument("--standalone", action="store_true", help="application pods without controllers")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    objects = generate(args.pods, bindings=args.bindings, standalone=args.standalone)
    Path(args.output).write_bytes(snapshot_bytes(objects))
    counts = Counter(o["kind"] for o in objects)
    sys.stderr.write(", ".join(f"{count} {kind}" for kind, count in sorted(counts.items())) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
