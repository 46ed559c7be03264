"""Corpus generators for benchmarks.

``generated``: N namespaces of typical application stacks (Deployments, StatefulSets, CronJobs,
Services, Ingresses, ConfigMaps, Secrets, RBAC, NetworkPolicies) plus a few large CRDs, some good
and some bad, written as one multi-document YAML file per namespace.

``realworld``: the public manifests vendored in tests/data/corpus (kube-prometheus, microservices-demo),
replicated into N namespaces (``metadata.namespace`` renamed), read in place and written to a work
directory.

    python benchmarks/gen_corpus.py generated 500 benchmarks/corpus-generated/generated-500
    python benchmarks/gen_corpus.py realworld 20 benchmarks/corpus-generated/realworld-x20
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import yaml
import yaml_rs

SHARED = Path(__file__).resolve().parents[1] / "tests" / "data" / "corpus" / "real-world"
REALWORLD_SOURCES = ("kube-prometheus", "microservices-demo/kubernetes-manifests")


def _container(rng: random.Random, name: str, hardened: bool) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": name,
        "image": f"registry.example.com/{name}/{name}:{rng.randint(1, 9)}.{rng.randint(0, 20)}"
        if hardened or rng.random() < 0.7
        else f"{name}:latest",
        "ports": [{"containerPort": 8080, "name": "http"}],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "UPSTREAM", "value": f"http://{name}-upstream:8080"},
        ],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10},
    }
    if rng.random() < 0.1:
        container["env"].append({"name": "DB_PASSWORD", "value": f"p{rng.getrandbits(64):x}Q!"})
    if hardened:
        container["securityContext"] = {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        }
        container["resources"] = {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        }
    elif rng.random() < 0.1:
        container["securityContext"] = {"privileged": True}
    return container


def _workload(rng: random.Random, kind: str, ns: str, name: str) -> dict[str, Any]:
    hardened = rng.random() < 0.5
    pod_spec: dict[str, Any] = {
        "serviceAccountName": name if hardened else "default",
        "containers": [_container(rng, name, hardened)],
    }
    if hardened:
        pod_spec["securityContext"] = {"seccompProfile": {"type": "RuntimeDefault"}, "runAsUser": 10001}
        pod_spec["automountServiceAccountToken"] = False
    elif rng.random() < 0.05:
        pod_spec["hostNetwork"] = True
        pod_spec["volumes"] = [{"name": "host", "hostPath": {"path": "/var/log"}}]
    template = {"metadata": {"labels": {"app": name}}, "spec": pod_spec}
    meta = {"name": name, "namespace": ns, "labels": {"app": name, "team": ns}}
    if kind == "CronJob":
        pod_spec["restartPolicy"] = "OnFailure"
        return {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": meta,
            "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}},
        }
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app": name}}, "template": template}
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}


def _namespace_stack(rng: random.Random, index: int) -> list[dict[str, Any]]:
    ns = f"team-{index:04d}"
    objs: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}]
    for app in ("frontend", "api", "worker"):
        objs.append(_workload(rng, "Deployment", ns, app))
        objs.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": app, "namespace": ns}})
    objs.append(_workload(rng, "StatefulSet", ns, "db"))
    objs.append(_workload(rng, "CronJob", ns, "report"))
    for app in ("frontend", "api", "db"):
        svc_type = "LoadBalancer" if app == "frontend" and rng.random() < 0.2 else "ClusterIP"
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": app, "namespace": ns},
                "spec": {
                    "type": svc_type,
                    "selector": {"app": app},
                    "ports": [{"port": 80, "targetPort": 8080}],
                },
            }
        )
    ingress_spec: dict[str, Any] = {
        "rules": [
            {
                "host": f"{ns}.example.com",
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": "frontend", "port": {"number": 80}}},
                        }
                    ]
                },
            }
        ]
    }
    if rng.random() < 0.7:
        ingress_spec["tls"] = [{"hosts": [f"{ns}.example.com"], "secretName": "tls"}]
    objs.append(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "web", "namespace": ns},
            "spec": ingress_spec,
        }
    )
    objs.append(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": ns},
            "data": {f"key{i}": f"value-{i}" for i in range(10)},
        }
    )
    objs.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db", "namespace": ns},
            "type": "Opaque",
            "data": {"password": "c2VjcmV0"},
        }
    )
    objs.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "app", "namespace": ns},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
        }
    )
    objs.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "app", "namespace": ns},
            "subjects": [{"kind": "ServiceAccount", "name": "api", "namespace": ns}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "app"},
        }
    )
    if rng.random() < 0.6:
        objs.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "default-deny", "namespace": ns},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
            }
        )
    return objs


def _large_crd(index: int) -> dict[str, Any]:
    props = {
        f"field{i}": {
            "type": "object",
            "description": "x" * 200,
            "properties": {f"sub{j}": {"type": "string"} for j in range(20)},
        }
        for i in range(150)
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets{index}.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": f"Widget{index}", "plural": f"widgets{index}"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": props}},
                }
            ],
        },
    }


def generate(target_resources: int, out: Path) -> int:
    """Write about ``target_resources`` objects under ``out``; returns the exact count."""
    rng = random.Random(1234)
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    crds = [_large_crd(i) for i in range(4)]
    (out / "crds.yaml").write_text(yaml.dump_all(crds, Dumper=yaml.CSafeDumper, sort_keys=False))
    count += len(crds)
    index = 0
    while count < target_resources:
        objs = _namespace_stack(rng, index)[: target_resources - count]
        (out / f"ns-{index:04d}.yaml").write_text(yaml.dump_all(objs, Dumper=yaml.CSafeDumper, sort_keys=False))
        count += len(objs)
        index += 1
    return count


def replicate_realworld(copies: int, out: Path) -> int:
    documents: list[tuple[str, Any]] = []
    for source in REALWORLD_SOURCES:
        for path in sorted((SHARED / source).rglob("*.yaml")):
            if path.name == "kustomization.yaml":
                continue
            loaded = yaml_rs.loads(path.read_text(), parse_datetime=False)
            for doc in loaded if isinstance(loaded, list) else [loaded]:
                if isinstance(doc, dict) and "kind" in doc:
                    documents.append((path.stem, doc))
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for copy in range(copies):
        folder = out / f"copy-{copy:03d}"
        folder.mkdir(exist_ok=True)
        for stem, doc in documents:
            clone = dict(doc)
            meta = dict(clone.get("metadata") or {})
            if doc.get("kind") not in (
                "CustomResourceDefinition",
                "ClusterRole",
                "ClusterRoleBinding",
                "Namespace",
            ):
                meta["namespace"] = f"{meta.get('namespace', 'default')}-{copy:03d}"
            else:
                meta["name"] = f"{meta.get('name', stem)}-{copy:03d}"
            clone["metadata"] = meta
            name = f"{stem}-{doc.get('kind', 'x')}-{meta.get('name', '')}.yaml".replace("/", "_")
            (folder / name).write_text(yaml.dump(clone, Dumper=yaml.CSafeDumper, sort_keys=False))
            count += 1
    return count


def main() -> None:
    kind, number, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    count = generate(number, out) if kind == "generated" else replicate_realworld(number, out)
    print(f"{count} resources in {out}")


if __name__ == "__main__":
    main()
