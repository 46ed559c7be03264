"""ND-040…ND-052: the kubelet's settings (CIS v1.10, section 4.2)."""

from __future__ import annotations

from typing import Any

from stockade.model.finding import Severity, Stage
from stockade.rules.nd._kubelet import KubeletCheck, KubeletView, Setting, Version, expect, kubelet_rule, strong, truthy

ANONYMOUS = Setting("anonymous-auth", ("authentication", "anonymous", "enabled"), False, True)
AUTHZ = Setting("authorization-mode", ("authorization", "mode"), "Webhook", "AlwaysAllow")
CLIENT_CA = Setting("client-ca-file", ("authentication", "x509", "clientCAFile"))
READ_ONLY = Setting("read-only-port", ("readOnlyPort",), 0, 10255)
IDLE = Setting("streaming-connection-idle-timeout", ("streamingConnectionIdleTimeout",), "4h0m0s", "4h0m0s")
IPTABLES = Setting("make-iptables-util-chains", ("makeIPTablesUtilChains",), True, True)
HOSTNAME = Setting("hostname-override", ("__flag_only__",))
EVENT_QPS = Setting("event-qps", ("eventRecordQPS",), 5, 5, versioned=(((1, 27), 50),))
TLS_CERT = Setting("tls-cert-file", ("tlsCertFile",))
TLS_KEY = Setting("tls-private-key-file", ("tlsPrivateKeyFile",))
ROTATE = Setting("rotate-certificates", ("rotateCertificates",), False, False)
SERVER_ROTATE = Setting("rotate-server-certificates", ("serverTLSBootstrap",), False, False)
CIPHERS = Setting("tls-cipher-suites", ("tlsCipherSuites",))
PIDS = Setting("pod-max-pids", ("podPidsLimit",), -1, -1)
KERNEL = Setting("protect-kernel-defaults", ("protectKernelDefaults",), False, False)


def _is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def _port_zero(value: Any) -> bool:
    return str(value) == "0"


def _not_zero_duration(value: Any) -> bool:
    return str(value).strip() not in ("0", "0s", "0m", "0h", "0h0m0s")


def _qps(value: Any) -> bool:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return False
    return number == 0 or number >= 50  # 0: no limit, every event kept


def _positive(value: Any) -> bool:
    try:
        return int(value) > 0
    except (TypeError, ValueError):
        return False


def _tls(view: KubeletView, version: Version) -> tuple[str, tuple[str | int, ...]] | None:
    if truthy(view.get(SERVER_ROTATE, version).value):
        return None  # serving certificates come from the cluster CA through CSRs
    cert, key = view.get(TLS_CERT, version), view.get(TLS_KEY, version)
    if cert.value and key.value:
        return None
    missing = cert if not cert.value else key
    return (
        "no serving certificate: set tlsCertFile and tlsPrivateKeyFile, or serverTLSBootstrap: true "
        "(otherwise the kubelet serves a self-signed certificate)",
        missing.path,
    )


def _server_rotation(view: KubeletView, version: Version) -> tuple[str, tuple[str | int, ...]] | None:
    gates = view.config.get("featureGates")
    if isinstance(gates, dict) and _is_false(gates.get("RotateKubeletServerCertificate")):
        return "featureGates turns RotateKubeletServerCertificate off", ("spec", "config", "featureGates")
    return expect(SERVER_ROTATE, truthy, "set serverTLSBootstrap: true so serving certificates rotate")(view, version)


