"""Control-plane flag checks as data: one `FlagCheck` per CIS control, one rule each.

The control-plane components run as static pods in kube-system (kubeadm and most installers): a
live cluster shows their mirror pods, a snapshot keeps them, and a node's
``/etc/kubernetes/manifests`` holds the same Pod manifests. Their flags are parsed as pflag parses
them (`stockade.sources.component_flags`); a flag left out takes the binary's default **for the
cluster's Kubernetes version** (the ``kubernetes-version`` setting, else the version a live cluster
or snapshot reports, else the newest), since several defaults changed across releases.

Each check is an inventory rule over the pods of its component; a scan with no such pod (manifests
of applications, a managed control plane) has nothing for it to judge. A violation points at the
flag's argument (or at the container's command when the flag is absent), so file scans give the
line. Each rule's documentation, Example and Use instead are built from the check's data, so the
example tests exercise every check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stockade.model.finding import Area, Severity, Stage
from stockade.model.inventory import Inventory
from stockade.rules.base import Outcome, Path, Rule, RuleContext, Scope, Violation, table_rule
from stockade.sources.cluster_facts import ComponentFacts, component_facts
from stockade.sources.component_flags import ParsedFlags, container_argv

SYSTEM_NAMESPACE = "kube-system"
Version = tuple[int, int] | None
# A judge returns what is wrong (None when the flags are fine) and the flag to point at.
Judge = Callable[[ParsedFlags, Version], tuple[str, str] | None]
# On a managed control plane: True when fine, None when the description does not carry the fact,
# else what is wrong and the field.
ManagedJudge = Callable[[Mapping[str, Any]], tuple[str, Path] | bool | None]

# Flags of a well-configured control plane (kubeadm's, hardened): each example starts from these.
BASELINE: Mapping[str, tuple[str, ...]] = {
    "kube-apiserver": (
        "--advertise-address=10.0.0.10",
        "--anonymous-auth=false",
        "--authorization-mode=Node,RBAC",
        "--client-ca-file=/etc/kubernetes/pki/ca.crt",
        "--enable-admission-plugins=NodeRestriction,EventRateLimit,AlwaysPullImages,DenyServiceExternalIPs",
        "--admission-control-config-file=/etc/kubernetes/admission.yaml",
        "--encryption-provider-config=/etc/kubernetes/encryption.yaml",
        "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
        "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
        "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key",
        "--etcd-servers=https://127.0.0.1:2379",
        "--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt",
        "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key",
        "--kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt",
        "--profiling=false",
        "--audit-log-path=/var/log/kubernetes/audit/audit.log",
        "--audit-policy-file=/etc/kubernetes/audit-policy.yaml",
        "--audit-log-maxage=30",
        "--audit-log-maxbackup=10",
        "--audit-log-maxsize=100",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
        "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key",
        "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
        "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
        "--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    ),
    "kube-controller-manager": (
        "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
        "--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf",
        "--bind-address=127.0.0.1",
        "--kubeconfig=/etc/kubernetes/controller-manager.conf",
        "--profiling=false",
        "--root-ca-file=/etc/kubernetes/pki/ca.crt",
        "--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
        "--terminated-pod-gc-threshold=10",
        "--use-service-account-credentials=true",
    ),
    "kube-scheduler": (
        "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
        "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf",
        "--bind-address=127.0.0.1",
        "--kubeconfig=/etc/kubernetes/scheduler.conf",
        "--profiling=false",
    ),
    "etcd": (
        "--advertise-client-urls=https://10.0.0.10:2379",
        "--cert-file=/etc/kubernetes/pki/etcd/server.crt",
        "--key-file=/etc/kubernetes/pki/etcd/server.key",
        "--client-cert-auth=true",
        "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
        "--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt",
        "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key",
        "--peer-client-cert-auth=true",
        "--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
        "--data-dir=/var/lib/etcd",
    ),
}
IMAGES = {
    "kube-apiserver": "registry.k8s.io/kube-apiserver:v1.31.2",
    "kube-controller-manager": "registry.k8s.io/kube-controller-manager:v1.31.2",
    "kube-scheduler": "registry.k8s.io/kube-scheduler:v1.31.2",
    "etcd": "registry.k8s.io/etcd:3.5.15-0",
}


@dataclass(frozen=True, slots=True)
class FlagCheck:
    """One CIS control over one component's flags.

    ``bad`` and ``good`` edit the baseline flags for the Example and the Use instead: a
    ``--name=value`` replaces (or adds) the flag, a bare ``--name`` removes it.
    """

    id: str
    name: str
    cis: str
    component: str
    title: str
    severity: Severity
    stage: Stage
    judge: Judge
    what: str
    why: str
    remediation: str
    bad: tuple[str, ...]
    good: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    frameworks: Mapping[str, Sequence[str]] = field(default_factory=dict)
    area: Area = Area.CONTROL_PLANE
    # The same meaning on a managed control plane (a ``ManagedCluster``'s spec, see
    # `stockade.sources.cloud`).
    managed: ManagedJudge | None = None


# -- judges --------------------------------------------------------------------------------------
def _shown(flags: ParsedFlags, flag: str, version: Version) -> str:
    value = flags.get(flag, version)
    if flags.is_set(flag):
        return f"--{flag}={value}"
    if value is None:
        return f"--{flag} is not set"
    return f"--{flag} is not set (the default is {value or 'empty'})"


def equals(flag: str, wanted: str) -> Judge:
    def judge(flags: ParsedFlags, version: Version) -> tuple[str, str] | None:
        value = flags.get(flag, version)
        if value is not None and value.lower() == wanted:
            return None
        return f"{_shown(flags, flag, version)}; it must be {wanted}", flag

    return judge


def not_set(flag: str) -> Judge:
    def judge(flags: ParsedFlags, version: Version) -> tuple[str, str] | None:
        if not flags.is_set(flag):
            return None
        return f"{_shown(flags, flag, version)}; it must not be set", flag

    return judge


def all_set(*names: str) -> Judge:
    def judge(flags: ParsedFlags, version: Version) -> tuple[str, str] | None:
        missing = [n for n in names if not flags.values.get(n, ("",))[-1].strip()]  # given explicitly
        if not missing:
            return None
        return ", ".join(f"--{n}" for n in missing) + (" is" if len(missing) == 1 else " are") + " not set", missing[0]

    return judge


def lists(flag: str, *, includes: str = "", excludes: str = "", unless_set: str = "") -> Judge:
    """A comma-separated flag must (not) name an item; ``unless_set``: another flag replaces it."""

    def judge(flags: ParsedFlags, version: Version) -> tuple[str, str] | None:
        if unless_set and flags.is_set(unless_set):
            return None
        items = flags.list_values(flag) if flags.is_set(flag) else _split(flags.get(flag, version))
        if includes and includes not in items:
            return f"{_shown(flags, flag, version)}; it must include {includes}", flag
        if excludes and excludes in items:
            return f"{_shown(flags, flag, version)}; it must not include {excludes}", flag
        return None

    return judge


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


# Admission plugins on by default (kube-apiserver --help, v1.25 and later).
DEFAULT_PLUGINS = frozenset(
    {
        "CertificateApproval",
        "CertificateSigning",
        "CertificateSubjectRestriction",
        "DefaultIngressClass",
        "DefaultStorageClass",
        "DefaultTolerationSeconds",
        "LimitRanger",
        "MutatingAdmissionWebhook",
        "NamespaceLifecycle",
        "PersistentVolumeClaimResize",
        "PodSecurity",
        "Priority",
        "ResourceQuota",
        "RuntimeClass",
        "ServiceAccount",
        "StorageObjectInUseProtection",
        "TaintNodesByCondition",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionWebhook",
    }
)


def plugin(name: str, *, enabled: bool) -> Judge:
    """An admission plugin is (not) in effect: enabled explicitly or by default, and not disabled."""

    def judge(flags: ParsedFlags, version: Version) -> tuple[str, str] | None:
        on = flags.list_values("enable-admission-plugins") + flags.list_values("admission-control")
        off = flags.list_values("disable-admission-plugins")
        active = (name in on or name in DEFAULT_PLUGINS) and name not in off
        if active == enabled:
            return None
        where = "disable-admission-plugins" if name in off else "enable-admission-plugins"
        if enabled:
            why = "is disabled" if name in off else "is not enabled (it is off by default)"
            return f"admission plugin {name} {why}; enable it", where
        return f"admission plugin {name} is enabled; remove it", where

    return judge


def at_least(flag: str, minimum: int) -> Judge:
    def judge(flags: ParsedFlags, version: Version) -> tuple[str, str] | None:
        value = flags.get(flag, version)
        try:
            number = int(value) if value is not None else 0
        except ValueError:
            return f"{_shown(flags, flag, version)} is not a number", flag
        if number >= minimum:
            return None
        return f"{_shown(flags, flag, version)}; it should be {minimum} or more", flag

    return judge


def loopback(flag: str) -> Judge:
    def judge(flags: ParsedFlags, version: Version) -> tuple[str, str] | None:
        value = flags.get(flag, version)
        if value in ("127.0.0.1", "::1", "localhost"):
            return None
        return (
            f"{_shown(flags, flag, version)}; it must be 127.0.0.1 so the component is not reachable from the network",
            flag,
        )

    return judge


def gate_not_false(gate: str) -> Judge:
    def judge(flags: ParsedFlags, version: Version) -> tuple[str, str] | None:
        for entry in flags.list_values("feature-gates"):
            name, _, value = entry.partition("=")
            if name.strip() == gate and value.strip().lower() == "false":
                return f"--feature-gates sets {gate}=false", "feature-gates"
        return None

    return judge


# Cipher suites CIS accepts (TLS 1.2 AEAD with forward secrecy, and the TLS 1.3 ones).
STRONG_CIPHERS = frozenset(
    {
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    }
)


def strong_ciphers(flag: str) -> Judge:
    def judge(flags: ParsedFlags, version: Version) -> tuple[str, str] | None:
        if not flags.is_set(flag):
            return f"--{flag} is not set: the Go defaults include CBC and RSA key-exchange suites", flag
        weak = [c for c in flags.list_values(flag) if c not in STRONG_CIPHERS]
        if not weak:
            return None
        return f"--{flag} allows weak suites: {', '.join(weak)}", flag

    return judge


def any_set(*names: str) -> Judge:
    """At least one of ``names`` is given (alternatives, e.g. OIDC flags or a structured config)."""

    def judge(flags: ParsedFlags, version: Version) -> tuple[str, str] | None:
        if any(flags.values.get(n, ("",))[-1].strip() for n in names):
            return None
        return "none of " + ", ".join(f"--{n}" for n in names) + " is set", names[0]

    return judge


def both(first: Judge, second: Judge) -> Judge:
    def judge(flags: ParsedFlags, version: Version) -> tuple[str, str] | None:
        return first(flags, version) or second(flags, version)

    return judge


# -- evaluation ----------------------------------------------------------------------------------
def components(inventory: Inventory) -> Mapping[str, tuple[ComponentFacts, ...]]:
    """Control-plane component pods of kube-system, by component (one per control-plane node)."""
    found: dict[str, list[ComponentFacts]] = {}
    for pod in inventory.of_kind("Pod"):
        if inventory.effective_namespace(pod) != SYSTEM_NAMESPACE:
            continue
        facts = component_facts(pod)
        if facts is not None:
            found.setdefault(facts.component, []).append(facts)
    return {name: tuple(items) for name, items in found.items()}


def flag_path(pod_raw: Mapping[str, Any], component: str, flag: str) -> Path:
    """Where ``--flag`` is written in the component's container (its command when absent)."""
    spec = pod_raw.get("spec")
    containers = spec.get("containers") if isinstance(spec, Mapping) else None
    if not isinstance(containers, list):
        return ("spec",)
    for index, container in enumerate(containers):
        if not isinstance(container, Mapping):
            continue
        argv = container_argv(container)
        if not (any(component in part for part in argv[:1]) or container.get("name") == component):
            continue
        for key in ("command", "args"):
            values = container.get(key)
            if not isinstance(values, list):
                continue
            for position, token in enumerate(values):
                if isinstance(token, str) and token.lstrip("-").split("=", 1)[0] == flag and token.startswith("-"):
                    return ("spec", "containers", index, key, position)
        return ("spec", "containers", index, "command" if "command" in container else "args")
    return ("spec",)


