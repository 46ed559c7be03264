"""Managed control planes (EKS, GKE, AKS, from ``--cloud-config``): what only a cloud description shows.

Rules whose meaning is the same on a self-managed control plane keep their id and judge both
(CP-006, CP-008, CP-016, CP-026); these judge what has no flag equivalent. Each reads the
``ManagedCluster`` object `stockade.sources.cloud` builds from the provider's JSON, and says nothing
when the provider's description does not carry the fact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.base import Outcome, Rule, RuleContext, Scope, table_rule
from stockade.rules.cp._flags import managed_outcomes
from stockade.rules.cp._managed import Verdict, control_plane_logs, flag, open_endpoint

GOOD: Mapping[str, Any] = {
    "provider": "gke",
    "name": "prod",
    "version": "1.31.2-gke.1000",
    "endpoint": {"public": True, "authorizedNetworks": ["203.0.113.0/24"]},
    "privateNodes": True,
    "workloadIdentity": True,
    "secretsEncryption": {"enabled": True, "key": "projects/p/locations/l/keyRings/r/cryptoKeys/k"},
    "auditLogging": True,
    "controlPlaneLogging": {"system_components": True, "apiserver": True},
    "authorization": {"rbac": True, "legacyAbac": False},
    "localAccounts": False,
    "nodeAutoUpgrade": True,
}


@dataclass(frozen=True, slots=True)
class ManagedCheck:
    id: str
    name: str
    title: str
    severity: Severity
    stage: Stage
    area: Area
    judge: Callable[[Mapping[str, Any]], Verdict]
    what: str
    why: str
    remediation: str
    bad: Mapping[str, Any]
    frameworks: Mapping[str, Sequence[str]] = field(default_factory=dict)


def managed_cluster(spec: Mapping[str, Any]) -> str:
    """A ``ManagedCluster`` as `--cloud-config` reads it (for examples and fixtures)."""
    body = {
        "apiVersion": "cloud.stockade.io/v1alpha1",
        "kind": "ManagedCluster",
        "metadata": {"name": "prod"},
        "spec": spec,
    }
    return orjson.dumps(body).decode() + "\n"


def managed_rule(check: ManagedCheck) -> Rule:
    def run(ctx: RuleContext) -> Iterator[Outcome]:
        # An inventory rule, so that a fact the provider does not describe is neither a pass nor a failure.
        yield from managed_outcomes(ctx.inventory, check.judge)

    return table_rule(
        check,
        run,
        Scope.INVENTORY,
        area=check.area,
        frameworks=check.frameworks,
        remediation=check.remediation,
        reads=("ManagedCluster",),
        doc=(
            f"{check.title}.\n\n## What it does\n{check.what} Read from the provider's own description "
            "(`--cloud-config` with `aws eks describe-cluster`, `gcloud container clusters describe` or "
            "`az aks show` JSON).\n\n"
            f"## Why is this bad?\n{check.why}\n\n"
            f"## Example\n```yaml\n{managed_cluster({**GOOD, **check.bad})}```\n\n"
            f"## Use instead\n```yaml\n{managed_cluster(GOOD)}```\n\n"
            f"## Remediation\n{check.remediation}\n"
        ),
    )


CHECKS = (
    ManagedCheck(
        "CP-046",
        "public-api-endpoint",
        "API server endpoint is open to the whole internet",
        Severity.HIGH,
        Stage.CRAWL,
        Area.CONTROL_PLANE,
        open_endpoint,
        "Flags a public API server endpoint with no authorized networks (or one that admits 0.0.0.0/0).",
        "Every credential leak and every API server vulnerability is then exploitable from anywhere.",
        "Make the endpoint private, or list the networks that may reach it (EKS publicAccessCidrs, GKE "
        "master authorized networks, AKS authorized IP ranges).",
        bad={"endpoint": {"public": True, "authorizedNetworks": ["0.0.0.0/0"]}},
        frameworks={"nsa-cisa": ["network.control-plane"], "mitre-attack": ["T1133"]},
    ),
    ManagedCheck(
        "CP-047",
        "public-node-addresses",
        "Nodes have public IP addresses",
        Severity.MEDIUM,
        Stage.WALK,
        Area.CONTROL_PLANE,
        flag("privateNodes", bad=False, message="nodes get public IP addresses"),
        "Flags clusters whose nodes get public addresses (GKE without private nodes, AKS node pools with "
        "`enableNodePublicIp`).",
        "Kubelet ports, NodePorts and host-network pods are then one firewall rule away from the internet.",
        "Use private nodes and route egress through NAT.",
        bad={"privateNodes": False},
        frameworks={"nsa-cisa": ["network.node-segmentation"]},
    ),
    ManagedCheck(
        "CP-048",
        "node-auto-upgrade",
        "Nodes are not upgraded automatically",
        Severity.MEDIUM,
        Stage.WALK,
        Area.CONTROL_PLANE,
        flag("nodeAutoUpgrade", bad=False, message="node auto-upgrade is off"),
        "Flags GKE node pools without auto-upgrade and AKS clusters without an upgrade channel.",
        "Nodes left behind keep known kernel, runtime and kubelet vulnerabilities.",
        "Turn on node auto-upgrade (GKE) or an upgrade channel (AKS), with a maintenance window.",
        bad={"nodeAutoUpgrade": False},
        frameworks={"nsa-cisa": ["upgrading.practices"]},
    ),
    ManagedCheck(
        "AU-003",
        "no-workload-identity",
        "Pods cannot use workload identity",
        Severity.MEDIUM,
        Stage.WALK,
        Area.AUTHENTICATION,
        flag("workloadIdentity", bad=False, message="workload identity is not enabled"),
        "Flags clusters without workload identity (EKS IAM OIDC provider, GKE Workload Identity, AKS workload "
        "identity).",
        "Without it pods reach the cloud with the node's credentials (shared by every pod on the node) or with "
        "static keys stored in Secrets.",
        "Enable workload identity and give each workload its own cloud identity.",
        bad={"workloadIdentity": False},
        frameworks={"nsa-cisa": ["authn.authentication"], "mitre-attack": ["T1552"]},
    ),
    ManagedCheck(
        "AU-004",
        "provider-local-accounts",
        "Provider issues static credentials to the cluster",
        Severity.HIGH,
        Stage.CRAWL,
        Area.AUTHENTICATION,
        flag(
            "localAccounts",
            bad=True,
            message="static local accounts (basic auth, client certificates or the "
            "aws-auth ConfigMap alone) can log in",
        ),
        "Flags GKE basic authentication or issued client certificates, AKS local accounts, and EKS clusters "
        "that map IAM principals only through the aws-auth ConfigMap.",
        "Static credentials cannot be revoked one by one and bypass the identity provider's MFA and offboarding.",
        "Disable local accounts (AKS `--disable-local-accounts`, GKE without basic auth or client certificate, "
        "EKS access entries).",
        bad={"localAccounts": True},
        frameworks={"cis-1.10": ["3.1.1"], "nsa-cisa": ["authn.authentication"]},
    ),
    ManagedCheck(
        "OB-003",
        "control-plane-logs",
        "Control-plane logs are not collected",
        Severity.MEDIUM,
        Stage.WALK,
        Area.LOGGING,
        control_plane_logs,
        "Flags EKS clusters without the api, audit and authenticator log types, and GKE clusters without "
        "API server logs.",
        "Without them an incident on the control plane leaves no record the provider keeps for you.",
        "Enable control-plane logging for the API server, audit and authenticator components.",
        bad={"controlPlaneLogging": {"system_components": True}},
        frameworks={"nsa-cisa": ["logging.audit"], "mitre-attack": ["T1562.001"]},
    ),
)

RULES = tuple(managed_rule(check) for check in CHECKS)
