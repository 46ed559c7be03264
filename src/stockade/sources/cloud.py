"""Managed control planes: `aws eks describe-cluster`, `gcloud container clusters describe` and
`az aks show` JSON (``--cloud-config FILE``), each turned into one ``ManagedCluster`` object.

The providers describe the same facts in different shapes; the object holds them in one shape, so
the same rules judge EKS, GKE, AKS and (through the static pods) self-managed control planes:

``spec.provider``, ``spec.version``, ``spec.endpoint`` (``public``, ``authorizedNetworks``),
``spec.privateNodes``, ``spec.workloadIdentity``, ``spec.secretsEncryption`` (``enabled``, ``key``),
``spec.auditLogging``, ``spec.controlPlaneLogging`` (component → on), ``spec.authorization``
(``rbac``, ``legacyAbac``), ``spec.localAccounts`` (static credentials the provider issues),
``spec.nodeAutoUpgrade``. A fact the provider's output does not carry is ``null``: the rules then
say nothing about it rather than guess (EKS node groups and AKS diagnostic settings are separate
resources).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from stockade.model.finding import InputProblem
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.sources.base import ProgressCallback, SourceResult
from stockade.sources.bounded import read_or_report

API_VERSION = "cloud.stockade.io/v1alpha1"
OPEN = ("0.0.0.0/0", "::/0")
MAX_BYTES = 16 * 1024 * 1024
EKS_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


def _m(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _l(value: object) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def eks(doc: Mapping[str, Any]) -> dict[str, Any]:
    cluster = _m(doc.get("cluster", doc))
    vpc = _m(cluster.get("resourcesVpcConfig"))
    enabled = {
        t
        for entry in _l(_m(cluster.get("logging")).get("clusterLogging"))
        if _m(entry).get("enabled")
        for t in _l(_m(entry).get("types"))
    }
    encryption = [e for e in _l(cluster.get("encryptionConfig")) if "secrets" in _l(_m(e).get("resources"))]
    mode = _m(cluster.get("accessConfig")).get("authenticationMode")
    return {
        "provider": "eks",
        "name": cluster.get("name"),
        "version": cluster.get("version"),
        "endpoint": {
            "public": bool(vpc.get("endpointPublicAccess", True)),
            "authorizedNetworks": [str(c) for c in _l(vpc.get("publicAccessCidrs"))] or ["0.0.0.0/0"],
        },
        "privateNodes": None,  # node groups are described separately
        "workloadIdentity": bool(_m(_m(cluster.get("identity")).get("oidc")).get("issuer")),
        "secretsEncryption": {
            "enabled": bool(encryption),
            "key": _m(_m(encryption[0]).get("provider")).get("keyArn") if encryption else None,
        },
        "auditLogging": "audit" in enabled,
        "controlPlaneLogging": {t: t in enabled for t in EKS_LOG_TYPES},
        "authorization": {"rbac": True, "legacyAbac": False},
        # The aws-auth ConfigMap alone (CONFIG_MAP mode) is the legacy way to map IAM principals.
        "localAccounts": mode == "CONFIG_MAP" if mode else None,
        "nodeAutoUpgrade": None,
    }


def gke(doc: Mapping[str, Any]) -> dict[str, Any]:
    private = _m(doc.get("privateClusterConfig"))
    networks = _m(doc.get("masterAuthorizedNetworksConfig"))
    cidrs = [str(_m(b).get("cidrBlock")) for b in _l(networks.get("cidrBlocks"))] if networks.get("enabled") else []
    components = _l(_m(_m(doc.get("loggingConfig")).get("componentConfig")).get("enableComponents"))
    auth = _m(doc.get("masterAuth"))
    pools = [_m(p) for p in _l(doc.get("nodePools"))]
    upgrades = [bool(_m(p.get("management")).get("autoUpgrade")) for p in pools]
    encryption = _m(doc.get("databaseEncryption"))
    return {
        "provider": "gke",
        "name": doc.get("name"),
        "version": doc.get("currentMasterVersion"),
        "endpoint": {
            "public": not private.get("enablePrivateEndpoint", False),
            "authorizedNetworks": cidrs or ["0.0.0.0/0"],
        },
        "privateNodes": bool(private.get("enablePrivateNodes", False)),
        "workloadIdentity": bool(_m(doc.get("workloadIdentityConfig")).get("workloadPool")),
        "secretsEncryption": {"enabled": encryption.get("state") == "ENCRYPTED", "key": encryption.get("keyName")},
        "auditLogging": True,  # Cloud Audit Logs record admin activity on every GKE cluster
        "controlPlaneLogging": {c.lower(): True for c in components},
        "authorization": {"rbac": True, "legacyAbac": bool(_m(doc.get("legacyAbac")).get("enabled"))},
        "localAccounts": bool(auth.get("username") or auth.get("clientCertificate")),
        "nodeAutoUpgrade": all(upgrades) if upgrades else None,
    }


def aks(doc: Mapping[str, Any]) -> dict[str, Any]:
    access = _m(doc.get("apiServerAccessProfile"))
    security = _m(doc.get("securityProfile"))
    kms = _m(security.get("azureKeyVaultKms"))
    pools = [_m(p) for p in _l(doc.get("agentPoolProfiles"))]
    channel = _m(doc.get("autoUpgradeProfile")).get("upgradeChannel")
    return {
        "provider": "aks",
        "name": doc.get("name"),
        "version": doc.get("kubernetesVersion") or doc.get("currentKubernetesVersion"),
        "endpoint": {
            "public": not access.get("enablePrivateCluster", False),
            "authorizedNetworks": [str(c) for c in _l(access.get("authorizedIpRanges"))] or ["0.0.0.0/0"],
        },
        "privateNodes": not any(p.get("enableNodePublicIp") for p in pools),
        "workloadIdentity": bool(_m(security.get("workloadIdentity")).get("enabled")),
        "secretsEncryption": {"enabled": bool(kms.get("enabled")), "key": kms.get("keyId")},
        "auditLogging": None,  # diagnostic settings are a separate resource
        "controlPlaneLogging": None,
        "authorization": {"rbac": doc.get("enableRbac", True) is not False, "legacyAbac": False},
        "localAccounts": not doc.get("disableLocalAccounts", False),
        "nodeAutoUpgrade": bool(channel) and str(channel).lower() != "none",
    }


def detect(doc: Mapping[str, Any]) -> str | None:
    if ("cluster" in doc and "resourcesVpcConfig" in _m(doc.get("cluster"))) or "resourcesVpcConfig" in doc:
        return "eks"
    if "currentMasterVersion" in doc or "masterAuth" in doc or "nodePools" in doc:
        return "gke"
    if "agentPoolProfiles" in doc or "apiServerAccessProfile" in doc or "aadProfile" in doc:
        return "aks"
    return None


NORMALISE = {"eks": eks, "gke": gke, "aks": aks}


@dataclass(frozen=True, slots=True)
class CloudConfigSource:
    """Provider JSON files (one cluster each)."""

    paths: tuple[str, ...]

    def collect(self, progress: ProgressCallback | None = None) -> SourceResult:
        if progress is not None:
            progress("reading cloud cluster descriptions", 0, 0)
        result = SourceResult()
        for path in self.paths:
            self._read(path, result)
        return result

    def _read(self, path: str, result: SourceResult) -> None:
        data = read_or_report(path, MAX_BYTES, result.errors)
        if data is None:
            return
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            result.errors.append(InputProblem(path, f"not JSON: {exc}", kind="parse"))
            return
        provider = detect(doc) if isinstance(doc, Mapping) else None
        if provider is None:
            result.errors.append(
                InputProblem(
                    path,
                    "not an `aws eks describe-cluster`, `gcloud container clusters describe` or "
                    "`az aks show` JSON document",
                    kind="parse",
                )
            )
            return
        spec = NORMALISE[provider](doc)
        name = str(spec.get("name") or Path(path).stem)
        raw = {"apiVersion": API_VERSION, "kind": "ManagedCluster", "metadata": {"name": name}, "spec": spec}
        resource = resource_from_raw(raw, Origin(path))
        if isinstance(resource, Resource):
            result.resources.append(resource)
        else:
            result.errors.append(InputProblem(path, resource))
