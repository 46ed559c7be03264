"""Container escapes, tokens, Secrets and node placement: each edge, and the near miss that has none."""

from __future__ import annotations

from typing import Any

import pytest

from stockade.paths import Attack
from stockade.paths.builder import ANY_NODE, CONTROL_PLANE
from tests.paths.support import (
    attacks_from,
    container,
    deployment,
    edges,
    grant,
    graph_of,
    namespace,
    rule,
    sa_subject,
    service_account,
)

WEB = "Deployment/shop/web"
APP = f"{WEB}#app"


def escapes(**fields: Any) -> set[Attack]:
    spec = fields.pop("spec", {})
    extra = fields.pop("extra", [])
    graph = graph_of([namespace("shop"), deployment("web", containers=[container(**fields)], **spec), *extra])
    return {e.attack for e in edges(graph, APP, ANY_NODE)}


def host_path(path: str, read_only: bool = False) -> dict[str, Any]:
    return {
        "spec": {"volumes": [{"name": "host", "hostPath": {"path": path}}]},
        "volumeMounts": [{"name": "host", "mountPath": "/host", "readOnly": read_only}],
    }


def test_a_privileged_container_escapes_and_names_its_finding() -> None:
    graph = graph_of(
        [namespace("shop"), deployment("web", containers=[container(securityContext={"privileged": True})])]
    )
    [edge] = edges(graph, APP, ANY_NODE, Attack.PRIVILEGED)
    [fix] = edge.fixes
    assert (fix.rule_id, fix.resource) == ("WL-001", WEB)
    assert fix.path == "spec.template.spec.containers[0].securityContext.privileged"
    assert fix.fingerprint and fix.status == "fail"
    assert edge.info.technique == "T1611"


def test_an_unprivileged_container_has_no_way_out() -> None:
    assert escapes(securityContext={"privileged": False, "allowPrivilegeEscalation": False}) == set()


def test_privileged_with_host_pid_is_nsenter_and_needs_both_findings() -> None:
    graph = graph_of(
        [
            namespace("shop"),
            deployment("web", containers=[container(securityContext={"privileged": True})], hostPID=True),
        ]
    )
    [edge] = edges(graph, APP, ANY_NODE, Attack.NSENTER)
    assert {f.rule_id for f in edge.fixes} == {"WL-001", "WL-006"}


@pytest.mark.parametrize("capability", ["SYS_MODULE", "CAP_SYS_MODULE", "ALL"])
def test_sys_module_loads_a_kernel_module(capability: str) -> None:
    assert Attack.MODULE_LOAD in escapes(securityContext={"capabilities": {"add": [capability]}})


