"""The built-in resource types of Kubernetes: group, plural, kind, scope and kubectl short names.

One table for every part of Stockade that needs to know about a built-in kind without an API
server to ask: the inventory (is this object namespaced?), RBAC questions (``deploy`` is
``deployments.apps``, nodes are cluster-scoped) and the fake API server's discovery documents.
A live cluster's own discovery is what the cluster source reads; CRDs add their own kinds (see
:class:`~stockade.model.inventory.Inventory`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

READ_WRITE = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
CREATE_ONLY = ("create",)


@dataclass(frozen=True, slots=True)
class BuiltinType:
    """One built-in resource type, as discovery describes it."""

    group: str  # "" for the core group
    versions: tuple[str, ...]  # served versions, preferred first
    plural: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = READ_WRITE
    short_names: tuple[str, ...] = ()
    # False for types a freshly installed cluster does not serve (behind a feature gate, or removed).
    served_by_default: bool = True


def _t(
    group: str,
    versions: str,
    plural: str,
    kind: str,
    namespaced: bool,
    verbs: tuple[str, ...] = READ_WRITE,
    short: str = "",
    served_by_default: bool = True,
) -> BuiltinType:
    short_names = tuple(short.split())
    return BuiltinType(group, tuple(versions.split()), plural, kind, namespaced, verbs, short_names, served_by_default)


_NS, _CL = True, False
_ADMISSION = "admissionregistration.k8s.io"

# Where the same plural is served by two groups (events), the first entry is the one a bare name means.
BUILTIN_TYPES: tuple[BuiltinType, ...] = (
    _t("", "v1", "bindings", "Binding", _NS, CREATE_ONLY),
    _t("", "v1", "componentstatuses", "ComponentStatus", _CL, ("get", "list"), "cs"),
    _t("", "v1", "configmaps", "ConfigMap", _NS, short="cm"),
    _t("", "v1", "endpoints", "Endpoints", _NS, short="ep"),
    _t("", "v1", "events", "Event", _NS, short="ev"),
    _t("", "v1", "limitranges", "LimitRange", _NS, short="limits"),
    _t("", "v1", "namespaces", "Namespace", _CL, short="ns"),
    _t("", "v1", "nodes", "Node", _CL, short="no"),
    _t("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", _NS, short="pvc"),
    _t("", "v1", "persistentvolumes", "PersistentVolume", _CL, short="pv"),
    _t("", "v1", "pods", "Pod", _NS, short="po"),
    _t("", "v1", "podtemplates", "PodTemplate", _NS),
    _t("", "v1", "replicationcontrollers", "ReplicationController", _NS, short="rc"),
    _t("", "v1", "resourcequotas", "ResourceQuota", _NS, short="quota"),
    _t("", "v1", "secrets", "Secret", _NS),
    _t("", "v1", "serviceaccounts", "ServiceAccount", _NS, short="sa"),
    _t("", "v1", "services", "Service", _NS, short="svc"),
    _t(_ADMISSION, "v1beta1", "mutatingadmissionpolicies", "MutatingAdmissionPolicy", _CL,
       served_by_default=False),
    _t(_ADMISSION, "v1beta1", "mutatingadmissionpolicybindings", "MutatingAdmissionPolicyBinding", _CL,
       served_by_default=False),
    _t(_ADMISSION, "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", _CL),
    _t(_ADMISSION, "v1", "validatingadmissionpolicies", "ValidatingAdmissionPolicy", _CL),
    _t(_ADMISSION, "v1", "validatingadmissionpolicybindings", "ValidatingAdmissionPolicyBinding", _CL),
    _t(_ADMISSION, "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", _CL),
    _t("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", _CL,
       short="crd crds"),
    _t("apiregistration.k8s.io", "v1", "apiservices", "APIService", _CL),
    _t("apps", "v1", "controllerrevisions", "ControllerRevision", _NS),
    _t("apps", "v1", "daemonsets", "DaemonSet", _NS, short="ds"),
    _t("apps", "v1", "deployments", "Deployment", _NS, short="deploy"),
    _t("apps", "v1", "replicasets", "ReplicaSet", _NS, short="rs"),
    _t("apps", "v1", "statefulsets", "StatefulSet", _NS, short="sts"),
    _t("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", _CL, CREATE_ONLY),
    _t("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", _CL, CREATE_ONLY),
    _t("authorization.k8s.io", "v1", "localsubjectaccessreviews", "LocalSubjectAccessReview", _NS,
       CREATE_ONLY),
    _t("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", _CL,
       CREATE_ONLY),
    _t("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", _CL,
       CREATE_ONLY),
    _t("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", _CL, CREATE_ONLY),
    _t("autoscaling", "v2 v1", "horizontalpodautoscalers", "HorizontalPodAutoscaler", _NS, short="hpa"),
    _t("batch", "v1", "cronjobs", "CronJob", _NS, short="cj"),
    _t("batch", "v1", "jobs", "Job", _NS),
    _t("certificates.k8s.io", "v1", "certificatesigningrequests", "CertificateSigningRequest", _CL,
       short="csr"),
    _t("certificates.k8s.io", "v1beta1", "clustertrustbundles", "ClusterTrustBundle", _CL,
       served_by_default=False),
    _t("certificates.k8s.io", "v1alpha1", "podcertificaterequests", "PodCertificateRequest", _NS,
       served_by_default=False),
    _t("coordination.k8s.io", "v1", "leases", "Lease", _NS),
    _t("coordination.k8s.io", "v1beta1", "leasecandidates", "LeaseCandidate", _NS, served_by_default=False),
    _t("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", _NS),
    _t("events.k8s.io", "v1", "events", "Event", _NS, short="ev"),
    _t("flowcontrol.apiserver.k8s.io", "v1", "flowschemas", "FlowSchema", _CL),
    _t("flowcontrol.apiserver.k8s.io", "v1", "prioritylevelconfigurations", "PriorityLevelConfiguration", _CL),
    _t("networking.k8s.io", "v1", "ingressclasses", "IngressClass", _CL),
    _t("networking.k8s.io", "v1", "ingresses", "Ingress", _NS, short="ing"),
    _t("networking.k8s.io", "v1", "ipaddresses", "IPAddress", _CL, short="ip"),
    _t("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", _NS, short="netpol"),
    _t("networking.k8s.io", "v1", "servicecidrs", "ServiceCIDR", _CL),
    _t("node.k8s.io", "v1", "runtimeclasses", "RuntimeClass", _CL),
    _t("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", _NS, short="pdb"),
    _t("policy", "v1beta1", "podsecuritypolicies", "PodSecurityPolicy", _CL, short="psp",
       served_by_default=False),  # removed in Kubernetes 1.25; old manifests still carry it
    _t("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", _CL),
    _t("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", _CL),
    _t("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", _NS),
    _t("rbac.authorization.k8s.io", "v1", "roles", "Role", _NS),
    _t("resource.k8s.io", "v1 v1beta2 v1beta1", "deviceclasses", "DeviceClass", _CL),
    _t("resource.k8s.io", "v1alpha3", "devicetaintrules", "DeviceTaintRule", _CL, served_by_default=False),
    _t("resource.k8s.io", "v1 v1beta2 v1beta1", "resourceclaims", "ResourceClaim", _NS),
    _t("resource.k8s.io", "v1 v1beta2 v1beta1", "resourceclaimtemplates", "ResourceClaimTemplate", _NS),
    _t("resource.k8s.io", "v1 v1beta2 v1beta1", "resourceslices", "ResourceSlice", _CL),
    _t("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", _CL, short="pc"),
    _t("storage.k8s.io", "v1", "csidrivers", "CSIDriver", _CL),
    _t("storage.k8s.io", "v1", "csinodes", "CSINode", _CL),
    _t("storage.k8s.io", "v1", "csistoragecapacities", "CSIStorageCapacity", _NS),
    _t("storage.k8s.io", "v1", "storageclasses", "StorageClass", _CL, short="sc"),
    _t("storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", _CL),
    _t("storage.k8s.io", "v1 v1beta1", "volumeattributesclasses", "VolumeAttributesClass", _CL, short="vac"),
    _t("storagemigration.k8s.io", "v1alpha1", "storageversionmigrations", "StorageVersionMigration", _CL,
       served_by_default=False),
)  # fmt: skip

# Built-in kinds that live outside namespaces. CRDs in the inventory add their own (see Inventory).
CLUSTER_SCOPED_KINDS: frozenset[str] = frozenset(t.kind for t in BUILTIN_TYPES if not t.namespaced)
NAMESPACED_KINDS: frozenset[str] = frozenset(t.kind for t in BUILTIN_TYPES if t.namespaced)
# Groups Kubernetes serves itself; a CRD's group must contain a dot, so these are never a CRD's.
BUILTIN_GROUPS: frozenset[str] = frozenset({*(t.group for t in BUILTIN_TYPES), "extensions"})

# Calico serves the same kinds as CRDs and through its own API server.
_CALICO = frozenset({
    "BGPConfiguration", "BGPFilter", "BGPPeer", "BlockAffinity", "CalicoNodeStatus", "ClusterInformation",
    "FelixConfiguration", "GlobalNetworkPolicy", "GlobalNetworkSet", "HostEndpoint", "IPAMBlock",
    "IPAMConfig", "IPAMHandle", "IPPool", "IPReservation", "KubeControllersConfiguration",
    "StagedGlobalNetworkPolicy", "Tier",
})  # fmt: skip

# Cluster-scoped kinds of widely installed CRDs, for a scan that does not hold their CRD (a CRD in
# the scan says its own scope). Keyed by API group.
WELL_KNOWN_CLUSTER_SCOPED: Mapping[str, frozenset[str]] = {
    "cilium.io": frozenset({
        "CiliumBGPAdvertisement", "CiliumBGPClusterConfig", "CiliumBGPNodeConfig",
        "CiliumBGPNodeConfigOverride", "CiliumBGPPeerConfig", "CiliumBGPPeeringPolicy", "CiliumCIDRGroup",
        "CiliumClusterwideEnvoyConfig", "CiliumClusterwideNetworkPolicy", "CiliumEgressGatewayPolicy",
        "CiliumExternalWorkload", "CiliumIdentity", "CiliumL2AnnouncementPolicy", "CiliumLoadBalancerIPPool",
        "CiliumNode", "CiliumPodIPPool",
    }),
    "crd.projectcalico.org": _CALICO,
    "projectcalico.org": _CALICO,
    "crd.antrea.io": frozenset({"ClusterGroup", "ClusterNetworkPolicy", "Tier"}),
    "policy.networking.k8s.io": frozenset({"AdminNetworkPolicy", "BaselineAdminNetworkPolicy"}),
    "gateway.networking.k8s.io": frozenset({"GatewayClass"}),
    "cert-manager.io": frozenset({"ClusterIssuer"}),
    "trust.cert-manager.io": frozenset({"Bundle"}),
    "external-secrets.io": frozenset({"ClusterExternalSecret", "ClusterSecretStore"}),
    "snapshot.storage.k8s.io": frozenset({"VolumeSnapshotClass", "VolumeSnapshotContent"}),
    "karpenter.sh": frozenset({"NodeClaim", "NodePool"}),
    "karpenter.k8s.aws": frozenset({"EC2NodeClass"}),
    "kyverno.io": frozenset({"ClusterCleanupPolicy", "ClusterPolicy"}),
    "wgpolicyk8s.io": frozenset({"ClusterPolicyReport"}),
    "templates.gatekeeper.sh": frozenset({"ConstraintTemplate"}),
    "argoproj.io": frozenset({"ClusterWorkflowTemplate"}),
    "kueue.x-k8s.io": frozenset({"ClusterQueue", "Cohort", "ResourceFlavor"}),
    "pkg.crossplane.io": frozenset({"Configuration", "Function", "Provider"}),
    "apiextensions.crossplane.io": frozenset({"CompositeResourceDefinition", "Composition"}),
}  # fmt: skip
# Groups whose every kind is cluster-scoped (Gatekeeper makes one kind per constraint template).
WELL_KNOWN_CLUSTER_SCOPED_GROUPS: frozenset[str] = frozenset({"constraints.gatekeeper.sh", "config.openshift.io"})


def _by_plural() -> dict[str, BuiltinType]:
    table: dict[str, BuiltinType] = {}
    for builtin in BUILTIN_TYPES:
        table.setdefault(builtin.plural, builtin)
    return table


# plural → the type a bare plural names (the first group that serves it).
BY_PLURAL: Mapping[str, BuiltinType] = _by_plural()

# kubectl short name → plural.
SHORT_NAMES: Mapping[str, str] = {short: t.plural for t in BUILTIN_TYPES for short in t.short_names}
