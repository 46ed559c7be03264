"""The in-cluster deployment of ``stockade watch``: manifests made from code, printed by
``stockade deploy manifests`` and kept in ``deploy/`` as a kustomize base (``make deploy``).

The read-only ClusterRole lists exactly the resources the watcher watches
(:func:`stockade.watch.kinds.watched_resources`), verbs ``get``, ``list``, ``watch`` only; it grants
nothing on Secrets (no rule reads their values, and a posture tool that can read every Secret
would be the best target in the cluster). Leader election needs a Lease in the tool's own
namespace (a Role); PolicyReport write-back, when asked for, gets a ClusterRole of its own, so the
reader role stays read-only. The pod passes Pod Security ``restricted``, and the store URL (it holds
the database password) comes from a Secret the operator creates, never from the manifests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from stockade import __version__
from stockade._manifests import (
    Manifest,
    dump_yaml,
    labels,
    locked_down_container,
    meta,
    selector,
    waived_deployment,
)
from stockade.watch.kinds import watched_resources

DEFAULT_IMAGE = f"ghcr.io/stockade-dev/stockade:{__version__}"
DEFAULT_NAMESPACE = "stockade"
DEFAULT_STORE_SECRET = "stockade-store"  # noqa: S105 - a Secret's name, not a value
STORE_SECRET_KEY = "url"  # noqa: S105 - a key name
LEASE_NAME = "stockade-watch"  # the Lease ``stockade watch --leader-elect`` takes in its namespace
METRICS_PORT = 9090
RUN_AS = 65532  # the conventional "nonroot" user of distroless images
NAME = "stockade-watch"
READER_ROLE = "stockade-watch-reader"
REPORTS_ROLE = "stockade-policy-reports"
LEADER_ROLE = "stockade-watch-leader-election"
READ_VERBS = ("get", "list", "watch")
REPORT_VERBS = ("get", "list", "create", "update", "patch", "delete")

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,511}")


# Findings of Stockade's own default rules that these manifests accept, with why (written on the
# Deployment as a ``stockade.io/ignore`` annotation, so a scan of the cluster says why too).
WAIVED: dict[str, str] = {
    "SA-002": "stockade watch lists and watches the API server, so its pod needs the ServiceAccount"
    " token; the ServiceAccount itself does not automount it",
}


@dataclass(frozen=True, slots=True)
class DeployOptions:
    """What ``stockade deploy manifests`` varies; :meth:`checked` validates it."""

    image: str = DEFAULT_IMAGE
    namespace: str = DEFAULT_NAMESPACE
    store_secret: str = DEFAULT_STORE_SECRET
    policy_reports: bool = False
    replicas: int = 2

    def checked(self) -> DeployOptions:
        """This, or ValueError saying which option is not a valid name."""
        if not _DNS_LABEL.fullmatch(self.namespace):
            raise ValueError(f"--namespace {self.namespace!r} is not a valid namespace name (RFC 1123 label)")
        if not _DNS_SUBDOMAIN.fullmatch(self.store_secret):
            raise ValueError(f"--store-secret {self.store_secret!r} is not a valid Secret name (RFC 1123 subdomain)")
        if not _IMAGE.fullmatch(self.image):
            raise ValueError(f"--image {self.image!r} is not an image reference")
        if self.replicas < 1:
            raise ValueError("replicas must be at least 1")
        return self


def _labels(component: str = "watch") -> dict[str, str]:
    return labels(component, "stockade-deploy", __version__)


def _meta(name: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    return meta(name, namespace, _labels(), **extra)


def reader_rules(kinds: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """get/list/watch on the watched resources, one rule per API group (groups and resources sorted)."""
    resources = watched_resources() if kinds is None else watched_resources(kinds)
    by_group: dict[str, list[str]] = {}
    for resource in resources:
        by_group.setdefault(resource.group, []).append(resource.plural)
    return [
        {"apiGroups": [group], "resources": sorted(set(plurals)), "verbs": list(READ_VERBS)}
        for group, plurals in sorted(by_group.items())
    ]


def namespace(options: DeployOptions) -> Manifest:
    pss = {
        f"pod-security.kubernetes.io/{mode}{suffix}": value
        for mode in ("enforce", "audit", "warn")
        for suffix, value in (("", "restricted"), ("-version", "latest"))
    }
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": options.namespace, "labels": {**_labels(), **pss}},
    }


def rbac(options: DeployOptions) -> list[Manifest]:
    ns = options.namespace
    subject = [{"kind": "ServiceAccount", "name": NAME, "namespace": ns}]
    objects: list[Manifest] = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            # The token is mounted by the pod that needs it (automountServiceAccountToken there), not
            # into every pod that might run as this account.
            "metadata": _meta(NAME, ns),
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": _meta(READER_ROLE),
            "rules": reader_rules(),
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": _meta(READER_ROLE),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": READER_ROLE},
            "subjects": subject,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta(LEADER_ROLE, ns),
            "rules": [
                # create cannot be limited to a name (the object does not exist yet when it is checked).
                {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
                {
                    "apiGroups": ["coordination.k8s.io"],
                    "resources": ["leases"],
                    "resourceNames": [LEASE_NAME],
                    "verbs": ["get", "update"],
                },
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": _meta(LEADER_ROLE, ns),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": LEADER_ROLE},
            "subjects": subject,
        },
    ]
    if options.policy_reports:
        objects += [
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": _meta(REPORTS_ROLE),
                "rules": [
                    {
                        "apiGroups": ["wgpolicyk8s.io"],
                        "resources": ["clusterpolicyreports", "policyreports"],
                        "verbs": list(REPORT_VERBS),
                    }
                ],
            },
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": _meta(REPORTS_ROLE),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": REPORTS_ROLE},
                "subjects": subject,
            },
        ]
    return objects


def deployment(options: DeployOptions) -> Manifest:
    args = ["watch", "--store", "$(STOCKADE_STORE)", "--leader-elect", "--metrics-address", f"0.0.0.0:{METRICS_PORT}"]
    # The Lease the Role grants: this name, in the namespace the pod runs in.
    args += ["--lease-name", LEASE_NAME, "--lease-namespace", "$(POD_NAMESPACE)"]
    if options.policy_reports:
        args.append("--policy-reports")
    container = {
        "name": "watch",
        "image": options.image,
        "imagePullPolicy": "Always",  # a tag can move; a digest in --image makes this cheap
        "command": ["stockade"],
        "args": args,
        "env": [
            # The URL holds the database password: it stays in the Secret the operator creates.
            {
                "name": "STOCKADE_STORE",
                "valueFrom": {"secretKeyRef": {"name": options.store_secret, "key": STORE_SECRET_KEY}},
            },
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        ],
        "ports": [{"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}],
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": "metrics"},
            "initialDelaySeconds": 10,
            "periodSeconds": 10,
            "timeoutSeconds": 3,
            "failureThreshold": 3,
        },
        "readinessProbe": {
            "httpGet": {"path": "/readyz", "port": "metrics"},
            "periodSeconds": 5,
            "timeoutSeconds": 3,
            "failureThreshold": 2,
        },
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi", "ephemeral-storage": "64Mi"},
            "limits": {"cpu": "1", "memory": "1Gi", "ephemeral-storage": "256Mi"},
        },
        "securityContext": locked_down_container(RUN_AS),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 - an emptyDir of its own
    }
    pod_spec = {
        "serviceAccountName": NAME,
        "automountServiceAccountToken": True,  # it reads the API: the token is what it reads with
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "fsGroup": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
        "terminationGracePeriodSeconds": 30,
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "labelSelector": {"matchLabels": selector("watch")},
                            "topologyKey": "kubernetes.io/hostname",
                        },
                    }
                ]
            }
        },
    }
    return waived_deployment(
        NAME,
        options.namespace,
        _labels(),
        "watch",
        replicas=options.replicas,
        max_unavailable=1,
        waived=WAIVED,
        pod_spec=pod_spec,
    )


def service(options: DeployOptions) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(f"{NAME}-metrics", options.namespace),
        "spec": {
            "type": "ClusterIP",
            "selector": selector("watch"),
            "ports": [{"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics", "protocol": "TCP"}],
        },
    }


def disruption_budget(options: DeployOptions) -> Manifest:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(NAME, options.namespace),
        "spec": {"minAvailable": 1, "selector": {"matchLabels": selector("watch")}},
    }


def network_policy(options: DeployOptions) -> Manifest:
    """Ingress only to the metrics port (probes and Prometheus); egress is left open, since the API
    server and the database are at addresses only the cluster's operator knows."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(NAME, options.namespace),
        "spec": {
            "podSelector": {"matchLabels": selector("watch")},
            "policyTypes": ["Ingress"],
            "ingress": [{"ports": [{"port": METRICS_PORT, "protocol": "TCP"}]}],
        },
    }


