"""A node's key files as objects: ``stockade node scan --root DIR`` reads a node (or its mounted file system).

What a node holds becomes objects the pure ND- and CP- rules judge, like any manifest:

- ``NodeFile`` (``node.stockade.io/v1alpha1``): each key file or directory CIS sections 1.1 and 4.1
  name (static pod manifests, kubeconfigs, the PKI, the etcd data directory, kubelet configuration
  and service files, CNI configuration, the container runtime socket), with its mode, owner and
  group. Never its contents.
- ``NodeKubelet``: the kubelet's effective settings, from its configuration file and the flags its
  systemd unit and drop-ins pass (``KUBELET_KUBEADM_ARGS`` and the like), each with where it came
  from, so the rules apply flag and file defaults correctly (they differ).
- the static pod manifests themselves (``/etc/kubernetes/manifests``), read as Pods, so the CP rules
  judge the control plane's flags on the node too.

Objects are named ``<node>:<path>`` so results from many nodes merge into one report. Paths are
read below ``root``; symbolic links are not followed out of it (``lstat``; a link is reported as a
link). Unreadable files become input problems naming the path.
"""

from __future__ import annotations

import os
import shlex
import socket
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from stockade.model.finding import InputProblem
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.sources.base import ProgressCallback, SourceResult
from stockade.sources.bounded import ReadRefused, read_limited
from stockade.sources.cluster_facts import component_facts
from stockade.sources.files import collect_paths
from stockade.sources.redaction import redact_result

API_VERSION = "node.stockade.io/v1alpha1"
MANIFESTS = "/etc/kubernetes/manifests"

# role → the paths (globs below the root) that hold it, in CIS order.
KEY_FILES: Mapping[str, tuple[str, ...]] = {
    "apiserver-manifest": ("/etc/kubernetes/manifests/kube-apiserver.yaml",),
    "controller-manager-manifest": ("/etc/kubernetes/manifests/kube-controller-manager.yaml",),
    "scheduler-manifest": ("/etc/kubernetes/manifests/kube-scheduler.yaml",),
    "etcd-manifest": ("/etc/kubernetes/manifests/etcd.yaml",),
    "cni-config": ("/etc/cni/net.d/*",),
    "etcd-data": ("/var/lib/etcd",),
    "admin-kubeconfig": ("/etc/kubernetes/admin.conf", "/etc/kubernetes/super-admin.conf"),
    "scheduler-kubeconfig": ("/etc/kubernetes/scheduler.conf",),
    "controller-manager-kubeconfig": ("/etc/kubernetes/controller-manager.conf",),
    "pki-directory": ("/etc/kubernetes/pki", "/etc/kubernetes/pki/etcd"),
    "pki-certificate": ("/etc/kubernetes/pki/*.crt", "/etc/kubernetes/pki/etcd/*.crt"),
    "pki-key": ("/etc/kubernetes/pki/*.key", "/etc/kubernetes/pki/etcd/*.key"),
    "kubelet-service": (
        "/etc/systemd/system/kubelet.service.d/*.conf",
        "/usr/lib/systemd/system/kubelet.service.d/*.conf",
        "/etc/systemd/system/kubelet.service",
        "/usr/lib/systemd/system/kubelet.service",
        "/lib/systemd/system/kubelet.service",
    ),
    "proxy-kubeconfig": ("/var/lib/kube-proxy/kubeconfig.conf", "/etc/kubernetes/proxy.conf"),
    "kubelet-kubeconfig": ("/etc/kubernetes/kubelet.conf",),
    "kubelet-config": ("/var/lib/kubelet/config.yaml",),
    "runtime-socket": ("/run/containerd/containerd.sock", "/var/run/crio/crio.sock", "/var/run/cri-dockerd.sock"),
}
KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
SMALL_FILE = 4 * 1024 * 1024  # systemd units, environment files, passwd and group files
# kube-apiserver flags naming configuration files the CP, OB and AU rules read.
CONFIG_FLAGS = (
    "encryption-provider-config",
    "audit-policy-file",
    "authentication-config",
    "admission-control-config-file",
)
KUBELET_ENV_FILES = ("/var/lib/kubelet/kubeadm-flags.env", "/etc/default/kubelet", "/etc/sysconfig/kubelet")