def test_sys_ptrace_needs_host_pid() -> None:
    caps = {"securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}}}
    assert escapes(**caps) == set()
    assert escapes(**caps, spec={"hostPID": True}) == {Attack.PTRACE}


def test_net_admin_is_not_an_escape() -> None:
    assert escapes(securityContext={"capabilities": {"add": ["NET_ADMIN"]}}, spec={"hostPID": True}) == set()


@pytest.mark.parametrize(
    ("path", "read_only", "expected"),
    [
        ("/run/containerd/containerd.sock", True, {Attack.CRI_SOCKET}),  # read-only still talks to the socket
        ("/var/run/docker.sock", False, {Attack.CRI_SOCKET}),
        ("/var/lib/kubelet/pods", True, {Attack.KUBELET_TOKENS, Attack.HOST_READ}),
        ("/etc/kubernetes", True, {Attack.HOST_READ}),
        ("/etc", False, {Attack.HOST_WRITE}),
        ("/etc/cron.d/", False, {Attack.HOST_WRITE}),
        ("/data/cache", False, set()),
        ("/tmp/scratch", False, set()),
        ("/data/cache", True, set()),
    ],
)
def test_host_paths(path: str, read_only: bool, expected: set[Attack]) -> None:
    found = escapes(**host_path(path, read_only)) - {Attack.CORE_PATTERN}
    assert found == expected


def test_a_host_path_the_container_does_not_mount_is_not_its_way_out() -> None:
    fields = host_path("/etc")
    fields.pop("volumeMounts")
    assert escapes(**fields) == set()


def test_core_pattern_needs_a_writable_proc_and_root() -> None:
    assert Attack.CORE_PATTERN in escapes(**host_path("/proc/sys"))
    assert Attack.CORE_PATTERN not in escapes(**host_path("/proc/sys", read_only=True))
    assert Attack.CORE_PATTERN not in escapes(**host_path("/proc/sys"), securityContext={"runAsNonRoot": True})
    assert Attack.CORE_PATTERN not in escapes(**host_path("/proc/sys"), securityContext={"runAsUser": 1000})


def test_var_log_symlink_needs_the_accounts_right_to_read_logs() -> None:
    mount = host_path("/var/log", read_only=True)
    spec = {"serviceAccountName": "web", **mount.pop("spec")}
    logs = grant("logs", [rule(["get"], ["pods/log"])], sa_subject("web"))
    assert Attack.VAR_LOG_SYMLINK in escapes(**mount, spec=spec, extra=logs)
    others = grant("logs", [rule(["get"], ["pods"])], sa_subject("web"))
    assert Attack.VAR_LOG_SYMLINK not in escapes(**mount, spec=spec, extra=others)


def test_the_mounted_token_leads_to_the_pods_account() -> None:
    graph = graph_of([namespace("shop"), deployment("web", account="web"), service_account("web")])
    [edge] = edges(graph, APP, "ServiceAccount/shop/web", Attack.TOKEN_MOUNT)
    assert edge.fixes[0].rule_id == "SA-002"


@pytest.mark.parametrize(
    ("pod", "account", "mounted"),
    [(None, None, True), (False, None, False), (None, False, False), (True, False, True)],
)
def test_automount_as_the_kubelet_decides(pod: bool | None, account: bool | None, mounted: bool) -> None:
    spec = {} if pod is None else {"automountServiceAccountToken": pod}
    sa_fields = {} if account is None else {"automountServiceAccountToken": account}
    graph = graph_of([namespace("shop"), deployment("web", account="web", **spec), service_account("web", **sa_fields)])
    assert bool(edges(graph, APP, "ServiceAccount/shop/web", Attack.TOKEN_MOUNT)) is mounted


def test_secrets_read_by_env_and_volume_are_reached_by_reference() -> None:
    app = container(
        env=[{"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
        volumeMounts=[{"name": "tls", "mountPath": "/tls"}],
    )
    graph = graph_of(
        [
            namespace("shop"),
            deployment("web", containers=[app], volumes=[{"name": "tls", "secret": {"secretName": "tls"}}]),
        ]
    )
    reached = {e.target for e in edges(graph, APP, attack=Attack.SECRET_MOUNT)}
    assert reached == {"Secret/shop/db", "Secret/shop/tls"}


def test_shared_process_namespace_joins_the_containers() -> None:
    pair = [container("app"), container("sidecar", ports=())]
    graph = graph_of([namespace("shop"), deployment("web", containers=pair, shareProcessNamespace=True)])
    assert edges(graph, APP, f"{WEB}#sidecar", Attack.SHARED_PROCESSES)
    alone = graph_of([namespace("shop"), deployment("web", containers=pair)])
    assert not edges(alone, APP, f"{WEB}#sidecar", Attack.SHARED_PROCESSES)


def test_a_daemonset_runs_on_every_node_and_tolerating_the_control_plane_puts_it_there() -> None:
    daemon = deployment("agent", kind="DaemonSet", tolerations=[{"operator": "Exists"}])
    plain = deployment("web")
    graph = graph_of([namespace("shop"), daemon, plain])
    assert edges(graph, ANY_NODE, "DaemonSet/shop/agent", Attack.NODE_PODS)
    assert edges(graph, CONTROL_PLANE, "DaemonSet/shop/agent", Attack.NODE_PODS)
    assert not edges(graph, ANY_NODE, WEB, Attack.NODE_PODS)
    assert not edges(graph, CONTROL_PLANE, WEB)


def test_live_pods_escape_to_the_node_they_run_on() -> None:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-1", "labels": {}}}
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {"nodeName": "worker-1", "containers": [container(securityContext={"privileged": True})]},
    }
    graph = graph_of([namespace("shop"), node, pod])
    assert edges(graph, "Pod/shop/web-1#app", "Node/worker-1", Attack.PRIVILEGED)
    assert edges(graph, "Node/worker-1", "Pod/shop/web-1", Attack.NODE_PODS)
    assert edges(graph, "Node/worker-1", ANY_NODE, Attack.SCOPE)
    assert Attack.PRIVILEGED not in attacks_from(graph, "Pod/shop/web-1#app") - {
        e.attack for e in edges(graph, "Pod/shop/web-1#app", "Node/worker-1")
    }