CHECKS = (
    KubeletCheck(
        "ND-040",
        "kubelet-anonymous-auth",
        "4.2.1",
        "Kubelet serves anonymous requests",
        Severity.HIGH,
        Stage.CRAWL,
        expect(ANONYMOUS, _is_false, "it must be false"),
        "Reads `authentication.anonymous.enabled` (or `--anonymous-auth`). Unset, it is false with a "
        "configuration file and **true** with flags alone.",
        "Anyone who reaches port 10250 can then list pods, read logs and, with AlwaysAllow, exec into containers.",
        "Set `authentication.anonymous.enabled: false` in the kubelet configuration.",
        bad={"authentication": {"anonymous": {"enabled": True}}},
        frameworks={"mitre-attack": ["T1078"]},
    ),
    KubeletCheck(
        "ND-041",
        "kubelet-authorization-mode",
        "4.2.2",
        "Kubelet authorizes every request",
        Severity.CRITICAL,
        Stage.CRAWL,
        expect(AUTHZ, lambda v: str(v) != "AlwaysAllow", "it must be Webhook"),
        "Reads `authorization.mode` (or `--authorization-mode`). Unset, it is Webhook with a configuration "
        "file and **AlwaysAllow** with flags alone.",
        "With AlwaysAllow any authenticated caller may exec into every pod on the node through the kubelet API.",
        "Set `authorization.mode: Webhook`.",
        bad={"authorization": {"mode": "AlwaysAllow"}},
        frameworks={"mitre-attack": ["T1609"]},
    ),
    KubeletCheck(
        "ND-042",
        "kubelet-client-ca",
        "4.2.3",
        "Kubelet does not verify client certificates",
        Severity.HIGH,
        Stage.CRAWL,
        expect(CLIENT_CA, bool, "set it to the cluster CA"),
        "Checks that `authentication.x509.clientCAFile` (or `--client-ca-file`) is set.",
        "Without a client CA the kubelet cannot authenticate the API server's client certificate.",
        "Set `authentication.x509.clientCAFile: /etc/kubernetes/pki/ca.crt`.",
        bad={"authentication": {"x509": {"clientCAFile": None}}},
    ),
    KubeletCheck(
        "ND-043",
        "kubelet-read-only-port",
        "4.2.4",
        "Kubelet serves an unauthenticated read-only port",
        Severity.HIGH,
        Stage.CRAWL,
        expect(READ_ONLY, _port_zero, "it must be 0"),
        "Reads `readOnlyPort` (or `--read-only-port`). Unset, it is 0 with a configuration file and "
        "**10255** with flags alone.",
        "Port 10255 answers without authentication: every pod's spec, environment included, is readable "
        "from the network.",
        "Set `readOnlyPort: 0`.",
        bad={"readOnlyPort": 10255},
    ),
    KubeletCheck(
        "ND-044",
        "kubelet-streaming-idle-timeout",
        "4.2.5",
        "Kubelet keeps idle exec and port-forward streams forever",
        Severity.LOW,
        Stage.WALK,
        expect(IDLE, _not_zero_duration, "it must not be 0"),
        "Reads `streamingConnectionIdleTimeout` (unset: 4h).",
        "A zero timeout keeps forgotten exec and port-forward sessions open indefinitely.",
        "Set `streamingConnectionIdleTimeout: 5m`.",
        bad={"streamingConnectionIdleTimeout": "0s"},
    ),
    KubeletCheck(
        "ND-045",
        "kubelet-iptables-util-chains",
        "4.2.6",
        "Kubelet does not manage its iptables chains",
        Severity.LOW,
        Stage.WALK,
        expect(IPTABLES, lambda v: not _is_false(v), "it must be true"),
        "Reads `makeIPTablesUtilChains` (unset: true).",
        "Hand-managed iptables rules drift from what pods' networking needs.",
        "Remove `makeIPTablesUtilChains: false`.",
        bad={"makeIPTablesUtilChains": False},
    ),
    KubeletCheck(
        "ND-046",
        "kubelet-hostname-override",
        "4.2.7",
        "Kubelet overrides the node's host name",
        Severity.LOW,
        Stage.WALK,
        expect(HOSTNAME, lambda v: v is None, "it should not be set"),
        "Flags `--hostname-override`.",
        "An overridden host name breaks TLS between the API server and the kubelet (the certificate names "
        "another host), which pushes people to turn verification off.",
        "Remove `--hostname-override` (kubeadm-flags.env).",
        bad={},
        bad_flags={"hostname-override": "worker-7.internal"},
    ),
    KubeletCheck(
        "ND-047",
        "kubelet-event-qps",
        "4.2.8",
        "Kubelet drops events under load",
        Severity.LOW,
        Stage.RUN,
        expect(EVENT_QPS, _qps, "set it to 0 (no limit) or 50 or more so events are kept"),
        "Reads `eventRecordQPS` (or `--event-qps`). Unset, it is 5 before v1.27 and 50 since "
        "(kubernetes/kubernetes#116121): the same node passes or fails by version.",
        "Events rate-limited away are evidence lost: an incident's pod starts and kills go unrecorded.",
        "Set `eventRecordQPS: 50` (or 0).",
        bad={"eventRecordQPS": 5},
    ),
    KubeletCheck(
        "ND-048",
        "kubelet-serving-certificate",
        "4.2.9",
        "Kubelet serves a self-signed certificate",
        Severity.MEDIUM,
        Stage.WALK,
        _tls,
        "Checks that `tlsCertFile` and `tlsPrivateKeyFile` are set, or that serving certificates are "
        "requested from the cluster (`serverTLSBootstrap: true`).",
        "Clients cannot verify a self-signed serving certificate, so the API server's connection to the "
        "kubelet can be intercepted.",
        "Set `serverTLSBootstrap: true` (and approve the kubelets' serving CSRs) or set `tlsCertFile`/`tlsPrivateKeyFile`.",
        bad={"serverTLSBootstrap": None, "tlsCertFile": None, "tlsPrivateKeyFile": None},
    ),
    KubeletCheck(
        "ND-049",
        "kubelet-rotate-certificates",
        "4.2.10",
        "Kubelet client certificate is not rotated",
        Severity.MEDIUM,
        Stage.WALK,
        expect(ROTATE, truthy, "it must be true"),
        "Reads `rotateCertificates` (or `--rotate-certificates`); unset, it is false.",
        "A client certificate that never rotates stays valid until it expires, stolen or not.",
        "Set `rotateCertificates: true`.",
        bad={"rotateCertificates": False},
    ),
    KubeletCheck(
        "ND-050",
        "kubelet-server-certificate-rotation",
        "4.2.11",
        "Kubelet serving certificate is not rotated",
        Severity.MEDIUM,
        Stage.WALK,
        _server_rotation,
        "Checks that serving certificates rotate: `serverTLSBootstrap: true` and the "
        "`RotateKubeletServerCertificate` feature gate not turned off.",
        "Serving certificates that never rotate stay useful to whoever copies them.",
        "Set `serverTLSBootstrap: true`.",
        bad={"featureGates": {"RotateKubeletServerCertificate": False}},
    ),
    KubeletCheck(
        "ND-051",
        "kubelet-strong-ciphers",
        "4.2.12",
        "Kubelet allows weak TLS cipher suites",
        Severity.LOW,
        Stage.RUN,
        expect(CIPHERS, strong, "list only ECDHE AEAD suites"),
        "Checks that `tlsCipherSuites` is set and lists only AEAD suites with forward secrecy.",
        "The Go defaults keep CBC-mode and RSA key-exchange suites for compatibility.",
        "Set `tlsCipherSuites` to the ECDHE GCM and ChaCha20 suites.",
        bad={"tlsCipherSuites": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA"]},
    ),
    KubeletCheck(
        "ND-052",
        "kubelet-pod-pids-limit",
        "4.2.13",
        "Kubelet sets no limit on processes per pod",
        Severity.MEDIUM,
        Stage.WALK,
        expect(PIDS, _positive, "set a positive limit"),
        "Reads `podPidsLimit` (or `--pod-max-pids`); unset, it is -1 (no limit).",
        "One pod's fork bomb exhausts the node's process table and takes down every pod on it.",
        "Set `podPidsLimit: 4096` (sized to your workloads).",
        bad={"podPidsLimit": None},
    ),
)

# No longer a CIS v1.10 control, still a hardening step: kernel settings the kubelet expects must be
# enforced, not silently changed.
PROTECT_KERNEL = KubeletCheck(
    "ND-053",
    "kubelet-protect-kernel-defaults",
    "",
    "Kubelet lets kernel settings drift from what it needs",
    Severity.LOW,
    Stage.RUN,
    expect(KERNEL, truthy, "it should be true"),
    "Reads `protectKernelDefaults` (or `--protect-kernel-defaults`); unset, it is false.",
    "With it off the kubelet silently rewrites kernel parameters it does not like instead of failing, "
    "so a node hardened by its image can drift without anyone noticing.",
    "Set `protectKernelDefaults: true` after setting the kernel parameters the kubelet requires.",
    bad={"protectKernelDefaults": None},
    frameworks={"nsa-cisa": ["pod-security.hardening"]},
)

RULES = tuple(kubelet_rule(check) for check in (*CHECKS, PROTECT_KERNEL))