@dataclass(frozen=True)
class NodeSource:
    """The key files below ``root`` of the node ``node_name`` (default: this machine's host name)."""

    root: str = "/"
    node_name: str | None = None

    def collect(self, progress: ProgressCallback | None = None) -> SourceResult:
        if progress is not None:
            progress("reading the node's files", 0, 0)
        root = Path(self.root)
        result = SourceResult(facts={"node": self.name})
        if not root.is_dir():
            result.errors.append(InputProblem(str(root), "not a directory: give the node's root file system"))
            return result
        files: dict[str, list[str]] = {}  # path → roles (a CA may be a PKI file and the kubelet's client CA)
        for role, patterns in KEY_FILES.items():
            for pattern in patterns:
                for path in _glob(root, pattern):
                    files.setdefault(path, []).append(role)
        kubelet = self._kubelet(root, result)
        ca = _client_ca(kubelet["spec"]) if kubelet is not None else None
        if ca and os.path.lexists(root / ca.lstrip("/")):
            files.setdefault(ca, []).append("kubelet-client-ca")
        for path, roles in sorted(files.items()):
            raw = self._file_object(root, path, roles, result)
            if raw is not None:
                self._add(result, raw, path)
        if kubelet is not None:
            self._add(result, kubelet, KUBELET_CONFIG)
        manifests = root / MANIFESTS.lstrip("/")
        if manifests.is_dir():
            pods = collect_paths([str(manifests)])
            result.extend(pods)
            self._api_server_files(root, pods, result)
        return result

    def _api_server_files(self, root: Path, pods: SourceResult, result: SourceResult) -> None:
        """The configuration files kube-apiserver's flags name (encryption, audit policy, authentication,
        admission), read as objects; encryption keys are redacted before anything keeps them."""
        for pod in pods.resources:
            facts = component_facts(pod)
            if facts is None or facts.component != "kube-apiserver":
                continue
            for flag in CONFIG_FLAGS:
                path = facts.flags.get(flag)
                if not path or not os.path.isfile(root / path.lstrip("/")):
                    continue
                read = collect_paths([str(root / path.lstrip("/"))])
                # Keys are blanked here as in every source (redact_result), before anything keeps them.
                result.extend(redact_result(read))

    @property
    def name(self) -> str:
        return self.node_name or socket.gethostname()

    @cached_property
    def _names(self) -> tuple[dict[int, str], dict[int, str]]:
        """User and group names as the node knows them (its /etc/passwd and /etc/group)."""
        root = Path(self.root)
        users, groups = _id_names(_read(root, "/etc/passwd")), _id_names(_read(root, "/etc/group"))
        users.setdefault(0, "root")  # id 0 is root on every Linux, passwd file or not
        groups.setdefault(0, "root")
        return users, groups

    def _add(self, result: SourceResult, raw: dict[str, Any], path: str) -> None:
        resource = resource_from_raw(raw, Origin(path))
        if isinstance(resource, Resource):
            result.resources.append(resource)
        else:
            result.errors.append(InputProblem(path, resource))

    def _meta(self, path: str) -> dict[str, Any]:
        return {"name": f"{self.name}:{path}", "labels": {"stockade.io/node": self.name}}

    def _file_object(self, root: Path, path: str, roles: list[str], result: SourceResult) -> dict[str, Any] | None:
        try:
            info = os.lstat(root / path.lstrip("/"))
        except OSError as exc:
            result.errors.append(InputProblem(path, f"cannot read: {exc.strerror or exc}"))
            return None
        users, groups = self._names
        return {
            "apiVersion": API_VERSION,
            "kind": "NodeFile",
            "metadata": self._meta(path),
            "spec": {
                "node": self.name,
                "path": path,
                "role": roles[0],
                "roles": roles,
                "type": _type(info.st_mode),
                "mode": f"{stat.S_IMODE(info.st_mode):04o}",
                "uid": info.st_uid,
                "gid": info.st_gid,
                "user": users.get(info.st_uid, str(info.st_uid)),
                "group": groups.get(info.st_gid, str(info.st_gid)),
            },
        }

    def _kubelet(self, root: Path, result: SourceResult) -> dict[str, Any] | None:
        flags, sources = kubelet_flags(root)
        config_path = flags.get("config", KUBELET_CONFIG)
        config: Any = {}
        config_file = root / config_path.lstrip("/")
        if config_file.is_file():
            read = collect_paths([str(config_file)])
            if read.errors:
                result.errors.extend(read.errors)
            documents = [r.raw for r in read.resources if r.kind == "KubeletConfiguration"]
            config = documents[0] if documents else {}
        elif not flags and not sources:
            return None  # no kubelet on this node (or not where kubeadm puts it)
        return {
            "apiVersion": API_VERSION,
            "kind": "NodeKubelet",
            "metadata": self._meta("kubelet"),
            "spec": {
                "node": self.name,
                "configFile": config_path if config_file.is_file() else None,
                "config": dict(config) if isinstance(config, Mapping) else {},
                "flags": flags,
                "flagSources": sources,
            },
        }


