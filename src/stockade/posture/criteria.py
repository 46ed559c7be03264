"""The crawl / walk / run criteria of every area, as data, each citing the guide step it comes from.

A stage is reached when every one of its criteria is met and every earlier stage is reached. A
criterion is one of:

- :class:`RulesPass`: the area's rules of that stage (or the rules named) judged something and none
  failed. When none of them judged anything, the source could not see the area: *not assessed*.
- :class:`Present`: some object shows that a practice is in place (a GitOps operator, a runtime
  detector, an external secrets store). Absent from a live cluster or snapshot, it is *not met*;
  from manifests alone, which rarely hold the cluster's add-ons, it is *not assessed*.
- :class:`Outside`: the guide's step happens outside the cluster (a CI check, hardened node
  images, a SIEM): Stockade cannot see it, so it is *not assessed*, never passed. It does not stop
  a stage whose other criteria are met; a stage with nothing Stockade can judge is not assessed.

The guides: G1 is "Kubernetes security posture: hardening, response and defense" and G2 is
"Defense in depth for Kubernetes" (../shared/reference in the project's sources; the steps are
cited by section and stage).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stockade.model.finding import Area, Stage


@dataclass(frozen=True, slots=True)
class RulesPass:
    """The area's rules of this stage pass (``rules``: these instead)."""

    rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Present:
    """An object of one of ``kinds`` (in one of ``groups`` when given) whose name or ``app`` label
    is one of ``names`` (any name when empty) and that carries ``labels``."""

    kinds: tuple[str, ...]
    names: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Outside:
    """A step Stockade cannot see from the cluster's objects."""

    where: str


Check = RulesPass | Present | Outside


@dataclass(frozen=True, slots=True)
class Criterion:
    text: str
    check: Check
    guide: str


@dataclass(frozen=True, slots=True)
class StageCriteria:
    stage: Stage
    criteria: tuple[Criterion, ...]
    next_step: str  # said when this is the next stage to reach


WORKLOADS = ("Deployment", "DaemonSet", "StatefulSet")
ADMISSION_KINDS = ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy")


def _area(crawl: StageCriteria, walk: StageCriteria, run: StageCriteria) -> tuple[StageCriteria, ...]:
    return (crawl, walk, run)


def _stage(stage: Stage, next_step: str, *criteria: Criterion) -> StageCriteria:
    return StageCriteria(stage, criteria, next_step)


