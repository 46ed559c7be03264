"""The node agent: a DaemonSet running `stockade node watch` on every node (``deploy manifests --node-agent``).

It mounts, read-only, only the host directories holding the key files it watches (plus the
node's passwd and group files, for owner names), runs with every capability dropped but
``DAC_READ_SEARCH`` (to stat and hash 0600 and 0700 files owned by other users, such as etcd's
data directory, without being able to write anything), and has no ServiceAccount token: it does
not talk to the API server, its events go to its log, where the cluster's log agent picks them up.

It cannot pass Pod Security ``restricted`` (nor ``baseline``): reading the node's files takes
hostPath volumes, and reading root's 0600 files takes running as root. So it gets a namespace of
its own, labelled ``privileged`` and nothing else in it, leaving the watcher's namespace at
``restricted``. The container runtime's socket is deliberately not mounted (a read-only mount of a
socket still lets the process connect to it, which would hand it every container on the node).
"""

from __future__ import annotations

from typing import Any

from stockade import __version__
from stockade._manifests import Manifest, labels, meta, selector

NAME = "stockade-node-agent"
DEFAULT_NAMESPACE = "stockade-node"
HOST_ROOT = "/host"
# Host directories holding the key files (`stockade.sources.node.KEY_FILES`), mounted read-only.
HOST_PATHS = (
    "/etc/kubernetes",
    "/etc/cni/net.d",
    "/etc/systemd/system",
    "/usr/lib/systemd/system",
    "/var/lib/kubelet",
    "/var/lib/etcd",
    "/var/lib/kube-proxy",
)
HOST_FILES = ("/etc/passwd", "/etc/group")
# Findings of Stockade's own rules this DaemonSet accepts, and why (written on it as stockade.io/ignore).
WAIVED: dict[str, str] = {
    "WL-003": "reading root's 0600 key files needs uid 0; it holds no capability but DAC_READ_SEARCH",
    "WL-009": "the node's key files are what it watches; every hostPath is mounted read-only",
    "WL-004": "DAC_READ_SEARCH lets it stat and hash files of other owners (etcd's data directory) read-only",
}


def _labels() -> dict[str, str]:
    return labels("node-agent", "stockade-deploy", __version__)


def _volume_name(path: str) -> str:
    return "host" + path.replace("/", "-").replace(".", "-")


def node_agent(image: str, namespace: str = DEFAULT_NAMESPACE) -> list[Manifest]:
    pss = {f"pod-security.kubernetes.io/{mode}": "privileged" for mode in ("enforce", "audit", "warn")}
    mounts = [*HOST_PATHS, *HOST_FILES]
    container: dict[str, Any] = {
        "name": "node-watch",
        "image": image,
        "imagePullPolicy": "Always",
        "args": ["node", "watch", "--root", HOST_ROOT, "--node-name", "$(NODE_NAME)"],
        "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsUser": 0,
            "runAsGroup": 0,
            "privileged": False,
            "capabilities": {"drop": ["ALL"], "add": ["DAC_READ_SEARCH"]},
            "seccompProfile": {"type": "RuntimeDefault"},
            "appArmorProfile": {"type": "RuntimeDefault"},
        },
        "resources": {
            "requests": {"cpu": "10m", "memory": "32Mi"},
            "limits": {"cpu": "100m", "memory": "64Mi"},
        },
        "volumeMounts": [
            {"name": _volume_name(path), "mountPath": f"{HOST_ROOT}{path}", "readOnly": True} for path in mounts
        ],
    }
    # Directories are optional (a worker has no /var/lib/etcd): no type check for them.
    volumes = [
        {"name": _volume_name(path), "hostPath": {"path": path, "type": "" if path in HOST_PATHS else "File"}}
        for path in mounts
    ]
    pod_spec = {
        "serviceAccountName": NAME,
        "automountServiceAccountToken": False,
        "hostPID": False,
        "hostNetwork": False,
        "enableServiceLinks": False,
        "priorityClassName": "system-node-critical",
        "tolerations": [{"operator": "Exists"}],  # every node, the control plane included
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
        "volumes": volumes,
    }
    annotations = {
        "stockade.io/ignore": ",".join(sorted(WAIVED)),
        "stockade.io/ignore-reason": "; ".join(f"{rule}: {why}" for rule, why in sorted(WAIVED.items())),
    }
    namespace_waiver = {
        "stockade.io/ignore": "PSS-021",
        "stockade.io/ignore-reason": "PSS-021: the node agent needs hostPath volumes, which baseline forbids; "
        "nothing else runs in this namespace",
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": namespace, "labels": {**_labels(), **pss}, "annotations": namespace_waiver},
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": meta(NAME, namespace, _labels()),
            "automountServiceAccountToken": False,
        },
        {
            # The agent neither serves nor calls anything: no traffic in or out.
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta("deny-all", namespace, _labels()),
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": meta(NAME, namespace, _labels(), annotations=annotations),
            "spec": {
                "selector": {"matchLabels": selector("node-agent")},
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}},
                "template": {"metadata": {"labels": _labels()}, "spec": pod_spec},
            },
        },
    ]