def _client_ca(spec: Mapping[str, Any]) -> str | None:
    """The kubelet's client CA file: its flag, else its configuration's authentication.x509."""
    flag = spec["flags"].get("client-ca-file")
    if isinstance(flag, str) and flag:
        return flag
    x509 = spec["config"].get("authentication", {}).get("x509", {}) if isinstance(spec["config"], Mapping) else {}
    value = x509.get("clientCAFile") if isinstance(x509, Mapping) else None
    return value if isinstance(value, str) and value else None


def kubelet_flags(root: Path) -> tuple[dict[str, str], list[str]]:
    """The kubelet's flags from its systemd unit, drop-ins and environment files (later wins)."""
    flags: dict[str, str] = {}
    sources: list[str] = []
    units = [
        *_glob(root, "/usr/lib/systemd/system/kubelet.service"),
        *_glob(root, "/lib/systemd/system/kubelet.service"),
    ]
    units += [*_glob(root, "/etc/systemd/system/kubelet.service")]
    units += sorted(
        {
            *_glob(root, "/usr/lib/systemd/system/kubelet.service.d/*.conf"),
            *_glob(root, "/etc/systemd/system/kubelet.service.d/*.conf"),
        }
    )
    texts = [(path, _read(root, path)) for path in [*units, *(p for f in KUBELET_ENV_FILES for p in _glob(root, f))]]
    for path, text in texts:
        if text is None:
            continue
        for words in _argument_lines(text):
            for name, value in _flags_in(words):
                flags[name] = value
                if path not in sources:
                    sources.append(path)
    return flags, sources


def _argument_lines(text: str) -> Iterator[list[str]]:
    """Words of ExecStart= lines and of environment assignments (KUBELET_*_ARGS="…")."""
    joined = text.replace("\\\n", " ")
    for line in joined.splitlines():
        line = line.strip()
        if line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if key == "Environment":
            inner = value.strip().strip('"')
            key, _, value = inner.partition("=")
        if key == "ExecStart" or key.startswith("KUBELET_"):
            try:
                yield shlex.split(value.strip().strip('"'))
            except ValueError:
                continue


def _flags_in(words: list[str]) -> Iterator[tuple[str, str]]:
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if not word.startswith("--"):
            continue
        name, has_value, value = word[2:].partition("=")
        if not has_value:
            if index < len(words) and not words[index].startswith("-") and not words[index].startswith("$"):
                value = words[index]
                index += 1
            else:
                value = "true"
        yield name, value


def _glob(root: Path, pattern: str) -> list[str]:
    relative = pattern.lstrip("/")
    if "*" not in relative:
        return [pattern] if os.path.lexists(root / relative) else []
    return sorted("/" + str(p.relative_to(root)) for p in root.glob(relative))


def _read(root: Path, path: str) -> str | None:
    """A small text file of the node (unit, env, passwd); None when absent, special or too large:
    a FIFO planted on a mounted node must not hang the scan."""
    try:
        return read_limited(str(root / path.lstrip("/")), SMALL_FILE).decode("utf-8", errors="replace")
    except ReadRefused:
        return None


def _type(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "file"


def _id_names(text: str | None) -> dict[int, str]:
    """``name:x:id:…`` lines (passwd and group files) → id → name; the first name of an id wins."""
    names: dict[int, str] = {}
    for line in (text or "").splitlines():
        parts = line.split(":")
        if len(parts) >= 3 and parts[2].isdigit():
            names.setdefault(int(parts[2]), parts[0])
    return names
