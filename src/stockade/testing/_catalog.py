"""What the fake API server serves: API groups, versions and resource types.

The catalogue starts from the built-in types a recent Kubernetes release serves by default
(:mod:`stockade.model.kinds`) and their subresources (these and the create-only review resources
are what clients must skip, as they cannot be listed), then adds the kinds found in the stored
objects and the custom resources their CustomResourceDefinitions declare.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stockade.model.kinds import BUILTIN_TYPES, CREATE_ONLY, READ_WRITE, BuiltinType

GET_ONLY = ("get",)
STATUS = ("get", "patch", "update")


@dataclass(frozen=True, slots=True)
class ResourceType:
    """One entry of an APIResourceList (``name`` is the plural, or ``plural/sub`` for subresources)."""

    group: str
    name: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = READ_WRITE
    singular: str = ""
    short_names: tuple[str, ...] = ()
    # Built-in kinds are typed: their list items come without apiVersion/kind.
    builtin: bool = False

    @property
    def is_subresource(self) -> bool:
        return "/" in self.name

    def discovery(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": self.name,
            "singularName": "" if self.is_subresource else (self.singular or self.kind.lower()),
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        return entry


@dataclass(frozen=True, slots=True)
class _Builtin:
    group: str
    versions: tuple[str, ...]
    resource: ResourceType


def _top_level(builtin: BuiltinType) -> _Builtin:
    resource = ResourceType(
        builtin.group,
        builtin.plural,
        builtin.kind,
        builtin.namespaced,
        builtin.verbs,
        short_names=builtin.short_names,
        builtin=True,
    )
    return _Builtin(builtin.group, builtin.versions, resource)


def _sub(group: str, name: str, kind: str, verbs: tuple[str, ...]) -> _Builtin:
    """A subresource of a built-in type: same group, versions and scope as its parent."""
    plural = name.partition("/")[0]
    parent = next(t for t in BUILTIN_TYPES if (t.group, t.plural) == (group, plural))
    resource = ResourceType(group, name, kind, parent.namespaced, verbs, builtin=True)
    return _Builtin(group, parent.versions, resource)


# Subresources a freshly installed cluster serves (the clients under test must skip them).
SUBRESOURCES: tuple[_Builtin, ...] = (
    _sub("", "namespaces/finalize", "Namespace", ("update",)),
    _sub("", "namespaces/status", "Namespace", STATUS),
    _sub("", "nodes/proxy", "NodeProxyOptions", ("create", "delete", "get", "patch", "update")),
    _sub("", "nodes/status", "Node", STATUS),
    _sub("", "pods/attach", "PodAttachOptions", ("create", "get")),
    _sub("", "pods/eviction", "Eviction", CREATE_ONLY),
    _sub("", "pods/exec", "PodExecOptions", ("create", "get")),
    _sub("", "pods/log", "Pod", GET_ONLY),
    _sub("", "pods/status", "Pod", STATUS),
    _sub("", "replicationcontrollers/scale", "Scale", STATUS),
    _sub("", "serviceaccounts/token", "TokenRequest", CREATE_ONLY),
    _sub("", "services/status", "Service", STATUS),
    _sub("apps", "deployments/scale", "Scale", STATUS),
    _sub("apps", "deployments/status", "Deployment", STATUS),
)

# The default set: what a freshly installed cluster of a recent release serves.
BUILTIN: tuple[_Builtin, ...] = (
    *(_top_level(t) for t in BUILTIN_TYPES if t.served_by_default),
    *SUBRESOURCES,
)


_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key putting the version Kubernetes would prefer first (v2 > v1 > v1beta2 > v1alpha1 > other)."""
    match = _VERSION.match(version)
    if not match:
        return (3, 0, 0, version)
    stability = {None: 0, "beta": 1, "alpha": 2}[match.group(2)]
    return (stability, -int(match.group(1)), -int(match.group(3) or 0), version)


def plural_of(kind: str) -> str:
    """The plural a kind gets when nothing declares one (the same guess kubectl makes)."""
    lower = kind.lower()
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    if lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        return lower[:-1] + "ies"
    return lower + "s"