# The files of the kustomize base, in order, and what goes in each.
FILES: tuple[tuple[str, str], ...] = (
    ("namespace.yaml", "namespace"),
    ("rbac.yaml", "rbac"),
    ("deployment.yaml", "workload"),
    ("service.yaml", "network"),
    ("pdb.yaml", "budget"),
)


def grouped(options: DeployOptions) -> dict[str, list[Manifest]]:
    options = options.checked()
    return {
        "namespace": [namespace(options)],
        "rbac": rbac(options),
        "workload": [deployment(options)],
        "network": [service(options), network_policy(options)],
        "budget": [disruption_budget(options)],
    }


def manifests(options: DeployOptions | None = None) -> list[Manifest]:
    """Every object, in the order ``kubectl apply`` needs (namespace first)."""
    groups = grouped(options or DeployOptions())
    return [obj for _, group in FILES for obj in groups[group]]


def header(options: DeployOptions) -> str:
    ns, secret = options.namespace, options.store_secret
    return f"""\
# Stockade watcher, in-cluster ({__version__}). Generated by `stockade deploy manifests`; regenerate, do not edit.
#
# The ClusterRole {READER_ROLE} is read-only (get, list, watch) on the kinds the rules judge,
# and grants nothing on Secrets: no rule reads them.
# Custom resources with pod templates are not listed; add a rule for them if your rules read them.
#
# Before applying, create the Secret holding the history store URL (PostgreSQL for two replicas):
#   kubectl -n {ns} create secret generic {secret} --from-literal={STORE_SECRET_KEY}='postgresql://USER:PASSWORD@HOST:5432/DB'
"""


def render_yaml(options: DeployOptions | None = None) -> str:
    """All the manifests as one YAML stream, with the header comment."""
    options = (options or DeployOptions()).checked()
    return header(options) + "---\n" + dump_yaml(manifests(options))


def kustomize_files(options: DeployOptions | None = None) -> dict[str, str]:
    """File name -> content of the kustomize base (``kustomization.yaml`` and one file per group)."""
    options = (options or DeployOptions()).checked()
    groups = grouped(options)
    files = {name: header(options) + "---\n" + dump_yaml(groups[group]) for name, group in FILES}
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [name for name, _ in FILES],
    }
    files["kustomization.yaml"] = header(options) + dump_yaml([kustomization])
    return files
