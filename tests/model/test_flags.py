"""Control-plane flag parsing and cluster facts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stockade.model.cluster_facts import cluster_facts
from stockade.model.flags import container_argv, parse_flags, parse_version
from tests.helpers import inventory_from_raw


def test_equals_and_space_forms_repeated_flags_and_last_wins() -> None:
    flags = parse_flags(
        "kube-apiserver",
        [
            "kube-apiserver",
            "--authorization-mode=Node,RBAC",
            "--audit-log-path",
            "/var/log/audit.log",
            "--enable-admission-plugins=NodeRestriction",
            "--enable-admission-plugins",
            "PodSecurity",
            "--profiling=false",
            "--profiling=true",
        ],
    )
    assert flags.get("audit-log-path") == "/var/log/audit.log"
    assert flags.list_values("authorization-mode") == ["Node", "RBAC"]
    assert flags.list_values("enable-admission-plugins") == ["NodeRestriction", "PodSecurity"]
    assert flags.get("profiling") == "true"
    assert flags.positional == ("kube-apiserver",)


def test_boolean_flags_take_values_only_with_equals() -> None:
    flags = parse_flags("kube-apiserver", ["--anonymous-auth", "false", "--secure-port", "6443"])
    assert flags.get("anonymous-auth") == "true"  # pflag: "false" is a stray argument here
    assert flags.positional == ("false",)
    assert flags.get("secure-port") == "6443"


def test_defaults_by_version() -> None:
    flags = parse_flags("kube-apiserver", ["kube-apiserver"])
    assert flags.get("anonymous-auth", (1, 30)) == "true"
    assert flags.get("insecure-port", (1, 19)) == "8080"
    assert flags.get("insecure-port", (1, 22)) == "0"
    assert flags.get("insecure-port", (1, 30)) is None
    assert not flags.is_set("anonymous-auth")


def test_shell_wrapped_command() -> None:
    assert container_argv({"command": ["/bin/sh", "-c", "etcd --client-cert-auth=true --data-dir /var/lib/etcd"]}) == [
        "etcd",
        "--client-cert-auth=true",
        "--data-dir",
        "/var/lib/etcd",
    ]


def test_versions() -> None:
    assert parse_version("v1.29.4-eks-036c24b") == (1, 29)
    assert parse_version("1.31") == (1, 31)
    assert parse_version("v1.27+") == (1, 27)
    assert parse_version("garbage") is None


@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z-]{0,15}", fullmatch=True),
        st.from_regex(r"[A-Za-z0-9/,.]{1,10}", fullmatch=True),
        max_size=8,
    )
)
def test_equals_form_round_trips(flags: dict[str, str]) -> None:
    parsed = parse_flags("kube-scheduler", [f"--{k}={v}" for k, v in flags.items()])
    assert {k: parsed.get(k) for k in flags} == flags


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
