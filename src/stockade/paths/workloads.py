"""Workloads and their containers: what a foothold in a container gives (tokens, Secrets, the node).

One workload node per pod template (a Deployment's pods are alike, so they are one node), one node
per container. A container reaches its pod's ServiceAccount when the token is mounted, the Secrets
it reads, its siblings under ``shareProcessNamespace``, and the node through any of the container
escapes of `escapes`. Which node: the ones its pods run on when a live cluster says (``nodeName``),
otherwise "a node" (``jewel:nodes``), and the control plane too when the pods tolerate its taint.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from stockade.model.inventory import DEFAULT_NAMESPACE, Inventory
from stockade.model.netpol import Port, container_ports
from stockade.model.podspec import ContainerRef, PodTemplate, is_list, is_map
from stockade.model.resource import Resource
from stockade.paths.builder import ANY_NODE, CONTROL_PLANE, GraphBuilder
from stockade.paths.catalogue import Attack
from stockade.paths.fixes import FixLookup, display
from stockade.paths.model import Fix, NodeKind
from stockade.rules.base import is_false, is_true

CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")

# May the pod's ServiceAccount read pods/log in its namespace? (for the /var/log symlink escape)
CanReadLogs = Callable[[str, str], bool]


@dataclass(slots=True)
class ContainerInfo:
    key: str
    ref: ContainerRef
    ports: tuple[Port, ...]


@dataclass(slots=True)
class Workload:
    key: str
    resource: Resource
    template: PodTemplate
    namespace: str
    labels: Mapping[str, Any]
    service_account: str
    containers: list[ContainerInfo] = field(default_factory=list)

    @property
    def serving(self) -> list[ContainerInfo]:
        """Containers that run for the pod's life (init containers have exited)."""
        return [c for c in self.containers if c.ref.list_name == "containers"]


