"""A small cluster whose objects change shape: every slot is one object identity, and each of its
variants is a state that object can be in. Together they exercise every rule scope and the
cross-object dependencies incremental evaluation must follow: controllers (Deployment ->
ReplicaSet -> Pod, CronJob -> Job), Namespaces with Pod Security labels, NetworkPolicies selecting
pods, RBAC granting ServiceAccounts (and a cluster-admin-equivalent one), ServiceAccounts with and
without automount, token Secrets, aws-auth, pods in ``default``, annotation waivers, and objects an
exceptions-file entry matches."""

from __future__ import annotations

import datetime as dt
from typing import Any

from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.model.waiver import WaiverEntry

ORIGIN = Origin("cluster:test")
EXPIRY = dt.date(2030, 6, 1)
IMAGE = "registry.example.com/shop/app:1.0"
PINNED = "registry.example.com/shop/app@sha256:" + "a" * 64
RBAC = "rbac.authorization.k8s.io/v1"


def _container(name: str, variant: int) -> dict[str, Any]:
    if variant == 0:  # hardened
        return {
            "name": name,
            "image": PINNED,
            "imagePullPolicy": "Always",
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 1000,
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "1", "memory": "64Mi"}},
        }
    if variant == 1:  # privileged, from a registry not allowed
        return {
            "name": name,
            "image": "docker.io/library/nginx:latest",
            "securityContext": {"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]}},
            "env": [{"name": "DB_PASSWORD", "value": "hunter2-not-a-real-one"}],
        }
    return {"name": name, "image": IMAGE}  # defaults everywhere


def _pod_spec(variant: int, account: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [_container("app", variant % 3)]}
    if variant == 3:
        spec["hostNetwork"] = True
        spec["containers"].append(_container("sidecar", 1))
    if variant == 4:
        spec["automountServiceAccountToken"] = False
        spec["volumes"] = [{"name": "root", "hostPath": {"path": "/"}}]
    if account is not None:
        spec["serviceAccountName"] = account
    return spec


def _meta(name: str, namespace: str | None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, **extra}
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


def _owned(kind: str, name: str, api_version: str) -> dict[str, Any]:
    return {"ownerReferences": [{"apiVersion": api_version, "kind": kind, "name": name, "controller": True}]}


def _workloads() -> list[list[dict[str, Any]]]:
    labels = {"app": "api"}
    deployment = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta("api", "shop", labels=labels, **extra),
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": _pod_spec(v, account)},
            },
        }
        for v, account, extra in (
            (0, "api", {}),
            (1, None, {}),
            (
                1,
                "api",
                {"annotations": {"stockade.io/ignore": "WL-001,host-network", "stockade.io/ignore-reason": "ok"}},
            ),
            (3, "default", {"annotations": {"stockade.io/ignore": "WL-008"}}),  # no reason: stays open
            (4, "api", {}),
        )
    ]
    replicaset = [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": _meta("api-5d9", "shop", labels=labels, **owner),
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": _pod_spec(v)},
            },
        }
        for v, owner in (
            (1, _owned("Deployment", "api", "apps/v1")),
            (2, {}),
            (3, _owned("Deployment", "api", "apps/v1")),
        )
    ]
    pod = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": _meta("api-5d9-x1", "shop", labels=labels, **owner),
            "spec": _pod_spec(v, "api"),
        }
        for v, owner in (
            (1, _owned("ReplicaSet", "api-5d9", "apps/v1")),
            (0, {}),
            (4, _owned("ReplicaSet", "api-5d9", "apps/v1")),
        )
    ]
    lone = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": _meta("lone", "default", labels={"app": "lone"}),
            "spec": _pod_spec(v),
        }
        for v in (0, 1, 3)
    ]
    web = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": _meta("web-1", "web", labels={"app": "web"}),
            "spec": _pod_spec(v, a),
        }
        for v, a in ((2, None), (1, "web"), (0, "web"))
    ]
    cronjob = [
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": _meta("nightly", "shop"),
            "spec": {"schedule": "0 1 * * *", "jobTemplate": {"spec": {"template": {"spec": _pod_spec(v)}}}},
        }
        for v in (0, 2)
    ]
    job = [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": _meta("nightly-1", "shop", **_owned("CronJob", "nightly", "batch/v1")),
            "spec": {"template": {"spec": _pod_spec(v)}},
        }
        for v in (2, 1)
    ]
    legacy = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta("legacy", "default", labels={"app": "legacy"}),
            "spec": {"template": {"metadata": {"labels": {"app": "legacy"}}, "spec": _pod_spec(v)}},
        }
        for v in (2, 0)
    ]
    legacy_set = [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": _meta("legacy-1", "default", **owner),
            "spec": {"template": {"metadata": {"labels": {"app": "legacy"}}, "spec": _pod_spec(2)}},
        }
        for owner in (_owned("Deployment", "legacy", "apps/v1"), {})
    ]
    return [deployment, replicaset, pod, lone, web, cronjob, job, legacy, legacy_set]


def _namespaces() -> list[list[dict[str, Any]]]:
    def namespace(name: str, labels: dict[str, str]) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(name, None, labels=labels)}

    enforce = "pod-security.kubernetes.io/enforce"
    shop = [namespace("shop", {enforce: level}) for level in ("restricted", "baseline", "privileged", "strict")]
    shop.append(namespace("shop", {}))
    web = [namespace("web", {}), namespace("web", {enforce: "restricted", f"{enforce}-version": "v1.30"})]
    return [shop, web]