def flag_rule(check: FlagCheck) -> Rule:
    def run(ctx: RuleContext) -> Iterator[Outcome]:
        version = ctx.config.kubernetes_version
        for facts in ctx.analyses.get(components).get(check.component, ()):
            problem = check.judge(facts.flags, version)
            if problem is None:
                yield Outcome(facts.pod)
                continue
            message, flag = problem
            path = flag_path(facts.pod.raw, check.component, flag)
            yield Outcome(facts.pod, (Violation(f"{check.component}: {message}", path),))
        if check.managed is not None:
            yield from managed_outcomes(ctx.inventory, check.managed)

    frameworks = {"cis-1.10": [check.cis], **{k: list(v) for k, v in check.frameworks.items()}}
    return table_rule(
        check,
        run,
        Scope.INVENTORY,
        area=check.area,
        frameworks=frameworks,
        remediation=check.remediation,
        doc=_doc(check),
        reads=("Pod", "ManagedCluster"),
    )


def managed_outcomes(inventory: Inventory, judge: ManagedJudge) -> Iterator[Outcome]:
    """The same check on each managed control plane whose description carries the fact."""
    for cluster in inventory.of_kind("ManagedCluster"):
        spec = cluster.raw.get("spec")
        verdict = judge(spec) if isinstance(spec, Mapping) else None
        if verdict is True:
            yield Outcome(cluster)
        elif isinstance(verdict, tuple):
            message, path = verdict
            provider = spec.get("provider", "managed") if isinstance(spec, Mapping) else "managed"
            yield Outcome(cluster, (Violation(f"{provider}: {message}", path),))