def dotted(path: tuple[str | int, ...]) -> str:
    """``spec.containers[0].securityContext``: a field path as findings print it."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def service_account_of(spec: Mapping[str, Any]) -> str:
    for key in ("serviceAccountName", "serviceAccount"):
        value = spec.get(key)
        if isinstance(value, str) and value:
            return value
    return "default"


def read_workloads(inventory: Inventory) -> list[Workload]:
    workloads: list[Workload] = []
    for template in inventory.pod_templates:
        resource = template.carrier
        namespace = inventory.effective_namespace(resource) or DEFAULT_NAMESPACE
        key = display(resource.kind, namespace, resource.name)
        labels = template.metadata.get("labels")
        workload = Workload(
            key, resource, template, namespace, labels if is_map(labels) else {}, service_account_of(template.spec)
        )
        for ref in template.containers():
            workload.containers.append(ContainerInfo(f"{key}#{ref.name}", ref, container_ports(ref.spec)))
        workloads.append(workload)
    workloads.sort(key=lambda w: w.key)
    return workloads


# -- placement ---------------------------------------------------------------------------------------
def live_placement(inventory: Inventory) -> dict[tuple[str, str | None, str], set[str]]:
    """(kind, namespace, name) of each top-level owner → the nodes its pods run on (live clusters)."""
    owners: dict[tuple[str, str | None, str], tuple[str, str | None, str]] = {}
    for resource in inventory.resources:
        refs = resource.metadata.get("ownerReferences")
        for owner in refs if is_list(refs) else ():
            if is_map(owner) and owner.get("controller") is True:
                ns = inventory.effective_namespace(resource)
                owners[(resource.kind, ns, resource.name)] = (str(owner.get("kind")), ns, str(owner.get("name")))
    placement: dict[tuple[str, str | None, str], set[str]] = defaultdict(set)
    for pod in inventory.of_kind("Pod"):
        spec = pod.raw.get("spec")
        node = spec.get("nodeName") if is_map(spec) else None
        if not isinstance(node, str) or not node:
            continue
        key: tuple[str, str | None, str] = ("Pod", inventory.effective_namespace(pod), pod.name)
        seen = {key}
        placement[key].add(node)
        while key in owners and owners[key] not in seen:
            key = owners[key]
            seen.add(key)
            placement[key].add(node)
    return placement


def _tolerates_control_plane(spec: Mapping[str, Any]) -> bool:
    tolerations = spec.get("tolerations")
    for toleration in tolerations if is_list(tolerations) else ():
        if not is_map(toleration):
            continue
        key = toleration.get("key")
        if toleration.get("operator") == "Exists" and not key:
            return True  # tolerates every taint
        if key in CONTROL_PLANE_LABELS:
            return True
    selector = spec.get("nodeSelector")
    return is_map(selector) and any(label in selector for label in CONTROL_PLANE_LABELS)


def add_nodes(builder: GraphBuilder, inventory: Inventory) -> None:
    """Node objects of a live cluster: each is "a node", and the control-plane ones lead to its keys."""
    builder.jewel(ANY_NODE, label="any node")
    builder.node(CONTROL_PLANE, NodeKind.NODE, "a control-plane node")
    builder.edge(CONTROL_PLANE, ANY_NODE, Attack.SCOPE, detail="a control-plane node is a node")
    for node in sorted(inventory.of_kind("Node"), key=lambda r: r.name):
        key = builder.node(display("Node", None, node.name), NodeKind.NODE, f"Node/{node.name}")
        builder.edge(key, ANY_NODE, Attack.SCOPE, detail="it is a node")
        labels = node.metadata.get("labels")
        if is_map(labels) and any(label in labels for label in CONTROL_PLANE_LABELS):
            builder.edge(key, CONTROL_PLANE, Attack.SCOPE, detail="it is a control-plane node")


# -- edges ---------------------------------------------------------------------------------------------
class WorkloadEdges:
    def __init__(
        self, builder: GraphBuilder, inventory: Inventory, fixes: FixLookup, can_read_logs: CanReadLogs
    ) -> None:
        self.builder = builder
        self.inventory = inventory
        self.fixes = fixes
        self.can_read_logs = can_read_logs
        self.placement = live_placement(inventory)
        self.automount = _account_automount(inventory)

    def add(self, workload: Workload) -> None:
        b = self.builder
        w = workload
        b.node(w.key, NodeKind.WORKLOAD, w.key, w.namespace)
        spec = w.template.spec
        targets = self._node_targets(w)
        for node in targets:
            if node.startswith("Node/"):
                b.node(node, NodeKind.NODE, node)
                b.edge(node, w.key, Attack.NODE_PODS, detail=f"{w.key} runs on it")
        if w.resource.kind == "DaemonSet":
            b.edge(ANY_NODE, w.key, Attack.NODE_PODS, detail="a DaemonSet runs on every node")
        if CONTROL_PLANE in targets:
            b.edge(CONTROL_PLANE, w.key, Attack.NODE_PODS, detail="its pods tolerate the control plane's taint")
        account = b.node(
            display("ServiceAccount", w.namespace, w.service_account), NodeKind.IDENTITY, None, w.namespace
        )
        token = self._token_fix(w)
        volumes = _volumes(spec)
        share = is_true(spec.get("shareProcessNamespace"))
        for container in w.containers:
            b.node(container.key, NodeKind.CONTAINER, container.key, w.namespace)
            b.edge(w.key, container.key, Attack.CHOOSE_CONTAINER)
            if token is not None:
                b.edge(container.key, account, Attack.TOKEN_MOUNT, (token,) if token.rule_id else ())
            self._secrets(w, container, volumes)
            for attack, fixes, detail in escapes(w, container, volumes, self.fixes, self.can_read_logs):
                for node in targets:
                    b.edge(container.key, node, attack, fixes, detail)
            if share:
                for sibling in w.containers:
                    if sibling is not container:
                        b.edge(container.key, sibling.key, Attack.SHARED_PROCESSES)

    def _node_targets(self, w: Workload) -> list[str]:
        nodes = self.placement.get((w.resource.kind, w.namespace, w.resource.name))
        targets = [display("Node", None, n) for n in sorted(nodes)] if nodes else [ANY_NODE]
        if _tolerates_control_plane(w.template.spec):
            targets.append(CONTROL_PLANE)
        return targets

    def _token_fix(self, w: Workload) -> Fix | None:
        """The SA-002 finding when the token is mounted; None when it is not."""
        value = w.template.spec.get("automountServiceAccountToken")
        if is_false(value):
            return None
        if not is_true(value) and self.automount.get((w.namespace, w.service_account)) is False:
            return None
        return self.fixes.fix("SA-002", w.key, dotted(w.template.spec_path))

    def _secrets(self, w: Workload, container: ContainerInfo, volumes: Mapping[str, Mapping[str, Any]]) -> None:
        b = self.builder
        for name, how in sorted(secret_references(container.ref.spec, volumes)):
            secret = b.node(display("Secret", w.namespace, name), NodeKind.SECRET, None, w.namespace)
            b.edge(container.key, secret, Attack.SECRET_MOUNT, detail=how)


def _account_automount(inventory: Inventory) -> dict[tuple[str, str], bool]:
    found: dict[tuple[str, str], bool] = {}
    for account in inventory.of_kind("ServiceAccount"):
        value = account.raw.get("automountServiceAccountToken")
        namespace = inventory.effective_namespace(account) or DEFAULT_NAMESPACE
        found[(namespace, account.name)] = not is_false(value)
    return found


def _volumes(spec: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    raw = spec.get("volumes")
    found: dict[str, Mapping[str, Any]] = {}
    for index, volume in enumerate(raw if is_list(raw) else ()):
        if is_map(volume) and isinstance(volume.get("name"), str):
            found[volume["name"]] = {**volume, "_index": index}
    return found


def secret_references(spec: Mapping[str, Any], volumes: Mapping[str, Mapping[str, Any]]) -> set[tuple[str, str]]:
    """(Secret name, how) for every Secret one container reads: env, envFrom and mounted volumes."""
    found: set[tuple[str, str]] = set()
    env = spec.get("env")
    for item in env if is_list(env) else ():
        ref = _dig(item, "valueFrom", "secretKeyRef", "name")
        if isinstance(ref, str):
            found.add((ref, "environment variable"))
    env_from = spec.get("envFrom")
    for item in env_from if is_list(env_from) else ():
        ref = _dig(item, "secretRef", "name")
        if isinstance(ref, str):
            found.add((ref, "envFrom"))
    for mount in _mounts(spec):
        volume = volumes.get(mount[0])
        if volume is None:
            continue
        name = _dig(volume, "secret", "secretName")
        if isinstance(name, str):
            found.add((name, "mounted volume"))
        sources = _dig(volume, "projected", "sources")
        for source in sources if is_list(sources) else ():
            name = _dig(source, "secret", "name")
            if isinstance(name, str):
                found.add((name, "projected volume"))
    return found


def _dig(value: object, *keys: str) -> object:
    for key in keys:
        if not is_map(value):
            return None
        value = value.get(key)
    return value


def _mounts(spec: Mapping[str, Any]) -> Iterator[tuple[str, bool]]:
    """(volume name, read-only) for each volumeMount of a container."""
    mounts = spec.get("volumeMounts")
    for mount in mounts if is_list(mounts) else ():
        if is_map(mount) and isinstance(mount.get("name"), str):
            yield mount["name"], is_true(mount.get("readOnly"))


# -- container escapes ----------------------------------------------------------------------------
def _normal(path: str) -> str:
    parts = [p for p in path.split("/") if p and p != "."]
    return "/" + "/".join(parts)


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def _ancestor_of(path: str, targets: tuple[str, ...]) -> bool:
    """``path`` is one of ``targets`` or a directory above one of them."""
    return any(t == path or path == "/" or t.startswith(path + "/") for t in targets)


CRI_SOCKETS = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
    "/run/crio/crio.sock",
    "/var/run/crio/crio.sock",
    "/var/run/cri-dockerd.sock",
    "/run/cri-dockerd.sock",
    "/var/run/dockershim.sock",
)
KUBELET_PODS = ("/var/lib/kubelet/pods",)
CORE_PATTERN = ("/", "/proc", "/proc/sys", "/proc/sys/kernel")
VAR_LOG = ("/", "/var", "/var/log")
# Directories whose files hold the node's or kubelet's credentials.
SENSITIVE_READ = ("/etc/kubernetes", "/var/lib/kubelet", "/root", "/home", "/etc/shadow", "/var/lib/etcd")
# Writing under these plants code or configuration the node runs.
SENSITIVE_WRITE_ROOTS = (
    "/etc",
    "/root",
    "/home",
    "/bin",
    "/sbin",
    "/usr",
    "/lib",
    "/lib64",
    "/boot",
    "/opt/cni",
    "/var/spool/cron",
    "/var/lib/kubelet",
    "/proc",
    "/sys",
    "/dev",
)


def escapes(
    w: Workload,
    container: ContainerInfo,
    volumes: Mapping[str, Mapping[str, Any]],
    fixes: FixLookup,
    can_read_logs: CanReadLogs,
) -> Iterator[tuple[Attack, tuple[Fix, ...], str]]:
    """Each way out of ``container`` onto its node: (attack, the findings behind it, detail)."""
    spec = w.template.spec
    ref = container.ref
    where = dotted(ref.path)
    sc = ref.view.security_context or {}
    host_pid = is_true(spec.get("hostPID"))
    pod_path = dotted(w.template.spec_path)
    pid_fix = fixes.fix("WL-006", w.key, f"{pod_path}.hostPID")
    if is_true(sc.get("privileged")):
        privileged = fixes.fix("WL-001", w.key, f"{where}.securityContext.privileged", ref.name)
        yield Attack.PRIVILEGED, (privileged,), f"{ref.name} is privileged"
        if host_pid:
            yield Attack.NSENTER, (privileged, pid_fix), f"{ref.name} is privileged and the pod has hostPID"
    added = _added_capabilities(sc)
    for capability, index in sorted(added.items()):
        cap_fix = fixes.fix("WL-004", w.key, f"{where}.securityContext.capabilities.add[{index}]", ref.name)
        if capability in ("SYS_MODULE", "ALL"):
            yield Attack.MODULE_LOAD, (cap_fix,), f"{ref.name} adds {capability}"
        if host_pid and capability in ("SYS_PTRACE", "SYS_ADMIN", "ALL"):
            yield Attack.PTRACE, (cap_fix, pid_fix), f"{ref.name} adds {capability} and the pod has hostPID"
    root = _may_run_as_root(spec, sc)
    for name, read_only in _mounts(ref.spec):
        volume = volumes.get(name)
        host = volume.get("hostPath") if volume is not None else None
        if volume is None or not is_map(host) or not isinstance(host.get("path"), str):
            continue
        path = _normal(host["path"])
        volume_fix = fixes.fix("WL-009", w.key, f"{pod_path}.volumes[{volume['_index']}].hostPath")
        detail = f"{ref.name} mounts hostPath {path}" + (" read-only" if read_only else "")
        yield from _host_path_escapes(path, read_only, volume_fix, detail)
        if not read_only and path in CORE_PATTERN and root is not None:
            root_fix = fixes.fix("WL-003", w.key, f"{where}.{root}", ref.name)
            yield Attack.CORE_PATTERN, (volume_fix, root_fix), detail + " and may run as root"
        if path in VAR_LOG and can_read_logs(w.namespace, w.service_account):
            yield Attack.VAR_LOG_SYMLINK, (volume_fix,), detail + f"; ServiceAccount {w.service_account} reads pods/log"


def _host_path_escapes(
    path: str, read_only: bool, fix: Fix, detail: str
) -> Iterator[tuple[Attack, tuple[Fix, ...], str]]:
    if _ancestor_of(path, CRI_SOCKETS):
        yield Attack.CRI_SOCKET, (fix,), detail
    if _ancestor_of(path, KUBELET_PODS) or _under(path, KUBELET_PODS):
        yield Attack.KUBELET_TOKENS, (fix,), detail
    if not read_only and (
        path == "/" or _under(path, SENSITIVE_WRITE_ROOTS) or _ancestor_of(path, SENSITIVE_WRITE_ROOTS)
    ):
        yield Attack.HOST_WRITE, (fix,), detail
    elif _under(path, SENSITIVE_READ) or _ancestor_of(path, SENSITIVE_READ):
        yield Attack.HOST_READ, (fix,), detail


def _added_capabilities(sc: Mapping[str, Any]) -> dict[str, int]:
    caps = sc.get("capabilities")
    added = caps.get("add") if is_map(caps) else None
    found: dict[str, int] = {}
    for index, value in enumerate(added if is_list(added) else ()):
        if isinstance(value, str):
            name = value.upper().removeprefix("CAP_")
            found.setdefault(name, index)
    return found


def _may_run_as_root(spec: Mapping[str, Any], sc: Mapping[str, Any]) -> str | None:
    """The field that lets the container run as root (the WL-003 path), or None when it cannot."""
    pod_sc = spec.get("securityContext")
    pod_sc = pod_sc if is_map(pod_sc) else {}
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    if isinstance(user, int):
        return "securityContext.runAsUser" if user == 0 else None
    non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
    return None if is_true(non_root) else "securityContext"
