"""Cluster facts (server version, nodes, control-plane components and their flags): from manifests,
and read through the real client from the fake API server and from a snapshot."""

from __future__ import annotations

from pathlib import Path

from stockade.model.inventory import Inventory
from stockade.sources.cluster import collect_cluster
from stockade.sources.cluster_facts import cluster_facts
from stockade.sources.snapshot import collect_snapshot, write_snapshot
from stockade.testing import FakeApiServer
from tests.helpers import inventory_from_raw

APISERVER = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "kube-apiserver-cp1", "namespace": "kube-system", "labels": {"component": "kube-apiserver"}},
    "spec": {
        "containers": [
            {
                "name": "kube-apiserver",
                "image": "registry.k8s.io/kube-apiserver:v1.31.4",
                "command": [
                    "kube-apiserver",
                    "--authorization-mode=Node,RBAC",
                    "--audit-log-path",
                    "/var/log/audit.log",
                ],
            }
        ]
    },
}
NODE = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "cp1", "labels": {"node-role.kubernetes.io/control-plane": ""}},
    "status": {
        "nodeInfo": {
            "kubeletVersion": "v1.31.4",
            "osImage": "Ubuntu 24.04",
            "operatingSystem": "linux",
            "containerRuntimeVersion": "containerd://1.7.22",
        },
        "conditions": [{"type": "Ready", "status": "True"}],
    },
}


def test_facts_from_a_live_cluster_and_its_snapshot(tmp_path: Path) -> None:
    with FakeApiServer([APISERVER, NODE], tls=True, server_version="v1.31.4") as server:
        kubeconfig = str(server.kubeconfig(tmp_path / "kubeconfig"))
        source = collect_cluster(kubeconfig=kubeconfig)
    assert not source.errors
    live = cluster_facts(Inventory(source.resources), source.facts)
    assert live.version == (1, 31)
    (api,) = live.components["kube-apiserver"]
    assert api.flags.list_values("authorization-mode") == ["Node", "RBAC"]
    assert api.flags.get("audit-log-path") == "/var/log/audit.log"
    assert api.flags.get("anonymous-auth", live.version) == "true"  # the binary's default: not set here
    assert [(n.name, n.ready, n.control_plane) for n in live.nodes] == [("cp1", True, True)]

    snapshot = collect_snapshot(write_snapshot(source, tmp_path / "snap.json.gz"))
    offline = cluster_facts(Inventory(snapshot.resources), snapshot.facts)
    assert offline.version == live.version
    assert offline.components["kube-apiserver"][0].flags.values == api.flags.values


def test_cluster_facts_from_static_pods_and_nodes() -> None:
    inventory = inventory_from_raw(
        [
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": "kube-apiserver-cp1",
                    "namespace": "kube-system",
                    "labels": {"component": "kube-apiserver", "tier": "control-plane"},
                },
                "spec": {
                    "containers": [
                        {
                            "name": "kube-apiserver",
                            "image": "registry.k8s.io/kube-apiserver:v1.30.2",
                            "command": [
                                "kube-apiserver",
                                "--anonymous-auth=false",
                                "--authorization-mode=Node,RBAC",
                            ],
                        }
                    ]
                },
            },
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": "cp1", "labels": {"node-role.kubernetes.io/control-plane": ""}},
                "status": {
                    "nodeInfo": {
                        "kubeletVersion": "v1.30.2",
                        "osImage": "Debian 12",
                        "operatingSystem": "linux",
                        "containerRuntimeVersion": "containerd://1.7.20",
                    },
                    "conditions": [{"type": "Ready", "status": "True"}],
                },
            },
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "kube-apiserver-fake", "namespace": "default"},
                "spec": {"containers": [{"name": "x", "command": ["kube-apiserver"]}]},
            },
        ]
    )
    facts = cluster_facts(inventory, {"server_version": {"gitVersion": "v1.30.2"}})
    assert facts.version == (1, 30)
    (api,) = facts.components["kube-apiserver"]
    assert api.flags.get("anonymous-auth") == "false"
    assert api.flags.list_values("authorization-mode") == ["Node", "RBAC"]
    (node,) = facts.nodes
    assert node.ready is True and node.control_plane and node.container_runtime.startswith("containerd")