def _edited(component: str, edits: Sequence[str]) -> list[str]:
    args = list(BASELINE[component])
    for edit in edits:
        name = edit.split("=", 1)[0]
        args = [a for a in args if a.split("=", 1)[0] != name]
        if "=" in edit:
            args.append(edit)
    return args


def static_pod(component: str, edits: Sequence[str]) -> str:
    """The component's static pod manifest (as in /etc/kubernetes/manifests) with ``edits``."""
    lines = [
        "apiVersion: v1",
        "kind: Pod",
        f"metadata: {{name: {component}, namespace: kube-system, labels: {{component: {component}, tier: control-plane}}}}",
        "spec:",
        "  hostNetwork: true",
        "  priorityClassName: system-node-critical",
        "  containers:",
        f"    - name: {component}",
        f"      image: {IMAGES[component]}",
        "      command:",
        f"        - {component}",
        *(f"        - {arg}" for arg in _edited(component, edits)),
    ]
    return "\n".join(lines) + "\n"


def _doc(check: FlagCheck) -> str:
    references = "\n".join(f"- {ref}" for ref in check.references)
    return (
        f"{check.title}.\n\n"
        f"## What it does\n{check.what}\n\n"
        f"## Why is this bad?\n{check.why}\n\n"
        f"## Example\n```yaml\n{static_pod(check.component, check.bad)}```\n\n"
        f"## Use instead\n```yaml\n{static_pod(check.component, check.good)}```\n\n"
        f"## Remediation\n{check.remediation}\n\n"
        f"## References\n- CIS Kubernetes Benchmark v1.10, control {check.cis}\n{references}\n"
    )
