"""What the fake API server serves: API groups, versions and resource types.

The catalogue starts from a built-in table shaped like a recent Kubernetes release (including
subresources and create-only review resources, so clients must skip what they cannot list), then
adds the kinds found in the stored objects and the custom resources their
CustomResourceDefinitions declare.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

READ_WRITE = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
CREATE_ONLY = ("create",)
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


def _b(
    group: str,
    versions: str,
    name: str,
    kind: str,
    namespaced: bool,
    verbs: tuple[str, ...] = READ_WRITE,
    short: str = "",
) -> _Builtin:
    resource = ResourceType(group, name, kind, namespaced, verbs, short_names=tuple(short.split()), builtin=True)
    return _Builtin(group, tuple(versions.split()), resource)


_NS, _CL = True, False

# The default set: what a freshly installed cluster of a recent release serves.
BUILTIN: tuple[_Builtin, ...] = (
    _b("", "v1", "bindings", "Binding", _NS, CREATE_ONLY),
    _b("", "v1", "componentstatuses", "ComponentStatus", _CL, ("get", "list"), "cs"),
    _b("", "v1", "configmaps", "ConfigMap", _NS, short="cm"),
    _b("", "v1", "endpoints", "Endpoints", _NS, short="ep"),
    _b("", "v1", "events", "Event", _NS, short="ev"),
    _b("", "v1", "limitranges", "LimitRange", _NS, short="limits"),
    _b("", "v1", "namespaces", "Namespace", _CL, short="ns"),
    _b("", "v1", "namespaces/finalize", "Namespace", _CL, ("update",)),
    _b("", "v1", "namespaces/status", "Namespace", _CL, STATUS),
    _b("", "v1", "nodes", "Node", _CL, short="no"),
    _b("", "v1", "nodes/proxy", "NodeProxyOptions", _CL, ("create", "delete", "get", "patch", "update")),
    _b("", "v1", "nodes/status", "Node", _CL, STATUS),
    _b("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", _NS, short="pvc"),
    _b("", "v1", "persistentvolumes", "PersistentVolume", _CL, short="pv"),
    _b("", "v1", "pods", "Pod", _NS, short="po"),
    _b("", "v1", "pods/attach", "PodAttachOptions", _NS, ("create", "get")),
    _b("", "v1", "pods/eviction", "Eviction", _NS, CREATE_ONLY),
    _b("", "v1", "pods/exec", "PodExecOptions", _NS, ("create", "get")),
    _b("", "v1", "pods/log", "Pod", _NS, GET_ONLY),
    _b("", "v1", "pods/status", "Pod", _NS, STATUS),
    _b("", "v1", "podtemplates", "PodTemplate", _NS),
    _b("", "v1", "replicationcontrollers", "ReplicationController", _NS, short="rc"),
    _b("", "v1", "replicationcontrollers/scale", "Scale", _NS, STATUS),
    _b("", "v1", "resourcequotas", "ResourceQuota", _NS, short="quota"),
    _b("", "v1", "secrets", "Secret", _NS),
    _b("", "v1", "serviceaccounts", "ServiceAccount", _NS, short="sa"),
    _b("", "v1", "serviceaccounts/token", "TokenRequest", _NS, CREATE_ONLY),
    _b("", "v1", "services", "Service", _NS, short="svc"),
    _b("", "v1", "services/status", "Service", _NS, STATUS),
    _b("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
       "MutatingWebhookConfiguration", _CL),
    _b("admissionregistration.k8s.io", "v1", "validatingadmissionpolicies",
       "ValidatingAdmissionPolicy", _CL),
    _b("admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings",
       "ValidatingAdmissionPolicyBinding", _CL),
    _b("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
       "ValidatingWebhookConfiguration", _CL),
    _b("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", _CL,
       short="crd crds"),
    _b("apiregistration.k8s.io", "v1", "apiservices", "APIService", _CL),
    _b("apps", "v1", "controllerrevisions", "ControllerRevision", _NS),
    _b("apps", "v1", "daemonsets", "DaemonSet", _NS, short="ds"),
    _b("apps", "v1", "deployments", "Deployment", _NS, short="deploy"),
    _b("apps", "v1", "deployments/scale", "Scale", _NS, STATUS),
    _b("apps", "v1", "deployments/status", "Deployment", _NS, STATUS),
    _b("apps", "v1", "replicasets", "ReplicaSet", _NS, short="rs"),
    _b("apps", "v1", "statefulsets", "StatefulSet", _NS, short="sts"),
    _b("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", _CL, CREATE_ONLY),
    _b("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", _CL, CREATE_ONLY),
    _b("authorization.k8s.io", "v1", "localsubjectaccessreviews", "LocalSubjectAccessReview", _NS,
       CREATE_ONLY),
    _b("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", _CL,
       CREATE_ONLY),
    _b("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", _CL,
       CREATE_ONLY),
    _b("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", _CL, CREATE_ONLY),
    _b("autoscaling", "v2 v1", "horizontalpodautoscalers", "HorizontalPodAutoscaler", _NS,
       short="hpa"),
    _b("batch", "v1", "cronjobs", "CronJob", _NS, short="cj"),
    _b("batch", "v1", "jobs", "Job", _NS),
    _b("certificates.k8s.io", "v1", "certificatesigningrequests", "CertificateSigningRequest", _CL,
       short="csr"),
    _b("coordination.k8s.io", "v1", "leases", "Lease", _NS),
    _b("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", _NS),
    _b("events.k8s.io", "v1", "events", "Event", _NS, short="ev"),
    _b("flowcontrol.apiserver.k8s.io", "v1", "flowschemas", "FlowSchema", _CL),
    _b("flowcontrol.apiserver.k8s.io", "v1", "prioritylevelconfigurations",
       "PriorityLevelConfiguration", _CL),
    _b("networking.k8s.io", "v1", "ingressclasses", "IngressClass", _CL),
    _b("networking.k8s.io", "v1", "ingresses", "Ingress", _NS, short="ing"),
    _b("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", _NS, short="netpol"),
    _b("node.k8s.io", "v1", "runtimeclasses", "RuntimeClass", _CL),
    _b("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", _NS, short="pdb"),
    _b("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", _CL),
    _b("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", _CL),
    _b("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", _NS),
    _b("rbac.authorization.k8s.io", "v1", "roles", "Role", _NS),
    _b("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", _CL, short="pc"),
    _b("storage.k8s.io", "v1", "csidrivers", "CSIDriver", _CL),
    _b("storage.k8s.io", "v1", "csinodes", "CSINode", _CL),
    _b("storage.k8s.io", "v1", "storageclasses", "StorageClass", _CL, short="sc"),
    _b("storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", _CL),
)  # fmt: skip

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
