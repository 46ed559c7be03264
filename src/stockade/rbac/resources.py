"""Resource names as people type them (``deploy``, ``deployments.apps``, ``pods/exec``) → authorizer attributes.

Without an API server to ask (kubectl uses discovery), the API group and scope of the built-in
resources come from the tables below; anything else must carry its group (``widgets.example.com``
or ``--api-group``) and is taken as namespaced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stockade.errors import RbacQueryError
from stockade.rbac.parse import RBAC_GROUP

# kubectl short names of built-in resources.
SHORT_NAMES: Mapping[str, str] = {
    "po": "pods",
    "deploy": "deployments",
    "svc": "services",
    "cm": "configmaps",
    "sa": "serviceaccounts",
    "ns": "namespaces",
    "no": "nodes",
    "pv": "persistentvolumes",
    "pvc": "persistentvolumeclaims",
    "ds": "daemonsets",
    "sts": "statefulsets",
    "rs": "replicasets",
    "rc": "replicationcontrollers",
    "cj": "cronjobs",
    "ing": "ingresses",
    "netpol": "networkpolicies",
    "csr": "certificatesigningrequests",
    "crd": "customresourcedefinitions",
    "hpa": "horizontalpodautoscalers",
    "pdb": "poddisruptionbudgets",
    "sc": "storageclasses",
    "ep": "endpoints",
    "ev": "events",
    "limits": "limitranges",
    "quota": "resourcequotas",
    "pc": "priorityclasses",
}

GROUPS: Mapping[str, str] = {
    **dict.fromkeys(("deployments", "daemonsets", "statefulsets", "replicasets", "controllerrevisions"), "apps"),
    **dict.fromkeys(("jobs", "cronjobs"), "batch"),
    **dict.fromkeys(("roles", "rolebindings", "clusterroles", "clusterrolebindings"), RBAC_GROUP),
    **dict.fromkeys(("ingresses", "networkpolicies", "ingressclasses"), "networking.k8s.io"),
    **dict.fromkeys(("certificatesigningrequests", "signers"), "certificates.k8s.io"),
    **dict.fromkeys(
        (
            "validatingwebhookconfigurations",
            "mutatingwebhookconfigurations",
            "validatingadmissionpolicies",
            "validatingadmissionpolicybindings",
            "mutatingadmissionpolicies",
            "mutatingadmissionpolicybindings",
        ),
        "admissionregistration.k8s.io",
    ),
    "customresourcedefinitions": "apiextensions.k8s.io",
    "apiservices": "apiregistration.k8s.io",
    "horizontalpodautoscalers": "autoscaling",
    "poddisruptionbudgets": "policy",
    **dict.fromkeys(("storageclasses", "csidrivers", "csinodes", "volumeattachments"), "storage.k8s.io"),
    "leases": "coordination.k8s.io",
    "endpointslices": "discovery.k8s.io",
    "priorityclasses": "scheduling.k8s.io",
    "runtimeclasses": "node.k8s.io",
    **dict.fromkeys(("tokenreviews", "uids", "userextras"), "authentication.k8s.io"),
    **dict.fromkeys(
        ("subjectaccessreviews", "selfsubjectaccessreviews", "localsubjectaccessreviews", "selfsubjectrulesreviews"),
        "authorization.k8s.io",
    ),
    **dict.fromkeys(("flowschemas", "prioritylevelconfigurations"), "flowcontrol.apiserver.k8s.io"),
}

CLUSTER_SCOPED = frozenset(
    {
        "nodes",
        "persistentvolumes",
        "namespaces",
        "componentstatuses",
        "clusterroles",
        "clusterrolebindings",
        "certificatesigningrequests",
        "signers",
        "validatingwebhookconfigurations",
        "mutatingwebhookconfigurations",
        "validatingadmissionpolicies",
        "validatingadmissionpolicybindings",
        "mutatingadmissionpolicies",
        "mutatingadmissionpolicybindings",
        "customresourcedefinitions",
        "apiservices",
        "storageclasses",
        "csidrivers",
        "csinodes",
        "volumeattachments",
        "priorityclasses",
        "runtimeclasses",
        "ingressclasses",
        "tokenreviews",
        "subjectaccessreviews",
        "selfsubjectaccessreviews",
        "selfsubjectrulesreviews",
        "flowschemas",
        "prioritylevelconfigurations",
        "users",
        "groups",
        "uids",
        "userextras",
    }
)


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """What the authorizer sees for a typed resource; ``non_resource_url`` for ``/healthz`` and the like."""

    resource: str = ""
    subresource: str = ""
    api_group: str = ""
    cluster_scoped: bool = False
    non_resource_url: str | None = None


def parse_resource(text: str, api_group: str | None = None) -> ResourceSpec:
    """``deploy`` / ``deployments.apps`` / ``pods/exec`` / ``widgets.example.com/status`` / ``/healthz``.

    ``api_group`` (``--api-group``) wins over a group written in ``text`` and over the table.
    """
    text = text.strip()
    if text.startswith("/"):
        return ResourceSpec(non_resource_url=text)
    base, _, subresource = text.partition("/")
    if not base:
        raise RbacQueryError(f"{text!r} names no resource")
    resource, _, group = base.partition(".")
    resource = SHORT_NAMES.get(resource.lower(), resource.lower())
    if api_group is not None:
        group = api_group
    elif not group:
        group = GROUPS.get(resource, "")
    # The same plural can be namespaced in one group and cluster-scoped in another (rare); trust the table
    # only for the group it knows.
    known_group = GROUPS.get(resource, "")
    cluster = resource in CLUSTER_SCOPED and group == known_group
    return ResourceSpec(resource, subresource, group, cluster)
