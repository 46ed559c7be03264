"""A large, deterministic RBAC cluster built in memory for the RBAC benchmark.

Shape (defaults): 5,000 namespaces, each with two ServiceAccounts, four Roles and four
RoleBindings (20,000 of each), plus 2,000 ClusterRoles and 2,000 ClusterRoleBindings. The
ClusterRoles include the default ``admin``/``edit``/``view`` aggregation chain, a few hundred
CRD roles labelled into it, and a few dozen aggregated roles of their own (matchLabels and
matchExpressions). Same arguments, same objects: a seeded generator, no files.

    python benchmarks/gen_rbac_cluster.py          # prints object counts by kind
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

RBAC = "rbac.authorization.k8s.io/v1"
RBAC_GROUP = "rbac.authorization.k8s.io"
AGG = "rbac.authorization.k8s.io/aggregate-to-"
Raw = dict[str, Any]

VERBS_READ = ["get", "list", "watch"]
VERBS_WRITE = ["create", "update", "patch", "delete"]
CORE = ["pods", "services", "configmaps", "secrets", "endpoints", "persistentvolumeclaims", "events"]
APPS = ["deployments", "statefulsets", "daemonsets", "replicasets"]


def _rule(verbs: list[str], resources: list[str], groups: list[str], names: list[str] | None = None) -> Raw:
    rule: Raw = {"apiGroups": groups, "resources": resources, "verbs": verbs}
    if names:
        rule["resourceNames"] = names
    return rule


def _meta(name: str, namespace: str | None = None, labels: dict[str, str] | None = None) -> Raw:
    meta: Raw = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = labels
    return meta


def _binding(kind: str, name: str, namespace: str | None, ref_kind: str, ref: str, subjects: list[Raw]) -> Raw:
    return {
        "apiVersion": RBAC,
        "kind": kind,
        "metadata": _meta(name, namespace),
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": ref_kind, "name": ref},
        "subjects": subjects,
    }


def _user(name: str) -> Raw:
    return {"apiGroup": RBAC_GROUP, "kind": "User", "name": name}


def _group(name: str) -> Raw:
    return {"apiGroup": RBAC_GROUP, "kind": "Group", "name": name}


def _sa(name: str, namespace: str | None = None) -> Raw:
    subject: Raw = {"kind": "ServiceAccount", "name": name}
    if namespace is not None:
        subject["namespace"] = namespace
    return subject


def _namespaced(rng: random.Random, namespace: str, team: str) -> list[Raw]:
    objects: list[Raw] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(namespace)}]
    for sa in ("default", "app"):
        objects.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(sa, namespace)})
    roles = {
        "reader": [
            _rule(VERBS_READ, rng.sample(CORE, 3), [""]),
            _rule(VERBS_READ, rng.sample(APPS, 2), ["apps"]),
        ],
        "deployer": [
            _rule(VERBS_READ + VERBS_WRITE, APPS[:2], ["apps"]),
            _rule(["get", "list"], ["pods", "pods/log"], [""]),
            _rule(["update"], ["deployments/scale"], ["apps"]),
        ],
        "debugger": [
            _rule(["create"], ["pods/exec", "pods/portforward"], [""], [f"web-{rng.randrange(3)}"]),
            _rule(["get"], ["pods"], [""]),
        ],
        "config": [
            _rule(["get", "update"], ["configmaps"], [""], ["app-config"]),
            _rule(["get"], ["secrets"], [""], [f"{namespace}-tls"]),
        ],
    }
    for name, rules in roles.items():
        objects.append({"apiVersion": RBAC, "kind": "Role", "metadata": _meta(name, namespace), "rules": rules})
    objects += [
        _binding("RoleBinding", "app-reader", namespace, "Role", "reader", [_sa("app")]),
        _binding(
            "RoleBinding", "ci-deployer", namespace, "Role", "deployer", [_sa("deployer", "ci"), _user(f"ci-{team}")]
        ),
        _binding("RoleBinding", "oncall-debug", namespace, "Role", "debugger", [_group(f"oncall-{team}")]),
        _binding(
            "RoleBinding",
            "team-edit",
            namespace,
            "ClusterRole",
            rng.choice(["edit", "view", "admin"]),
            [_group(f"team-{team}"), _user(f"lead-{team}@example.com")],
        ),
    ]
    return objects


def _cluster_roles(rng: random.Random, count: int) -> list[Raw]:
    def cluster_role(name: str, rules: list[Raw], labels: dict[str, str] | None = None, agg: Any = None) -> Raw:
        raw: Raw = {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": _meta(name, labels=labels), "rules": rules}
        if agg is not None:
            raw["aggregationRule"] = {"clusterRoleSelectors": agg}
        return raw

    roles = [
        cluster_role("cluster-admin", [_rule(["*"], ["*"], ["*"]), {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
        cluster_role("admin", [], agg=[{"matchLabels": {AGG + "admin": "true"}}]),
        cluster_role("edit", [], {AGG + "admin": "true"}, [{"matchLabels": {AGG + "edit": "true"}}]),
        cluster_role("view", [], {AGG + "edit": "true"}, [{"matchLabels": {AGG + "view": "true"}}]),
        cluster_role(
            "system:aggregate-to-admin",
            [_rule(["*"], ["roles", "rolebindings"], [RBAC_GROUP])],
            {AGG + "admin": "true"},
        ),
        cluster_role(
            "system:aggregate-to-edit",
            [
                _rule(VERBS_WRITE, CORE, [""]),
                _rule(["create"], ["pods/exec", "pods/attach"], [""]),
                _rule(VERBS_WRITE, APPS, ["apps"]),
            ],
            {AGG + "edit": "true"},
        ),
        cluster_role(
            "system:aggregate-to-view",
            [_rule(VERBS_READ, [r for r in CORE if r != "secrets"], [""])],
            {AGG + "view": "true"},
        ),
        cluster_role(
            "system:discovery",
            [{"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/version"], "verbs": ["get"]}],
        ),
        cluster_role("node-reader", [_rule(VERBS_READ, ["nodes", "nodes/status"], [""])]),
    ]
    # Roles of installed operators: CRD access folded into admin/edit/view, like real charts do.
    crds = count * 3 // 10
    for position in range(crds):
        group = f"op{position % 97}.example.com"
        plural = f"widgets{position}"
        level = ("admin", "edit", "view")[position % 3]
        verbs = VERBS_READ if level == "view" else VERBS_READ + VERBS_WRITE
        labels = {
            AGG + level: "true",
            "operator": f"op{position % 97}",
            "tier": rng.choice(["gold", "silver", "bronze"]),
        }
        roles.append(
            cluster_role(f"{group}:{plural}:{level}", [_rule(verbs, [plural, f"{plural}/status"], [group])], labels)
        )
    # Aggregated roles of their own, selecting operator roles by label.
    aggregated = count // 50
    for position in range(aggregated):
        selectors: list[Raw] = [{"matchLabels": {"operator": f"op{position % 97}"}}]
        if position % 2:
            selectors.append(
                {
                    "matchExpressions": [
                        {"key": "tier", "operator": "In", "values": ["gold"]},
                        {"key": "operator", "operator": "Exists"},
                    ]
                }
            )
        roles.append(cluster_role(f"platform:aggregate:{position}", [], {"platform": "true"}, selectors))
    # Everything else: controllers, tools and people's roles with ordinary rules.
    position = 0
    while len(roles) < count:
        rules = [
            _rule(rng.sample(VERBS_READ + VERBS_WRITE, 3), rng.sample(CORE, 2), [""]),
            _rule(rng.sample(VERBS_READ, 2), rng.sample(APPS, 2), ["apps", "extensions"]),
        ]
        if position % 10 == 0:
            rules.append(_rule(["get", "list"], ["secrets"], [""]))
        if position % 25 == 0:
            rules.append(_rule(["create"], ["*/exec"], ["*"]))
        if position % 40 == 0:
            rules.append({"nonResourceURLs": ["/metrics", "/debug/*"], "verbs": ["get"]})
        roles.append(cluster_role(f"custom:{position}", rules))
        position += 1
    return roles


def _cluster_bindings(rng: random.Random, roles: list[Raw], count: int, namespaces: list[str], teams: int) -> list[Raw]:
    names = [r["metadata"]["name"] for r in roles]
    bindings = [
        _binding(
            "ClusterRoleBinding", "cluster-admin", None, "ClusterRole", "cluster-admin", [_group("system:masters")]
        ),
        _binding(
            "ClusterRoleBinding",
            "system:discovery",
            None,
            "ClusterRole",
            "system:discovery",
            [_group("system:authenticated")],
        ),
        _binding(
            "ClusterRoleBinding", "platform-admins", None, "ClusterRole", "cluster-admin", [_group("platform-admins")]
        ),
    ]
    position = 0
    while len(bindings) < count:
        ref = names[rng.randrange(len(names))] if position % 20 else "cluster-admin"
        kind = position % 3
        if kind == 0:
            subject = _sa(f"controller-{position}", rng.choice(namespaces))
        elif kind == 1:
            subject = _user(f"user-{position}@example.com")
        else:
            subject = _group(f"team-{rng.randrange(teams)}")
        bindings.append(_binding("ClusterRoleBinding", f"crb-{position}", None, "ClusterRole", ref, [subject]))
        position += 1
    return bindings


def generate(
    namespaces: int = 5_000, cluster_roles: int = 2_000, cluster_role_bindings: int = 2_000, seed: int = 7
) -> list[Raw]:
    """Raw objects of the whole cluster, in a fixed order for a given set of arguments."""
    rng = random.Random(seed)
    teams = max(1, namespaces // 10)
    names = [f"ns-{n:05d}" for n in range(namespaces)]
    objects: list[Raw] = []
    for position, namespace in enumerate(names):
        objects += _namespaced(rng, namespace, f"t{position % teams}")
    roles = _cluster_roles(rng, cluster_roles)
    objects += roles
    objects += _cluster_bindings(rng, roles, cluster_role_bindings, names, teams)
    objects.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("deployer", "ci")})
    return objects


if __name__ == "__main__":
    for kind, number in sorted(Counter(o["kind"] for o in generate()).items()):
        print(f"{kind:20} {number:7,d}")
