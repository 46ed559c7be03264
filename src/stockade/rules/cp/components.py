"""CP-030…CP-045: controller-manager, scheduler and etcd flags (CIS v1.10, sections 1.3, 1.4 and 2)."""

from __future__ import annotations

from stockade.model.finding import Severity, Stage
from stockade.rules.cp._flags import (
    FlagCheck,
    Version,
    all_set,
    at_least,
    both,
    equals,
    flag_rule,
    gate_not_false,
    loopback,
)
from stockade.sources.component_flags import ParsedFlags

CM = "kube-controller-manager"
SCHED = "kube-scheduler"
ETCD = "etcd"
CM_DOC = "https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/"
SCHED_DOC = "https://kubernetes.io/docs/reference/command-line-tools-reference/kube-scheduler/"
ETCD_DOC = "https://etcd.io/docs/v3.5/op-guide/security/"
PROFILING_WHY = "/debug/pprof reveals internals and can be used to load the process."
SECRETS = {"nsa-cisa": ["network.secrets"], "mitre-attack": ["T1552"]}

NO_AUTO_TOKENS = "LegacyServiceAccountTokenNoAutoGeneration"


def no_legacy_tokens(flags: ParsedFlags, version: Version) -> tuple[str, str] | None:
    """Before v1.24 every ServiceAccount got a token Secret that never expires (the gate's default
    turned on in v1.24 and it went GA in v1.26); turning the gate off brings them back."""
    for entry in flags.list_values("feature-gates"):
        name, _, value = entry.partition("=")
        if name.strip() == NO_AUTO_TOKENS and value.strip().lower() == "false":
            return f"--feature-gates sets {NO_AUTO_TOKENS}=false: token Secrets are created again", "feature-gates"
    if version is not None and version < (1, 24):
        return f"Kubernetes {version[0]}.{version[1]} creates a token Secret for every ServiceAccount", "feature-gates"
    return None