def _network() -> list[list[dict[str, Any]]]:
    def policy(name: str, namespace: str, selector: dict[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta(name, namespace),
            "spec": {"podSelector": selector, "policyTypes": ["Ingress"]},
        }

    service = [
        {"apiVersion": "v1", "kind": "Service", "metadata": _meta("front", "web"), "spec": spec}
        for spec in (
            {"type": "ClusterIP", "ports": [{"port": 80}]},
            {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]},
            {"type": "LoadBalancer", "ports": [{"port": 443}]},
        )
    ]
    return [
        [policy("deny", "shop", {}), policy("deny", "shop", {"matchLabels": {"app": "other"}})],
        [policy("web-only", "web", {"matchLabels": {"app": "web"}})],
        service,
    ]


def _accounts() -> list[list[dict[str, Any]]]:
    def account(name: str, namespace: str, automount: bool | None) -> dict[str, Any]:
        raw: dict[str, Any] = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, namespace)}
        if automount is not None:
            raw["automountServiceAccountToken"] = automount
        return raw

    token = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/service-account-token",
            "metadata": _meta("api-token", "shop", annotations={"kubernetes.io/service-account.name": name}),
        }
        for name in ("api", "default")
    ]
    return [
        [account("api", "shop", False), account("api", "shop", True), account("api", "shop", None)],
        [account("default", "shop", False), account("default", "shop", None)],
        [account("web", "web", False)],
        token,
    ]


def _rbac() -> list[list[dict[str, Any]]]:
    role = [
        {"apiVersion": RBAC, "kind": "Role", "metadata": _meta("operator", "shop"), "rules": rules}
        for rules in (
            [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}],
            [
                {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]},
                {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create"]},
            ],
            [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
            [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
        )
    ]
    clusterrole = [
        {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": _meta("escalator", None), "rules": rules}
        for rules in (
            [
                {
                    "apiGroups": ["rbac.authorization.k8s.io"],
                    "resources": ["clusterroles"],
                    "verbs": ["escalate", "bind", "update"],
                }
            ],
            [
                {"apiGroups": [""], "resources": ["users", "groups"], "verbs": ["impersonate"]},
                {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]},
            ],
            [
                {"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]},
                {
                    "apiGroups": ["admissionregistration.k8s.io"],
                    "resources": ["validatingwebhookconfigurations"],
                    "verbs": ["update"],
                },
            ],
        )
    ]

    def subject(kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        found = {"kind": kind, "name": name}
        if namespace is not None:
            found["namespace"] = namespace
        else:
            found["apiGroup"] = "rbac.authorization.k8s.io"
        return found

    def ref(kind: str, name: str) -> dict[str, Any]:
        return {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name}

    binding = [
        {
            "apiVersion": RBAC,
            "kind": "RoleBinding",
            "metadata": _meta("operator", "shop"),
            "roleRef": role_ref,
            "subjects": subjects,
        }
        for role_ref, subjects in (
            (ref("Role", "operator"), [subject("ServiceAccount", "default", "shop")]),
            (ref("Role", "operator"), [subject("ServiceAccount", "api", "shop"), subject("User", "dev")]),
            (ref("ClusterRole", "escalator"), [subject("Group", "system:serviceaccounts:shop")]),
            (ref("Role", "missing"), [subject("ServiceAccount", "default", "shop")]),
        )
    ]
    cluster_binding = [
        {
            "apiVersion": RBAC,
            "kind": "ClusterRoleBinding",
            "metadata": _meta("admins", None),
            "roleRef": role_ref,
            "subjects": subjects,
        }
        for role_ref, subjects in (
            (ref("ClusterRole", "cluster-admin"), [subject("ServiceAccount", "api", "shop")]),
            (ref("ClusterRole", "cluster-admin"), [subject("Group", "system:authenticated")]),
            (ref("ClusterRole", "escalator"), [subject("User", "ops")]),
            (ref("ClusterRole", "cluster-admin"), [subject("Group", "platform-admins")]),
        )
    ]
    aws_auth = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("aws-auth", "kube-system"),
            "data": {
                "mapRoles": f"- rolearn: arn:aws:iam::111122223333:role/{role}\n  username: x\n  groups:\n    - {group}\n"
            },
        }
        for role, group in (("ops", "system:masters"), ("dev", "developers"))
    ]
    settings = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("settings", "shop"), "data": data}
        for data in ({"LOG_LEVEL": "info"}, {"DB_PASSWORD": "Zx81-Qv73-Lk55-Mm09"})
    ]
    return [role, clusterrole, binding, cluster_binding, aws_auth, settings]


def pool() -> list[list[dict[str, Any]]]:
    """Every slot's variants (raw objects of one identity)."""
    return [*_namespaces(), *_workloads(), *_network(), *_accounts(), *_rbac()]


def resource(raw: dict[str, Any]) -> Resource:
    found = resource_from_raw(raw, ORIGIN)
    assert isinstance(found, Resource), found
    return found


def exceptions() -> list[WaiverEntry]:
    """An entry that expires (the test moves the date past it) and one that does not."""
    return [
        WaiverEntry(
            rules=("WL-001",),
            reason="vendor image, fixed in Q2",
            source="exceptions.yaml#1",
            namespace="shop",
            kind="*",
            name="api*",
            expires=EXPIRY,
        ),
        WaiverEntry(
            rules=("RB-004", "SA-002"), reason="break-glass tooling", source="exceptions.yaml#2", namespace="shop"
        ),
    ]
