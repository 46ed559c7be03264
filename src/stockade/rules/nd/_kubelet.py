"""Kubelet checks (CIS v1.10, section 4.2) over the ``NodeKubelet`` object `stockade node scan` builds.

A kubelet setting comes from a command-line flag, else its configuration file, else a default, and
**the defaults differ**: with a configuration file (``--config``, as kubeadm runs it) the
``kubelet.config.k8s.io/v1beta1`` defaults apply (anonymous authentication off, Webhook
authorization, read-only port 0); with flags alone the legacy flag defaults apply (anonymous on,
AlwaysAllow, read-only port 10255). Some defaults also changed by release: ``eventRecordQPS`` was 5
before v1.27 and is 50 since (kubernetes/kubernetes#116121). Peers that read only the flags, or
only the file, get these wrong; each violation here says which source decided the value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.rules.base import Path, Rule, RuleContext, Scope, Violation, table_rule
from stockade.rules.cp._flags import STRONG_CIPHERS

Version = tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class Setting:
    flag: str
    config: tuple[str, ...]  # path in the KubeletConfiguration
    file_default: Any = None  # the v1beta1 default (None: no default)
    flag_default: Any = None  # the legacy flag default
    versioned: tuple[tuple[tuple[int, int], Any], ...] = ()  # (first version, default) pairs, both sources


@dataclass(frozen=True, slots=True)
class Value:
    value: Any
    source: str  # "flag --x", "config field a.b", "default"
    path: Path


class KubeletView:
    """One node's kubelet: its flags, its configuration file, and which defaults apply."""

    def __init__(self, resource: Resource) -> None:
        spec = resource.raw.get("spec")
        spec = spec if isinstance(spec, Mapping) else {}
        flags = spec.get("flags")
        config = spec.get("config")
        self.flags: Mapping[str, Any] = flags if isinstance(flags, Mapping) else {}
        self.config: Mapping[str, Any] = config if isinstance(config, Mapping) else {}
        self.from_file = bool(spec.get("configFile"))

    def get(self, setting: Setting, version: Version) -> Value:
        if setting.flag in self.flags:
            return Value(self.flags[setting.flag], f"flag --{setting.flag}", ("spec", "flags", setting.flag))
        node: Any = self.config
        for key in setting.config:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is not None:
            return Value(
                node, f"{'.'.join(setting.config)} in the configuration file", ("spec", "config", *setting.config)
            )
        default = setting.file_default if self.from_file else setting.flag_default
        for since, value in setting.versioned:
            if version is None or version >= since:
                default = value
        where = "the configuration file's default" if self.from_file else "the flag default, no configuration file"
        return Value(default, f"unset: {where}", ("spec", "config" if self.from_file else "flags"))


def truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


# A judge returns what is wrong, or None.
Judge = Callable[[KubeletView, Version], tuple[str, Path] | None]


def expect(setting: Setting, ok: Callable[[Any], bool], wanted: str) -> Judge:
    def judge(view: KubeletView, version: Version) -> tuple[str, Path] | None:
        found = view.get(setting, version)
        if ok(found.value):
            return None
        shown = "not set" if found.value is None else orjson.dumps(found.value).decode()
        return f"{setting.flag} is {shown} ({found.source}); {wanted}", found.path

    return judge


@dataclass(frozen=True, slots=True)
class KubeletCheck:
    id: str
    name: str
    cis: str
    title: str
    severity: Severity
    stage: Stage
    judge: Judge
    what: str
    why: str
    remediation: str
    bad: Mapping[str, Any]  # configuration-file fields of the Example (merged into the baseline)
    frameworks: Mapping[str, list[str]] = field(default_factory=dict)
    bad_flags: Mapping[str, str] = field(default_factory=dict)  # flags of the Example


BASELINE: Mapping[str, Any] = {
    "authentication": {
        "anonymous": {"enabled": False},
        "webhook": {"enabled": True},
        "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"},
    },
    "authorization": {"mode": "Webhook"},
    "readOnlyPort": 0,
    "streamingConnectionIdleTimeout": "5m",
    "makeIPTablesUtilChains": True,
    "eventRecordQPS": 50,
    "tlsCertFile": "/var/lib/kubelet/pki/kubelet.crt",
    "tlsPrivateKeyFile": "/var/lib/kubelet/pki/kubelet.key",
    "rotateCertificates": True,
    "serverTLSBootstrap": True,
    "tlsCipherSuites": ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
    "podPidsLimit": 4096,
    "protectKernelDefaults": True,
}


def _merge(base: Mapping[str, Any], edits: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in edits.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def node_kubelet(config: Mapping[str, Any], flags: Mapping[str, str] | None = None) -> str:
    """A ``NodeKubelet`` as `stockade node scan` reads it (for examples and fixtures)."""
    body = {
        "apiVersion": "node.stockade.io/v1alpha1",
        "kind": "NodeKubelet",
        "metadata": {"name": "node-1:kubelet", "labels": {"stockade.io/node": "node-1"}},
        "spec": {
            "node": "node-1",
            "configFile": "/var/lib/kubelet/config.yaml",
            "config": {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration", **config},
            "flags": dict(flags or {}),
            "flagSources": ["/var/lib/kubelet/kubeadm-flags.env"],
        },
    }
    return orjson.dumps(body).decode() + "\n"  # JSON is YAML


def kubelet_rule(check: KubeletCheck) -> Rule:
    def run(ctx: RuleContext, resource: Resource) -> Iterator[Violation]:
        problem = check.judge(KubeletView(resource), ctx.config.kubernetes_version)
        if problem is not None:
            message, path = problem
            yield Violation(f"kubelet: {message}", path)

    return table_rule(
        check,
        run,
        Scope.OBJECT,
        area=Area.NODE_FILES,
        frameworks={**({"cis-1.10": [check.cis]} if check.cis else {}), **check.frameworks},
        remediation=check.remediation,
        kinds=("NodeKubelet",),
        doc=(
            f"{check.title}.\n\n## What it does\n{check.what}\n\n## Why is this bad?\n{check.why}\n\n"
            f"## Example\n```yaml\n{node_kubelet(_merge(BASELINE, check.bad), check.bad_flags)}```\n\n"
            f"## Use instead\n```yaml\n{node_kubelet(BASELINE)}```\n\n"
            f"## Remediation\n{check.remediation}\n\n"
            "## References\n"
            + (f"- CIS Kubernetes Benchmark v1.10, control {check.cis}\n" if check.cis else "")
            + "- https://kubernetes.io/docs/reference/config-api/kubelet-config.v1beta1/\n"
        ),
    )


def strong(value: Any) -> bool:
    suites = value if isinstance(value, list) else str(value or "").split(",") if value else []
    return bool(suites) and all(str(s).strip() in STRONG_CIPHERS for s in suites)