def split_api_version(api_version: str) -> tuple[str, str]:
    """``apps/v1`` → (``apps``, ``v1``); ``v1`` → (``""``, ``v1``)."""
    group, _, version = api_version.rpartition("/")
    return group, version


@dataclass(frozen=True, slots=True)
class Catalog:
    """Served groups → versions (preferred first) → resource types."""

    groups: Mapping[str, Mapping[str, tuple[ResourceType, ...]]]

    def versions(self, group: str) -> list[str]:
        return sorted(self.groups.get(group, {}), key=version_priority)

    def resources(self, group: str, version: str) -> tuple[ResourceType, ...]:
        return self.groups.get(group, {}).get(version, ())

    def lookup(self, group: str, version: str, name: str) -> ResourceType | None:
        for resource in self.resources(group, version):
            if resource.name == name:
                return resource
        return None

    def by_kind(self, group: str, kind: str) -> ResourceType | None:
        for version in self.versions(group):
            for resource in self.resources(group, version):
                if resource.kind == kind and not resource.is_subresource:
                    return resource
        return None


def _crd_types(crd: Mapping[str, Any]) -> list[tuple[str, ResourceType]]:
    """(version, type) pairs a CustomResourceDefinition serves; [] when it is malformed."""
    spec = crd.get("spec")
    if not isinstance(spec, Mapping):
        return []
    group, names = spec.get("group"), spec.get("names")
    if not isinstance(group, str) or not isinstance(names, Mapping):
        return []
    plural, kind = names.get("plural"), names.get("kind")
    if not isinstance(plural, str) or not isinstance(kind, str):
        return []
    short = names.get("shortNames")
    resource = ResourceType(
        group=group,
        name=plural,
        kind=kind,
        namespaced=spec.get("scope", "Namespaced") != "Cluster",
        singular=str(names.get("singular") or kind.lower()),
        short_names=tuple(s for s in short if isinstance(s, str)) if isinstance(short, list) else (),
    )
    served: list[tuple[str, ResourceType]] = []
    for entry in spec.get("versions") or ():
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str) and entry.get("served", True):
            served.append((entry["name"], resource))
            subresources = entry.get("subresources")
            if isinstance(subresources, Mapping) and "status" in subresources:
                served.append(
                    (
                        entry["name"],
                        ResourceType(group, plural + "/status", kind, resource.namespaced, STATUS),
                    )
                )
    return served


def build_catalog(crds: Iterable[Mapping[str, Any]], kinds: Iterable[tuple[str, str, bool]]) -> Catalog:
    """The built-in table, plus resources the ``crds`` declare, plus stored ``kinds``.

    ``kinds`` holds (apiVersion, kind, has a namespace) for each distinct kind of stored object;
    a kind nothing declares is served under a guessed plural.
    """
    groups: dict[str, dict[str, dict[str, ResourceType]]] = {}

    def put(group: str, version: str, resource: ResourceType) -> None:
        groups.setdefault(group, {}).setdefault(version, {}).setdefault(resource.name, resource)

    for builtin in BUILTIN:
        for version in builtin.versions:
            put(builtin.group, version, builtin.resource)
    for crd in crds:
        for version, resource in _crd_types(crd):
            put(resource.group, version, resource)
    for api_version, kind, namespaced in sorted(set(kinds)):
        group, version = split_api_version(api_version)
        if not version or not kind:
            continue
        known = Catalog(_freeze(groups)).by_kind(group, kind)
        put(group, version, known or ResourceType(group, plural_of(kind), kind, namespaced))
    return Catalog(_freeze(groups))


def _freeze(
    groups: Mapping[str, Mapping[str, Mapping[str, ResourceType]]],
) -> dict[str, dict[str, tuple[ResourceType, ...]]]:
    return {
        group: {version: tuple(sorted(types.values(), key=lambda r: r.name)) for version, types in versions.items()}
        for group, versions in groups.items()
    }
