"""A Kubernetes object as Stockade sees it: the raw mapping plus identity and origin."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from stockade.model.kinds import BUILTIN_GROUPS

RawObject = Mapping[str, Any]
# One shared empty mapping: callers may cache by identity, so "no labels" must not be a new dict.
EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an object came from.

    ``file`` is the path as the user gave it (or ``<stdin>``, ``cluster:<context>``, a snapshot path);
    ``document`` is the 0-based index of the YAML document in that file; ``line`` is the 1-based line
    where the document starts (0 when unknown, e.g. objects read from a cluster).
    ``item`` is the index inside a ``kind: List`` document, or -1; ``nested`` the indexes inside
    the Lists held by that item (a List inside a List), outermost first.
    """

    file: str
    document: int = 0
    line: int = 0
    item: int = -1
    nested: tuple[int, ...] = ()

    @property
    def place(self) -> str:
        """``file:line`` for messages (the file alone when the line is unknown)."""
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True, slots=True)
class Resource:
    """One Kubernetes object. ``raw`` is never mutated by anyone."""

    raw: RawObject
    api_version: str
    kind: str
    name: str
    namespace: str | None
    origin: Origin

    @property
    def group(self) -> str:
        """API group ('' for the core group)."""
        return self.api_version.rpartition("/")[0] if "/" in self.api_version else ""

    @property
    def metadata(self) -> Mapping[str, Any]:
        meta = self.raw.get("metadata")
        return meta if isinstance(meta, Mapping) else EMPTY

    @property
    def labels(self) -> Mapping[str, str]:
        labels = self.metadata.get("labels")
        return labels if isinstance(labels, Mapping) else EMPTY

    @property
    def annotations(self) -> Mapping[str, str]:
        annotations = self.metadata.get("annotations")
        return annotations if isinstance(annotations, Mapping) else EMPTY

    @property
    def display(self) -> str:
        """``Kind/namespace/name`` (or ``Kind/name`` when cluster-scoped), for messages."""
        if self.namespace:
            return f"{self.kind}/{self.namespace}/{self.name}"
        return f"{self.kind}/{self.name}"


# A version is a DNS-1035 label (v1, v1beta1, a CRD's own names); a group is a DNS subdomain.
_VERSION = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
_GROUP = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_CHECKED_API_VERSIONS: dict[str, str | None] = {}


def api_version_problem(api_version: str) -> str | None:
    """Why ``api_version`` cannot be a GROUP/VERSION the API server serves, or None when it can.

    A group without a dot must be one Kubernetes serves itself (a CRD's group needs a dot), so
    ``v1/Deployment`` (group "v1") is caught as well as ``apps/v1/Deployment``.
    """
    try:
        return _CHECKED_API_VERSIONS[api_version]
    except KeyError:
        pass
    group, slash, version = api_version.rpartition("/")
    problem = None
    if "/" in group:
        problem = f"apiVersion {api_version!r} has more than one '/' (expected GROUP/VERSION)"
    elif not _VERSION.fullmatch(version):
        problem = f"apiVersion {api_version!r}: {version!r} is not a version (expected GROUP/VERSION)"
    elif slash and not (_GROUP.fullmatch(group) and ("." in group or group in BUILTIN_GROUPS)):
        problem = f"apiVersion {api_version!r}: {group!r} is not an API group (expected GROUP/VERSION)"
    if len(_CHECKED_API_VERSIONS) < 4096:  # a handful in any real scan; bounded against odd inputs
        _CHECKED_API_VERSIONS[api_version] = problem
    return problem


# Configuration files written in the Kubernetes style (kubeconfig, kubelet, kubeadm, audit policy,
# encryption and admission configuration, kustomizations, Stockade's own exceptions file) are
# never API objects: they need no name.
_CONFIG_GROUPS = ("config.k8s.io", "kubeadm.k8s.io", "audit.k8s.io", "apiserver.k8s.io", "stockade.io")


def _is_config_format(api_version: str, kind: str) -> bool:
    group = api_version.rpartition("/")[0]
    if not group:
        return kind == "Config"
    return any(group == known or group.endswith("." + known) for known in _CONFIG_GROUPS)


def resource_from_raw(raw: RawObject, origin: Origin) -> Resource | str:
    """Build a Resource, or return the reason the mapping is not a Kubernetes object."""
    api_version = raw.get("apiVersion")
    kind = raw.get("kind")
    if not isinstance(api_version, str) or not api_version:
        return "no apiVersion" if api_version is None else "apiVersion is not a string"
    problem = api_version_problem(api_version)
    if problem is not None:
        return problem
    if not isinstance(kind, str) or not kind:
        return "no kind" if kind is None else "kind is not a string"
    meta = raw.get("metadata")
    unnamed_ok = _is_config_format(api_version, kind)
    if meta is None:
        if not unnamed_ok:
            return "metadata is missing or null (the object has no name)"
        meta = EMPTY
    if not isinstance(meta, Mapping):
        return "metadata is not a mapping"
    name = meta.get("name")
    if name is None or name == "":
        # A manifest may leave the name to the API server (``kubectl create`` with generateName).
        name = meta.get("generateName")
        if not name and not unnamed_ok:
            return "metadata has no name (nor generateName)"
        name = name or ""
    if not isinstance(name, str):
        return "metadata.name is not a string"
    namespace = meta.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        return "metadata.namespace is not a string"
    return Resource(raw, api_version, kind, name, namespace or None, origin)