CHECKS = (
    FlagCheck(
        "CP-030",
        "controller-manager-terminated-pod-gc",
        "1.3.1",
        CM,
        "Controller manager keeps up to 12,500 terminated pods",
        Severity.LOW,
        Stage.RUN,
        both(all_set("terminated-pod-gc-threshold"), at_least("terminated-pod-gc-threshold", 1)),
        "Flags a `--terminated-pod-gc-threshold` that is not set (the default keeps 12,500) or not positive.",
        "Thousands of terminated pods slow the API server and hide what ran; a deliberate threshold "
        "keeps the history you want and no more.",
        "Set `--terminated-pod-gc-threshold` to a value sized for the cluster (e.g. 10 per node).",
        bad=("--terminated-pod-gc-threshold",),
        good=(),
        references=(CM_DOC,),
    ),
    FlagCheck(
        "CP-031",
        "controller-manager-profiling",
        "1.3.2",
        CM,
        "Controller manager exposes profiling endpoints",
        Severity.LOW,
        Stage.WALK,
        equals("profiling", "false"),
        "Reads `--profiling`; unset, it is `true`.",
        PROFILING_WHY,
        "Set `--profiling=false`.",
        bad=("--profiling",),
        references=(CM_DOC,),
    ),
    FlagCheck(
        "CP-032",
        "controller-manager-service-account-credentials",
        "1.3.3",
        CM,
        "Controllers share the controller manager's own identity",
        Severity.MEDIUM,
        Stage.WALK,
        equals("use-service-account-credentials", "true"),
        "Reads `--use-service-account-credentials`; unset, it is `false`.",
        "With one shared identity every controller holds the union of all controllers' permissions; "
        "per-controller ServiceAccounts keep each to its own role.",
        "Set `--use-service-account-credentials=true`.",
        bad=("--use-service-account-credentials",),
        references=(CM_DOC,),
    ),
    FlagCheck(
        "CP-033",
        "controller-manager-service-account-key",
        "1.3.4",
        CM,
        "Controller manager has no key to sign ServiceAccount tokens",
        Severity.MEDIUM,
        Stage.WALK,
        all_set("service-account-private-key-file"),
        "Checks that `--service-account-private-key-file` is set.",
        "Without it the controller manager cannot sign tokens, and key rotation cannot be planned.",
        "Set `--service-account-private-key-file` to the key matching the API server's `--service-account-key-file`.",
        bad=("--service-account-private-key-file",),
        references=(CM_DOC,),
    ),
    FlagCheck(
        "CP-034",
        "controller-manager-root-ca",
        "1.3.5",
        CM,
        "Controller manager does not give pods the cluster CA",
        Severity.MEDIUM,
        Stage.WALK,
        all_set("root-ca-file"),
        "Checks that `--root-ca-file` is set.",
        "Pods then cannot verify the API server's certificate and are open to a machine in the middle.",
        "Set `--root-ca-file` to the cluster CA.",
        bad=("--root-ca-file",),
        references=(CM_DOC,),
    ),
    FlagCheck(
        "CP-035",
        "controller-manager-kubelet-cert-rotation",
        "1.3.6",
        CM,
        "Kubelet serving certificates are not rotated",
        Severity.MEDIUM,
        Stage.WALK,
        gate_not_false("RotateKubeletServerCertificate"),
        "Flags `--feature-gates` that turn `RotateKubeletServerCertificate` off (it is on by default).",
        "Without rotation kubelet serving certificates live until they expire, and a stolen one stays useful.",
        "Remove `RotateKubeletServerCertificate=false` from `--feature-gates`.",
        bad=("--feature-gates=RotateKubeletServerCertificate=false",),
        references=(CM_DOC,),
    ),
    FlagCheck(
        "CP-036",
        "controller-manager-bind-address",
        "1.3.7",
        CM,
        "Controller manager listens on every interface",
        Severity.MEDIUM,
        Stage.CRAWL,
        loopback("bind-address"),
        "Reads `--bind-address`; unset, it is `0.0.0.0`.",
        "Its health, metrics and debug endpoints are then reachable from the network.",
        "Set `--bind-address=127.0.0.1`.",
        bad=("--bind-address",),
        references=(CM_DOC,),
    ),
    FlagCheck(
        "CP-037",
        "scheduler-profiling",
        "1.4.1",
        SCHED,
        "Scheduler exposes profiling endpoints",
        Severity.LOW,
        Stage.WALK,
        equals("profiling", "false"),
        "Reads `--profiling`; unset, it is `true`.",
        PROFILING_WHY,
        "Set `--profiling=false`.",
        bad=("--profiling",),
        references=(SCHED_DOC,),
    ),
    FlagCheck(
        "CP-038",
        "scheduler-bind-address",
        "1.4.2",
        SCHED,
        "Scheduler listens on every interface",
        Severity.MEDIUM,
        Stage.CRAWL,
        loopback("bind-address"),
        "Reads `--bind-address`; unset, it is `0.0.0.0`.",
        "Its health, metrics and debug endpoints are then reachable from the network.",
        "Set `--bind-address=127.0.0.1`.",
        bad=("--bind-address=0.0.0.0",),
        references=(SCHED_DOC,),
    ),
    FlagCheck(
        "CP-039",
        "etcd-tls",
        "2.1",
        ETCD,
        "etcd serves clients without TLS",
        Severity.CRITICAL,
        Stage.CRAWL,
        all_set("cert-file", "key-file"),
        "Checks that `--cert-file` and `--key-file` are set.",
        "etcd holds every Secret of the cluster; without TLS they cross the network in clear text.",
        "Set `--cert-file` and `--key-file`, and advertise `https://` client URLs.",
        bad=("--cert-file", "--key-file"),
        references=(ETCD_DOC,),
        frameworks=SECRETS,
    ),
    FlagCheck(
        "CP-040",
        "etcd-client-cert-auth",
        "2.2",
        ETCD,
        "etcd accepts clients without a certificate",
        Severity.CRITICAL,
        Stage.CRAWL,
        equals("client-cert-auth", "true"),
        "Reads `--client-cert-auth`; unset, it is `false`.",
        "Anyone who reaches port 2379 then reads and writes every object of the cluster, Secrets included.",
        "Set `--client-cert-auth=true` with `--trusted-ca-file`.",
        bad=("--client-cert-auth",),
        references=(ETCD_DOC,),
        frameworks=SECRETS,
    ),
    FlagCheck(
        "CP-041",
        "etcd-auto-tls",
        "2.3",
        ETCD,
        "etcd serves clients with a self-signed certificate",
        Severity.HIGH,
        Stage.CRAWL,
        equals("auto-tls", "false"),
        "Flags `--auto-tls=true` (unset, it is `false`).",
        "Self-signed certificates cannot be verified by clients: any machine in the middle can pose as etcd.",
        "Remove `--auto-tls`; use certificates from etcd's CA.",
        bad=("--auto-tls=true",),
        references=(ETCD_DOC,),
    ),
    FlagCheck(
        "CP-042",
        "etcd-peer-tls",
        "2.4",
        ETCD,
        "etcd members talk to each other without TLS",
        Severity.HIGH,
        Stage.CRAWL,
        all_set("peer-cert-file", "peer-key-file"),
        "Checks that `--peer-cert-file` and `--peer-key-file` are set.",
        "Replication traffic carries every write, Secrets included.",
        "Set `--peer-cert-file` and `--peer-key-file`.",
        bad=("--peer-key-file",),
        references=(ETCD_DOC,),
        frameworks=SECRETS,
    ),
    FlagCheck(
        "CP-043",
        "etcd-peer-client-cert-auth",
        "2.5",
        ETCD,
        "etcd accepts peers without a certificate",
        Severity.HIGH,
        Stage.CRAWL,
        equals("peer-client-cert-auth", "true"),
        "Reads `--peer-client-cert-auth`; unset, it is `false`.",
        "Any machine that reaches the peer port can join the cluster and receive its data.",
        "Set `--peer-client-cert-auth=true` with `--peer-trusted-ca-file`.",
        bad=("--peer-client-cert-auth",),
        references=(ETCD_DOC,),
    ),
    FlagCheck(
        "CP-044",
        "etcd-peer-auto-tls",
        "2.6",
        ETCD,
        "etcd members use self-signed peer certificates",
        Severity.HIGH,
        Stage.CRAWL,
        equals("peer-auto-tls", "false"),
        "Flags `--peer-auto-tls=true` (unset, it is `false`).",
        "Self-signed peer certificates cannot be verified, so peer authentication means nothing.",
        "Remove `--peer-auto-tls`; use certificates from etcd's CA.",
        bad=("--peer-auto-tls=true",),
        references=(ETCD_DOC,),
    ),
)

LEGACY_TOKENS = FlagCheck(
    "CP-049",
    "legacy-token-auto-generation",
    "3.1.2",
    CM,
    "ServiceAccounts get token Secrets that never expire",
    Severity.MEDIUM,
    Stage.WALK,
    no_legacy_tokens,
    "Flags a control plane that creates a long-lived token Secret for every ServiceAccount: any "
    "version before v1.24 (the `kubernetes-version` setting or the cluster's), or a controller "
    f"manager that turns `{NO_AUTO_TOKENS}` off.",
    "Each such Secret is a credential that never expires and is not bound to a pod: whoever can read "
    "Secrets in the namespace holds every account there.",
    "Upgrade to a supported release (v1.24 or later) and leave the gate at its default; remove the "
    "token Secrets left behind once nothing uses them (AU-001).",
    bad=(f"--feature-gates={NO_AUTO_TOKENS}=false",),
    references=(CM_DOC,),
    frameworks={"nsa-cisa": ["authn.authentication"], "mitre-attack": ["T1528"]},
)

RULES = tuple(flag_rule(check) for check in (*CHECKS, LEGACY_TOKENS))
