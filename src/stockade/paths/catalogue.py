"""The attack steps the graph knows: what each one is, its MITRE technique, and how likely it works.

Every edge of the attack graph is one of these steps. ``likelihood`` is a rough chance that an
attacker who holds the source also gets the target (1.0 for what is simply granted, lower where an
exploit or a condition outside the manifests is needed); a path's likelihood is the product of its
steps', and it only orders paths of the same length. The ids are Stockade's; the catalogue covers
the published Kubernetes attack techniques (container escapes, token theft, RBAC moves, node
takeover, lateral movement) with Kubernetes' own authorisation semantics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Attack(StrEnum):
    # Entry
    EXPOSED = "EXPOSED"  # an entry point forwards traffic to a container's port, assumed exploitable
    # Inside a pod
    CHOOSE_CONTAINER = "CHOOSE_CONTAINER"
    SHARED_PROCESSES = "SHARED_PROCESSES"
    TOKEN_MOUNT = "TOKEN_MOUNT"
    SECRET_MOUNT = "SECRET_MOUNT"
    # Container escapes
    PRIVILEGED = "PRIVILEGED"
    NSENTER = "NSENTER"
    MODULE_LOAD = "MODULE_LOAD"
    PTRACE = "PTRACE"
    HOST_WRITE = "HOST_WRITE"
    HOST_READ = "HOST_READ"
    CORE_PATTERN = "CORE_PATTERN"
    VAR_LOG_SYMLINK = "VAR_LOG_SYMLINK"
    CRI_SOCKET = "CRI_SOCKET"
    KUBELET_TOKENS = "KUBELET_TOKENS"
    # Identities and RBAC
    MEMBER_OF = "MEMBER_OF"
    HOLDS = "HOLDS"
    READ_SECRETS = "READ_SECRETS"
    TOKEN_SECRET = "TOKEN_SECRET"
    POD_EXEC = "POD_EXEC"
    POD_CREATE = "POD_CREATE"
    POD_PATCH = "POD_PATCH"
    ROLE_BIND = "ROLE_BIND"
    ROLE_ESCALATE = "ROLE_ESCALATE"
    IMPERSONATE = "IMPERSONATE"
    TOKEN_REQUEST = "TOKEN_REQUEST"
    CSR_APPROVE = "CSR_APPROVE"
    WEBHOOK_CONFIG = "WEBHOOK_CONFIG"
    NODES_PROXY = "NODES_PROXY"
    PERSISTENT_VOLUME = "PERSISTENT_VOLUME"
    CLUSTER_ADMIN = "CLUSTER_ADMIN"
    # Nodes
    PRIVILEGED_POD = "PRIVILEGED_POD"
    NODE_PODS = "NODE_PODS"
    NODE_CREDENTIALS = "NODE_CREDENTIALS"
    CONTROL_PLANE = "CONTROL_PLANE"
    # Scopes: "every pod of a namespace" and the like, so a grant is one edge, not one per pod
    SCOPE = "SCOPE"
    # East-west
    LATERAL = "LATERAL"


# Steps that are bookkeeping, not an attacker's action: they cost almost nothing in path search,
# and "steps" counts the others.
STRUCTURAL = frozenset({Attack.SCOPE, Attack.MEMBER_OF, Attack.HOLDS, Attack.CHOOSE_CONTAINER})


@dataclass(frozen=True, slots=True)
class AttackInfo:
    attack: Attack
    name: str
    technique: str  # MITRE ATT&CK id; "" for structural steps (membership, scope)
    likelihood: float
    how: str


def _info(attack: Attack, name: str, technique: str, likelihood: float, how: str) -> AttackInfo:
    return AttackInfo(attack, name, technique, likelihood, how)


ATTACKS: Mapping[Attack, AttackInfo] = {
    info.attack: info
    for info in (
        _info(
            Attack.EXPOSED,
            "exploit an exposed port",
            "T1190",
            0.3,
            "traffic from outside reaches the port; a flaw in what listens there gives code execution",
        ),
        _info(Attack.CHOOSE_CONTAINER, "pick a container", "T1609", 1.0, "control of the pod reaches each container"),
        _info(
            Attack.SHARED_PROCESSES,
            "shared process namespace",
            "T1055",
            0.9,
            "shareProcessNamespace lets a container see and trace its siblings' processes and files",
        ),
        _info(
            Attack.TOKEN_MOUNT,
            "steal the mounted ServiceAccount token",
            "T1528",
            1.0,
            "the token is readable at /var/run/secrets/kubernetes.io/serviceaccount/token",
        ),
        _info(Attack.SECRET_MOUNT, "read a mounted Secret", "T1552.007", 1.0, "the Secret is in an env var or file"),
        _info(
            Attack.PRIVILEGED,
            "escape a privileged container",
            "T1611",
            0.95,
            "a privileged container mounts the node's disk or devices and writes to the host",
        ),
        _info(
            Attack.NSENTER,
            "nsenter into the host",
            "T1611",
            0.99,
            "privileged with hostPID: nsenter --target 1 opens a root shell on the node",
        ),
        _info(
            Attack.MODULE_LOAD,
            "load a kernel module",
            "T1611",
            0.9,
            "CAP_SYS_MODULE lets the container insert code into the node's kernel",
        ),
        _info(
            Attack.PTRACE,
            "inject into a host process",
            "T1611",
            0.8,
            "hostPID with SYS_PTRACE or SYS_ADMIN lets the container trace and inject code into node processes",
        ),
        _info(
            Attack.HOST_WRITE,
            "write to a host directory",
            "T1611",
            0.85,
            "a writable hostPath lets the container plant cron jobs, keys or binaries on the node",
        ),
        _info(
            Attack.HOST_READ,
            "read node credentials",
            "T1552.001",
            0.7,
            "a hostPath over a sensitive directory exposes the kubelet's and node's credentials",
        ),
        _info(
            Attack.CORE_PATTERN,
            "core_pattern usermode helper",
            "T1611",
            0.8,
            "a root container that can write /proc/sys/kernel/core_pattern runs a program as root on the node",
        ),
        _info(
            Attack.VAR_LOG_SYMLINK,
            "/var/log symlink read",
            "T1611",
            0.6,
            "a symlink planted in the node's /var/log and read back with `kubectl logs` reads any host file",
        ),
        _info(
            Attack.CRI_SOCKET,
            "use the container runtime socket",
            "T1610",
            0.95,
            "the runtime socket starts a privileged container on the node, read-only mount or not",
        ),
        _info(
            Attack.KUBELET_TOKENS,
            "read other pods' tokens from the kubelet directory",
            "T1552",
            0.9,
            "a hostPath over /var/lib/kubelet exposes every pod's ServiceAccount token on the node",
        ),
        _info(Attack.MEMBER_OF, "member of", "", 1.0, "the identity is a member of the group"),
        _info(Attack.HOLDS, "holds the grant", "T1069", 1.0, "a binding names the identity"),
        _info(
            Attack.READ_SECRETS,
            "read Secrets",
            "T1552.007",
            1.0,
            "get, list or watch on secrets returns their values",
        ),
        _info(
            Attack.TOKEN_SECRET,
            "use a ServiceAccount token Secret",
            "T1528",
            1.0,
            "a kubernetes.io/service-account-token Secret holds a token that does not expire",
        ),
        _info(Attack.POD_EXEC, "exec into pods", "T1609", 1.0, "exec, attach, port-forward or an ephemeral container"),
        _info(
            Attack.POD_CREATE,
            "create pods",
            "T1610",
            1.0,
            "a new pod can run as any ServiceAccount of its namespace and mount any of its Secrets",
        ),
        _info(
            Attack.POD_PATCH,
            "change running workloads",
            "T1609",
            1.0,
            "patching a pod's image or a controller's template runs the attacker's code in its pods",
        ),
        _info(
            Attack.ROLE_BIND,
            "bind a role",
            "T1098",
            0.95,
            "bind on the role plus create on bindings grants the role to the attacker",
        ),
        _info(
            Attack.ROLE_ESCALATE,
            "escalate a role",
            "T1098",
            0.95,
            "escalate plus update on a role bound to the attacker writes any permission into it",
        ),
        _info(
            Attack.IMPERSONATE,
            "impersonate",
            "T1078",
            1.0,
            "impersonating users or groups (system:masters among them) acts with their rights",
        ),
        _info(
            Attack.TOKEN_REQUEST,
            "mint a ServiceAccount token",
            "T1528",
            1.0,
            "create on serviceaccounts/token issues a token for the account",
        ),
        _info(
            Attack.CSR_APPROVE,
            "issue a client certificate",
            "T1649",
            0.9,
            "creating and approving a CSR for a kube-apiserver-client signer yields a system:masters certificate",
        ),
        _info(
            Attack.WEBHOOK_CONFIG,
            "install an admission webhook",
            "T1546",
            0.6,
            "a mutating webhook sees every admitted object and rewrites new pods",
        ),
        _info(
            Attack.NODES_PROXY,
            "use the kubelet API",
            "T1609",
            1.0,
            "nodes/proxy reaches every kubelet: exec in any pod, with no admission and no audit",
        ),
        _info(
            Attack.PERSISTENT_VOLUME,
            "create a hostPath PersistentVolume",
            "T1611",
            0.6,
            "a PersistentVolume of type hostPath mounts a node's file system into the attacker's pod",
        ),
        _info(Attack.CLUSTER_ADMIN, "full access", "T1078", 1.0, "the grant allows every verb on every resource"),
        _info(
            Attack.PRIVILEGED_POD,
            "schedule a privileged pod onto a node",
            "T1610",
            0.95,
            "nothing in the namespace refuses a privileged pod, and spec.nodeName picks any node",
        ),
        _info(
            Attack.NODE_PODS,
            "take over the node's pods",
            "T1609",
            1.0,
            "root on a node reaches every container and volume on it",
        ),
        _info(
            Attack.NODE_CREDENTIALS,
            "use the node's credentials",
            "T1078",
            1.0,
            "the kubelet's client certificate acts as the node",
        ),
        _info(
            Attack.CONTROL_PLANE,
            "read the control plane's keys",
            "T1552.004",
            1.0,
            "a control-plane node holds /etc/kubernetes/admin.conf and the cluster CA",
        ),
        _info(Attack.SCOPE, "includes", "", 1.0, "the scope includes it"),
        _info(
            Attack.LATERAL,
            "move across the pod network",
            "T1210",
            0.3,
            "no NetworkPolicy stops the connection; a flaw in what listens on the port gives code execution",
        ),
    )
}


def catalogue_markdown() -> str:
    """The attack table of docs/paths.md (a test keeps the two equal)."""
    lines = ["| Step | Name | MITRE | Likelihood | How |", "|---|---|---|---|---|"]
    for attack, info in ATTACKS.items():
        kind = " (bookkeeping)" if attack in STRUCTURAL else ""
        technique = info.technique or "—"
        lines.append(f"| `{attack.value}`{kind} | {info.name} | {technique} | {info.likelihood} | {info.how} |")
    return "\n".join(lines) + "\n"
