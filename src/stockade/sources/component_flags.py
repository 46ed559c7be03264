"""Command-line flags of control-plane components, parsed as Go's pflag parses them.

``--flag=value`` and ``--flag value`` are both accepted, except for boolean flags, which pflag
only lets take a value with ``=`` (``--profiling false`` sets profiling to true and leaves a stray
argument). Repeated flags keep every value in order; for scalar flags the last one wins.
Defaults that matter to security checks are kept per component and version range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Boolean flags per component (only those security checks read; unknown flags are treated as
# taking a value when one follows, which is what pflag does for string flags).
BOOL_FLAGS: Mapping[str, frozenset[str]] = {
    "kube-apiserver": frozenset(
        {
            "anonymous-auth",
            "profiling",
            "allow-privileged",
            "service-account-lookup",
            "enable-bootstrap-token-auth",
            "insecure-skip-tls-verify",
            "enable-aggregator-routing",
            "service-account-extend-token-expiration",
            "enable-priority-and-fairness",
            "audit-log-compress",
        }
    ),
    "kube-controller-manager": frozenset({"profiling", "use-service-account-credentials", "leader-elect"}),
    "kube-scheduler": frozenset({"profiling", "leader-elect"}),
    "etcd": frozenset({"client-cert-auth", "peer-client-cert-auth", "auto-tls", "peer-auto-tls", "enable-pprof"}),
    "kubelet": frozenset(
        {
            "anonymous-auth",
            "protect-kernel-defaults",
            "make-iptables-util-chains",
            "rotate-certificates",
            "seccomp-default",
        }
    ),
}


@dataclass(frozen=True, slots=True)
class FlagDefault:
    value: str
    since: tuple[int, int] = (1, 0)  # first minor version with this default
    until: tuple[int, int] | None = None  # first minor version without it


# Defaults of the upstream binaries (not of installers such as kubeadm), by version.
DEFAULTS: Mapping[str, Mapping[str, tuple[FlagDefault, ...]]] = {
    "kube-apiserver": {
        "anonymous-auth": (FlagDefault("true"),),
        "profiling": (FlagDefault("true"),),
        "authorization-mode": (FlagDefault("AlwaysAllow"),),
        "service-account-lookup": (FlagDefault("true"),),
        "secure-port": (FlagDefault("6443"),),
        "insecure-port": (FlagDefault("8080", until=(1, 20)), FlagDefault("0", since=(1, 20), until=(1, 24))),
        "enable-admission-plugins": (FlagDefault(""),),
        "service-account-extend-token-expiration": (FlagDefault("true", since=(1, 19)),),
        "request-timeout": (FlagDefault("1m0s"),),
    },
    "kube-controller-manager": {
        "profiling": (FlagDefault("true"),),
        "use-service-account-credentials": (FlagDefault("false"),),
        "terminated-pod-gc-threshold": (FlagDefault("12500"),),
        "bind-address": (FlagDefault("0.0.0.0"),),  # noqa: S104 - the upstream default we report on
    },
    "kube-scheduler": {
        "profiling": (FlagDefault("true"),),
        "bind-address": (FlagDefault("0.0.0.0"),),  # noqa: S104 - the upstream default we report on
    },
    "etcd": {
        "client-cert-auth": (FlagDefault("false"),),
        "peer-client-cert-auth": (FlagDefault("false"),),
        "auto-tls": (FlagDefault("false"),),
        "peer-auto-tls": (FlagDefault("false"),),
    },
}


@dataclass(frozen=True, slots=True)
class ParsedFlags:
    component: str
    values: Mapping[str, tuple[str, ...]]  # every value given, in order
    positional: tuple[str, ...]  # the binary and stray arguments

    def get(self, name: str, version: tuple[int, int] | None = None) -> str | None:
        """The effective value: the last one given, else the default for ``version`` (if known)."""
        given = self.values.get(name)
        if given:
            return given[-1]
        return default_for(self.component, name, version)

    def is_set(self, name: str) -> bool:
        return name in self.values

    def list_values(self, name: str) -> list[str]:
        """Comma-separated flags (``--enable-admission-plugins=A,B``), all occurrences merged."""
        out: list[str] = []
        for value in self.values.get(name, ()):
            out.extend(part.strip() for part in value.split(",") if part.strip())
        return out


def default_for(component: str, name: str, version: tuple[int, int] | None) -> str | None:
    """The binary's default for ``version``; with no version, the current one (None if the flag
    is gone from current releases)."""
    for default in DEFAULTS.get(component, {}).get(name, ()):
        if version is None:
            if default.until is None:
                return default.value
            continue
        if default.since <= version and (default.until is None or version < default.until):
            return default.value
    return None


def parse_flags(component: str, argv: Sequence[str]) -> ParsedFlags:
    bools = BOOL_FLAGS.get(component, frozenset())
    values: dict[str, list[str]] = {}
    positional: list[str] = []
    index = 0
    while index < len(argv):
        token = argv[index]
        index += 1
        if not token.startswith("-") or token in ("-", "--"):
            positional.append(token)
            continue
        name, has_value, value = token.lstrip("-").partition("=")
        if not has_value:
            if name in bools:
                value = "true"
            elif index < len(argv) and not argv[index].startswith("-"):
                value = argv[index]
                index += 1
            else:
                value = "true"  # a flag with no value: pflag would fail or treat it as a switch
        values.setdefault(name, []).append(value)
    return ParsedFlags(component, {k: tuple(v) for k, v in values.items()}, tuple(positional))


def container_argv(container: Mapping[str, object]) -> list[str]:
    """``command`` followed by ``args``, as the kubelet runs them (shell wrappers split on spaces)."""
    argv: list[str] = []
    for key in ("command", "args"):
        raw = container.get(key)
        if isinstance(raw, list):
            argv.extend(str(part) for part in raw if isinstance(part, str | int | float))
    if len(argv) >= 3 and argv[0] in ("/bin/sh", "sh", "/bin/bash", "bash") and argv[1] == "-c":
        return argv[2].split()
    return argv


def parse_version(text: str) -> tuple[int, int] | None:
    """``v1.30.2`` or ``1.30`` (with vendor suffixes such as ``v1.29.4-eks-036c24b``) → (1, 30)."""
    cleaned = text.strip().lstrip("v")
    parts = cleaned.split(".")
    if len(parts) < 2:
        return None
    try:
        minor = "".join(ch for ch in parts[1] if ch.isdigit())
        return int(parts[0]), int(minor)
    except ValueError:
        return None