C, W, R = Stage.CRAWL, Stage.WALK, Stage.RUN
AREA_CRITERIA: Mapping[Area, tuple[StageCriteria, ...]] = {
    Area.CONTAINER_PRIVILEGES: _area(
        _stage(
            C,
            "Audit what runs privileged and take away what workloads do not need (the WL crawl rules list them).",
            Criterion(
                "no container runs privileged or shares the host", RulesPass(), "G1 Prevent Container Escapes: crawl"
            ),
        ),
        _stage(
            W,
            "Enforce the restrictions at admission: label namespaces with Pod Security enforce, or run the "
            "Stockade webhook in enforce mode.",
            Criterion("workloads meet the hardening rules", RulesPass(), "G1 Prevent Container Escapes: walk"),
            Criterion(
                "an admission controller enforces them",
                Present(ADMISSION_KINDS),
                "G1 Prevent Container Escapes: walk",
            ),
        ),
        _stage(
            R,
            "Check privileges in CI (the Stockade GitHub Action or pre-commit hook) before anything is deployed.",
            Criterion("workloads meet the run rules", RulesPass(), "G1 Prevent Container Escapes: run"),
            Criterion(
                "CI checks privileges before deployment",
                Outside("the CI pipeline"),
                "G1 Prevent Container Escapes: run",
            ),
        ),
    ),
    Area.EAST_WEST: _area(
        _stage(
            C,
            "Install a service mesh with strict mutual TLS and bring every workload into it.",
            Criterion(
                "a service mesh is installed",
                Present(("Deployment",), ("istiod", "linkerd-destination")),
                "G1/G2 Protect East-West Traffic: crawl",
            ),
            Criterion(
                "workloads are in the mesh with strict mutual TLS", RulesPass(), "G2 Protect East-West Traffic: crawl"
            ),
        ),
        _stage(
            W,
            "Turn on the mesh's access logs and ship them with the cluster's logs.",
            Criterion("the mesh keeps access logs", RulesPass(("EW-004",)), "G1/G2 Protect East-West Traffic: walk"),
        ),
        _stage(
            R,
            "Give every service an authorization policy naming its callers (stockade network reach --to shows who "
            "can call it today).",
            Criterion("every service restricts its callers", RulesPass(), "G1/G2 Protect East-West Traffic: run"),
        ),
    ),
    Area.SECRETS: _area(
        _stage(
            C,
            "Move credentials out of ConfigMaps and environment values into Secrets.",
            Criterion("credentials are kept in Secrets", RulesPass(), "G2 Use an External Secret Store: crawl"),
        ),
        _stage(
            W,
            "Encrypt Secrets at rest and narrow who may read them.",
            Criterion("Secrets are protected by RBAC", RulesPass(), "G2 Use an External Secret Store: walk"),
        ),
        _stage(
            R,
            "Keep secrets in an external store (Vault, a cloud secret manager) and sync them with an operator.",
            Criterion(
                "an external secrets operator syncs them",
                Present(
                    ("ExternalSecret", "ClusterSecretStore", "SecretStore", "SecretProviderClass", "VaultStaticSecret"),
                    groups=(
                        "external-secrets.io",
                        "secrets-store.csi.x-k8s.io",
                        "secrets.hashicorp.com",
                    ),
                ),
                "G2 Use an External Secret Store: run",
            ),
        ),
    ),
    Area.SERVICE_ACCOUNTS: _area(
        _stage(
            C,
            "Audit which workloads run as the default ServiceAccount and give each its own.",
            Criterion("workloads run as their own ServiceAccounts", RulesPass(), "G2 Default Service Accounts: crawl"),
        ),
        _stage(
            W,
            "Enforce a named ServiceAccount at admission.",
            Criterion(
                "ServiceAccount tokens and bindings are narrowed", RulesPass(), "G2 Default Service Accounts: walk"
            ),
            Criterion(
                "an admission controller enforces it", Present(ADMISSION_KINDS), "G2 Default Service Accounts: walk"
            ),
        ),
        _stage(
            R,
            "Check for the default ServiceAccount in CI, before deployment.",
            Criterion("CI checks ServiceAccounts", Outside("the CI pipeline"), "G2 Default Service Accounts: run"),
        ),
    ),
    Area.NAMESPACES: _area(
        _stage(
            C,
            "Audit namespaces: move workloads out of default and decide the boundaries to enforce.",
            Criterion("nothing runs in the default namespace", RulesPass(), "G2 Namespaces: crawl"),
        ),
        _stage(
            W,
            "Enforce namespace rules at admission.",
            Criterion("an admission controller enforces them", Present(ADMISSION_KINDS), "G2 Namespaces: walk"),
        ),
        _stage(
            R,
            "Check namespaces in CI, before deployment.",
            Criterion("CI checks namespaces", Outside("the CI pipeline"), "G2 Namespaces: run"),
        ),
    ),
    Area.REGISTRIES: _area(
        _stage(
            C,
            "List the registries you trust and pin images to them.",
            Criterion(
                "images name a registry and a fixed version",
                RulesPass(),
                "G2 Pull Images Only From Trusted Registries: crawl",
            ),
        ),
        _stage(
            W,
            "Verify image signatures at admission.",
            Criterion("images are pinned by digest", RulesPass(), "G2 Pull Images Only From Trusted Registries: walk"),
            Criterion(
                "signatures are verified at admission",
                Present(("ClusterImagePolicy", "ImagePolicy"), groups=("policy.sigstore.dev",)),
                "G2 Pull Images Only From Trusted Registries: walk",
            ),
        ),
        _stage(
            R,
            "Allow only the trusted registries at admission (the registry allow-list, IM-003).",
            Criterion(
                "only trusted registries are used", RulesPass(), "G2 Pull Images Only From Trusted Registries: run"
            ),
        ),
    ),
    Area.RBAC: _area(
        _stage(
            C,
            "Restrict privileged access to a group: no user or ServiceAccount bound to cluster-admin by name.",
            Criterion("privileged access is limited", RulesPass(), "G1 Enforce Least Privilege through RBAC: crawl"),
        ),
        _stage(
            W,
            "Remove the dangerous permissions (secrets, escalate, bind, impersonate, exec) from everyday roles.",
            Criterion(
                "everyday roles hold no dangerous permission",
                RulesPass(),
                "G1 Enforce Least Privilege through RBAC: walk",
            ),
        ),
        _stage(
            R,
            "Keep privileged credentials for break-glass only, with GitOps doing the changes.",
            Criterion(
                "privileged access is break-glass only",
                Outside("the identity provider and the break-glass procedure"),
                "G1 Enforce Least Privilege through RBAC: run",
            ),
        ),
    ),
    Area.GITOPS: _area(
        _stage(
            C,
            "Deploy from a pipeline after review (a helm upgrade job on merge).",
            Criterion(
                "deployments come from a pipeline (Helm releases)",
                Present(("Secret",), labels=(("owner", "helm"),)),
                "G1 Use GitOps: crawl",
            ),
        ),
        _stage(
            W,
            "Run a GitOps operator in the cluster (Argo CD, Flux) instead of pushing from CI.",
            Criterion(
                "a GitOps operator deploys",
                Present(
                    ("Application", "ApplicationSet", "Kustomization", "HelmRelease"),
                    groups=("argoproj.io", "kustomize.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io"),
                ),
                "G1 Use GitOps: walk",
            ),
        ),
        _stage(
            R,
            "Take manual write access away in production: no change by hand in GitOps namespaces.",
            Criterion("nothing is changed by hand", RulesPass(), "G1 Use GitOps: run"),
        ),
    ),
    Area.LOGGING: _area(
        _stage(
            C,
            "Keep the API server's audit log.",
            Criterion("the API server keeps an audit log", RulesPass(), "G1 Collect Logs: crawl"),
        ),
        _stage(
            W,
            "Deploy a logging agent and aggregate logs; record what matters in the audit policy.",
            Criterion("the audit policy records what matters", RulesPass(), "G1 Collect Logs: walk"),
            Criterion(
                "a logging agent collects logs",
                Present(
                    WORKLOADS, ("fluent-bit", "fluentd", "vector", "promtail", "filebeat", "otel-collector", "alloy")
                ),
                "G1 Collect Logs: walk",
            ),
        ),
        _stage(
            R,
            "Send the aggregated logs to a SIEM.",
            Criterion("logs reach a SIEM", Outside("the log pipeline"), "G1 Collect Logs: run"),
        ),
    ),
    Area.MONITORING: _area(
        _stage(
            C,
            "Deploy a runtime detection and response tool with its default rules.",
            Criterion(
                "a runtime detector runs",
                Present(WORKLOADS, ("falco", "tetragon", "tracee", "sysdig-agent", "stockade-node-agent")),
                "G1 Have Real-Time Monitoring: crawl",
            ),
        ),
        _stage(
            W,
            "Tune the detections to this cluster.",
            Criterion(
                "detections are tuned", Outside("the detector's configuration"), "G1 Have Real-Time Monitoring: walk"
            ),
        ),
        _stage(
            R,
            "Watch posture in real time (stockade watch) and act on the alerts.",
            Criterion(
                "posture is watched in real time",
                Present(("Deployment",), ("stockade-watch",)),
                "G1 Have Real-Time Monitoring: run",
            ),
        ),
    ),
    Area.ADMISSION: _area(
        _stage(
            C,
            "Deploy an admission controller with its default rules.",
            Criterion(
                "an admission controller runs", Present(ADMISSION_KINDS), "G1 Use an Admission Controller: crawl"
            ),
        ),
        _stage(
            W,
            "Scan existing workloads against the admission rules; enforce Pod Security on every namespace.",
            Criterion("namespaces enforce Pod Security", RulesPass(), "G1 Use an Admission Controller: walk"),
        ),
        _stage(
            R,
            "Write your own rules and dry-run them (warn, audit) before enforcing.",
            Criterion(
                "your own policies run",
                Present(("ConstraintTemplate", "ValidatingAdmissionPolicy", "ClusterPolicy", "Policy")),
                "G1 Use an Admission Controller: run",
            ),
        ),
    ),
    Area.CONTROL_PLANE: _area(
        _stage(
            C,
            "Harden the API server's flags and take its endpoint off the internet (a bastion for access).",
            Criterion(
                "the API server is configured safely",
                RulesPass(),
                "G1 Block External Access to the Control Plane: crawl",
            ),
        ),
        _stage(
            W,
            "Reach the cluster through the cloud provider's access service; finish the CIS hardening.",
            Criterion(
                "the control plane meets the walk rules",
                RulesPass(),
                "G1 Block External Access to the Control Plane: walk",
            ),
        ),
        _stage(
            R,
            "Broker access through an identity-aware proxy.",
            Criterion(
                "the control plane meets the run rules",
                RulesPass(),
                "G1 Block External Access to the Control Plane: run",
            ),
        ),
    ),
    Area.AUTHENTICATION: _area(
        _stage(
            C,
            "Authenticate through the cloud provider's identity, not static credentials.",
            Criterion("no static credentials", RulesPass(), "G1 Strengthen Authentication: crawl"),
        ),
        _stage(
            W,
            "Authenticate people with your identity provider over OIDC; retire legacy tokens and client certificates.",
            Criterion(
                "people authenticate through the identity provider", RulesPass(), "G1 Strengthen Authentication: walk"
            ),
        ),
        _stage(
            R,
            "Broker cluster access through a zero-trust, identity-aware proxy.",
            Criterion(
                "access goes through an identity-aware proxy",
                Outside("the access proxy"),
                "G1 Strengthen Authentication: run",
            ),
        ),
    ),
    Area.NODE_FILES: _area(
        _stage(
            C,
            "Harden the key files on every node (owners and modes, kubelet settings).",
            Criterion(
                "key files and the kubelet are hardened", RulesPass(), "G1/G2 Protect Key Configuration Files: crawl"
            ),
        ),
        _stage(
            W,
            "Bake the hardening into the node image.",
            Criterion(
                "nodes come from hardened images",
                Outside("the node image pipeline"),
                "G1/G2 Protect Key Configuration Files: walk",
            ),
        ),
        _stage(
            R,
            "Monitor attempts to modify the key files (stockade node watch, deployed with --node-agent).",
            Criterion(
                "changes to key files are watched",
                Present(("DaemonSet",), ("stockade-node-agent",)),
                "G1/G2 Protect Key Configuration Files: run",
            ),
        ),
    ),
}
