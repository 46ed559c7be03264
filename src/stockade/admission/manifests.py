"""The in-cluster deployment of ``stockade admission serve``: manifests made from code, printed by
``stockade admission manifests``.

What the webhook is sent is derived from the rule registry (:mod:`stockade.admission.resources`):
CREATE and UPDATE of every resource the selected rules judge or read, but Secrets, and
``pods/ephemeralcontainers`` too, since ``kubectl debug`` adds containers through it.

Safety of the door itself:

- the webhook's own namespace and ``kube-system`` are never sent to it (a ``namespaceSelector`` on
  the immutable ``kubernetes.io/metadata.name`` label, and CEL ``matchConditions`` for Kubernetes
  1.28+), so with ``failurePolicy: Fail`` a webhook that is down can still be restarted, and the
  cluster's own components keep running. No ``objectSelector`` excludes the webhook's pods by label:
  a label any user can set would be a way past the door. Namespace exclusion covers them;
- CONNECT on ``pods/exec``, ``pods/attach`` and ``pods/portforward`` is a webhook entry of its own
  that is always allowed and fails open (``Ignore``): it records the break-glass trail and must never
  lock responders out. It covers every namespace, ``kube-system`` above all;
- two replicas, a PodDisruptionBudget, anti-affinity by host (and, when asked, a spread over zones),
  a rolling update that never goes below the replica count, probes on ``/healthz`` and ``/readyz``
  over HTTPS, and a pod that passes Pod Security ``restricted`` and Stockade's own scan.

TLS is either a self-signed CA and serving pair (:mod:`stockade.admission.certs`) given here as a
TLS Secret and the ``caBundle``, or cert-manager objects (a self-signed Issuer and a Certificate)
with the ``cert-manager.io/inject-ca-from`` annotation, so no key material is in the output at all.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

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
from stockade.admission.certs import ServingCertificate, service_dns_names
from stockade.admission.config import AdmissionConfigError, parse_admission_config
from stockade.admission.resources import AdmittedResource, admitted_resources, pod_carriers

DEFAULT_IMAGE = f"ghcr.io/stockade-dev/stockade:{__version__}"
DEFAULT_NAMESPACE = "stockade"
DEFAULT_NAME = "stockade-admission"
DEFAULT_TIMEOUT = 5  # seconds; the API server waits this long for an answer before the failure policy
MAX_TIMEOUT = 30  # the API server's own bound on timeoutSeconds
FAILURE_POLICIES = ("Fail", "Ignore")
TLS_MODES = ("self-signed", "cert-manager")
SYSTEM_NAMESPACE = "kube-system"

PORT = 8443  # the container's; the Service listens on 443
SERVICE_PORT = 443
RUN_AS = 65532  # the conventional "nonroot" user of distroless images
CONFIG_KEY = "config.yaml"
CONFIG_DIR = "/etc/stockade/admission"
TLS_DIR = "/etc/stockade/tls"
MAX_CONFIG_BYTES = 1024 * 1024  # a ConfigMap holds at most 1 MiB

VALIDATE_PATH, MUTATE_PATH = "/validate", "/mutate"
RULES_WEBHOOK = "rules.admission.stockade.io"
CONNECT_WEBHOOK = "connect.admission.stockade.io"
DEFAULTS_WEBHOOK = "defaults.admission.stockade.io"
CONNECT_RESOURCES = ("pods/attach", "pods/exec", "pods/portforward")
EPHEMERAL_CONTAINERS = "pods/ephemeralcontainers"
READ_VERBS = ("get", "list", "watch")

# The server's configuration when none is given: every setting at its default (the configuration
# file documents them; `stockade admission serve --check-config FILE` checks one).
DEFAULT_CONFIG = "# Stockade admission configuration: every setting at its default.\n{}\n"

# Findings of Stockade's own default rules that these manifests accept, with why (written on the
# Deployment as a ``stockade.io/ignore`` annotation, so a scan of the cluster says why too).
WAIVED: dict[str, str] = {
    "SA-002": "the webhook watches Namespaces (their Pod Security labels), so its pod needs the ServiceAccount"
    " token; the ServiceAccount itself does not automount it",
}
UNPINNED_IMAGE = (
    "IM-002",
    "the image is a release tag: pass --image with a digest (@sha256:...) to pin it",
)

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,511}")

FailurePolicy = Literal["Fail", "Ignore"]
TlsMode = Literal["self-signed", "cert-manager"]


@dataclass(frozen=True, slots=True)
class ManifestOptions:
    """What ``stockade admission manifests`` varies; :meth:`checked` validates it.

    ``config``: the server's configuration file (YAML text), shipped in a ConfigMap.
    ``rules`` / ``skip_rules``: the rule selection (as ``stockade scan --rules``) whose kinds the
    webhook is sent; ``kinds``: send exactly these kinds instead.
    """

    namespace: str = DEFAULT_NAMESPACE
    name: str = DEFAULT_NAME
    image: str = DEFAULT_IMAGE
    replicas: int = 2
    failure_policy: FailurePolicy = "Fail"
    timeout_seconds: int = DEFAULT_TIMEOUT
    mutate: bool = False
    tls: TlsMode = "self-signed"
    config: str = DEFAULT_CONFIG
    rules: tuple[str, ...] = ()
    skip_rules: tuple[str, ...] = ()
    kinds: tuple[str, ...] | None = None
    topology_spread: bool = False

    def checked(self) -> ManifestOptions:
        """This, or ValueError saying which option is wrong and why."""
        if not _DNS_LABEL.fullmatch(self.namespace):
            raise ValueError(f"--namespace {self.namespace!r} is not a valid namespace name (RFC 1123 label)")
        if not _DNS_LABEL.fullmatch(self.name) or len(self.name) > 50:
            # The Service's name (an RFC 1123 label); suffixes such as "-config" must still fit.
            raise ValueError(f"name {self.name!r} is not a valid Service name (RFC 1123 label, at most 50 characters)")
        if not _IMAGE.fullmatch(self.image):
            raise ValueError(f"--image {self.image!r} is not an image reference")
        if self.replicas < 1:
            raise ValueError("replicas must be at least 1")
        if self.failure_policy not in FAILURE_POLICIES:
            raise ValueError(f"--failure-policy {self.failure_policy!r} is not one of {', '.join(FAILURE_POLICIES)}")
        if not 1 <= self.timeout_seconds <= MAX_TIMEOUT:
            raise ValueError(f"--timeout {self.timeout_seconds} is not between 1 and {MAX_TIMEOUT} seconds")
        if self.tls not in TLS_MODES:
            raise ValueError(f"--tls {self.tls!r} is not one of {', '.join(TLS_MODES)}")
        if len(self.config.encode("utf-8")) > MAX_CONFIG_BYTES:
            raise ValueError("the configuration is larger than a ConfigMap holds (1 MiB)")
        check_config(self.config)
        if not self.resources():
            raise ValueError("the rule selection judges no kind the webhook could be sent (see `stockade rules list`)")
        return self

    def resources(self) -> list[AdmittedResource]:
        """What the webhook is sent (:func:`stockade.admission.resources.admitted_resources`)."""
        return admitted_resources(self.rules, self.skip_rules, self.kinds)

    @property
    def tls_secret(self) -> str:
        return f"{self.name}-tls"

    @property
    def config_map(self) -> str:
        return f"{self.name}-config"

    @property
    def reader_role(self) -> str:
        return f"{self.name}-reader"

    @property
    def issuer(self) -> str:
        return f"{self.name}-selfsigned"

    @property
    def certificate(self) -> str:
        return f"{self.name}-serving"


# -- what the webhook is sent --------------------------------------------------------------------


def check_config(text: str, base: Path | None = None) -> None:
    """The configuration is one ``stockade admission serve`` accepts (every problem in the
    ValueError); ``base``: where its relative paths (exceptions files) are found."""
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(f"the configuration is not YAML: {error}") from None
    if loaded is not None and not isinstance(loaded, dict):
        raise ValueError(f"the configuration is not a YAML mapping (it is a {type(loaded).__name__})")
    try:
        parse_admission_config(loaded or {}, base=base)
    except AdmissionConfigError as error:
        raise ValueError("; ".join(error.problems) or str(error)) from None


def _by_group(resources: Iterable[AdmittedResource]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for resource in resources:
        grouped.setdefault(resource.group, []).append(resource.plural)
    return {group: sorted(set(plurals)) for group, plurals in sorted(grouped.items())}


def validating_rules(resources: Iterable[AdmittedResource]) -> list[dict[str, Any]]:
    """CREATE and UPDATE on ``resources``, one rule per API group; pods' ephemeral containers too."""
    rules = []
    for group, plurals in _by_group(resources).items():
        if group == "" and "pods" in plurals:
            plurals = sorted([*plurals, EPHEMERAL_CONTAINERS])
        rules.append(_rule(group, plurals, ["CREATE", "UPDATE"]))
    return rules


def mutating_rules(resources: Iterable[AdmittedResource]) -> list[dict[str, Any]]:
    """Pods on CREATE (a pod's spec cannot change afterwards); pod templates on CREATE and UPDATE."""
    rules = []
    for group, plurals in _by_group(resources).items():
        templates = [p for p in plurals if not (group == "" and p == "pods")]
        if len(templates) < len(plurals):
            rules.append(_rule(group, ["pods"], ["CREATE"]))
        if templates:
            rules.append(_rule(group, templates, ["CREATE", "UPDATE"]))
    return rules


def _rule(group: str, resources: Sequence[str], operations: Sequence[str]) -> dict[str, Any]:
    return {
        "apiGroups": [group],
        "apiVersions": ["*"],
        "operations": list(operations),
        "resources": list(resources),
        "scope": "*",
    }


# -- the objects ------------------------------------------------------------------------------------


def _labels() -> dict[str, str]:
    return labels("admission", "stockade-admission-manifests", __version__)


_SELECTOR = selector("admission")


def _meta(name: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    return meta(name, namespace, _labels(), **extra)


def namespace(options: ManifestOptions) -> Manifest:
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


def rbac(options: ManifestOptions) -> list[Manifest]:
    """The ServiceAccount, and reading Namespaces (their Pod Security labels) cluster-wide."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            # The token is mounted by the pod that needs it, not into every pod that runs as this account.
            "metadata": _meta(options.name, options.namespace),
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": _meta(options.reader_role),
            "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": list(READ_VERBS)}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": _meta(options.reader_role),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": options.reader_role},
            "subjects": [{"kind": "ServiceAccount", "name": options.name, "namespace": options.namespace}],
        },
    ]


def config_map(options: ManifestOptions) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(options.config_map, options.namespace),
        "data": {CONFIG_KEY: options.config},
    }


def tls_pair_secret(options: ManifestOptions, certificate: ServingCertificate) -> Manifest:
    def encoded(pem: bytes) -> str:
        return base64.b64encode(pem).decode("ascii")

    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(options.tls_secret, options.namespace),
        "type": "kubernetes.io/tls",
        "data": {
            "ca.crt": encoded(certificate.ca_pem),
            "tls.crt": encoded(certificate.cert_pem),
            "tls.key": encoded(certificate.key_pem),
        },
    }


def cert_manager(options: ManifestOptions) -> list[Manifest]:
    """A self-signed Issuer and the serving Certificate; cert-manager writes (and renews) the TLS
    Secret, and its CA injector fills the webhook configurations' caBundle."""
    return [
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": _meta(options.issuer, options.namespace),
            "spec": {"selfSigned": {}},
        },
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": _meta(options.certificate, options.namespace),
            "spec": {
                "secretName": options.tls_secret,
                "commonName": service_dns_names(options.name, options.namespace)[2],
                "dnsNames": list(service_dns_names(options.name, options.namespace)),
                "duration": "2160h",  # 90 days
                "renewBefore": "360h",  # 15 days: the server reloads the files when they change
                "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                "usages": ["digital signature", "server auth"],
                "issuerRef": {"group": "cert-manager.io", "kind": "Issuer", "name": options.issuer},
            },
        },
    ]


def _waivers(options: ManifestOptions) -> dict[str, str]:
    waived = dict(WAIVED)
    if "@sha256:" not in options.image:
        rule, why = UNPINNED_IMAGE
        waived[rule] = why
    return waived


def _probe(path: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "https", "scheme": "HTTPS"},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def deployment(options: ManifestOptions) -> Manifest:
    args = [
        "admission",
        "serve",
        "--config",
        f"{CONFIG_DIR}/{CONFIG_KEY}",
        "--cert",
        f"{TLS_DIR}/tls.crt",
        "--key",
        f"{TLS_DIR}/tls.key",
        "--cluster",  # namespaces' Pod Security labels, read in-cluster with the ServiceAccount
        "--address",
        "0.0.0.0",  # noqa: S104 - the API server calls through the Service, from outside the pod
        "--port",
        str(PORT),
    ]
    container = {
        "name": "admission",
        "image": options.image,
        "imagePullPolicy": "Always",  # a tag can move; a digest in --image makes this cheap
        "command": ["stockade"],
        "args": args,
        "ports": [{"name": "https", "containerPort": PORT, "protocol": "TCP"}],
        "startupProbe": _probe("/healthz", 2, 30),
        "livenessProbe": _probe("/healthz", 10, 3),
        "readinessProbe": _probe("/readyz", 5, 2),
        "resources": {
            "requests": {"cpu": "200m", "memory": "256Mi", "ephemeral-storage": "64Mi"},
            "limits": {"cpu": "2", "memory": "1Gi", "ephemeral-storage": "256Mi"},
        },
        "securityContext": locked_down_container(RUN_AS),
        "volumeMounts": [
            {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
            {"name": "tls", "mountPath": TLS_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - an emptyDir of its own
        ],
    }
    pod_spec: dict[str, Any] = {
        "serviceAccountName": options.name,
        "automountServiceAccountToken": True,  # it watches Namespaces: the token is what it reads with
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "fsGroup": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [
            {"name": "config", "configMap": {"name": options.config_map}},
            # Group-readable for fsGroup; cert-manager replaces the files in place when it renews.
            {"name": "tls", "secret": {"secretName": options.tls_secret, "defaultMode": 0o440}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        ],
        "terminationGracePeriodSeconds": 30,
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "labelSelector": {"matchLabels": dict(_SELECTOR)},
                            "topologyKey": "kubernetes.io/hostname",
                        },
                    }
                ]
            }
        },
    }
    if options.topology_spread:
        pod_spec["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": dict(_SELECTOR)},
            }
        ]
    # maxUnavailable 0: never fewer ready replicas than asked for while rolling; the door stays staffed.
    return waived_deployment(
        options.name,
        options.namespace,
        _labels(),
        "admission",
        replicas=options.replicas,
        max_unavailable=0,
        waived=_waivers(options),
        pod_spec=pod_spec,
    )


def disruption_budget(options: ManifestOptions) -> Manifest:
    # maxUnavailable, not minAvailable: with one replica a drain can still proceed.
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(options.name, options.namespace),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": dict(_SELECTOR)}},
    }


def service(options: ManifestOptions) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(options.name, options.namespace),
        "spec": {
            "type": "ClusterIP",
            "selector": dict(_SELECTOR),
            "ports": [{"name": "https", "port": SERVICE_PORT, "targetPort": "https", "protocol": "TCP"}],
        },
    }


def network_policy(options: ManifestOptions) -> Manifest:
    """Ingress only to the HTTPS port (the API server, probes, Prometheus); egress is left open, since
    the API server is at an address only the cluster's operator knows."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(options.name, options.namespace),
        "spec": {
            "podSelector": {"matchLabels": dict(_SELECTOR)},
            "policyTypes": ["Ingress"],
            "ingress": [{"ports": [{"port": PORT, "protocol": "TCP"}]}],
        },
    }


def _excluded_namespaces(options: ManifestOptions) -> list[str]:
    return sorted({options.namespace, SYSTEM_NAMESPACE})


def match_conditions(options: ManifestOptions) -> list[dict[str, str]]:
    """CEL: not the webhook's own namespace, not kube-system. (Names are RFC 1123 labels: no quoting issue.)"""
    return [
        {"name": "not-the-webhook-namespace", "expression": f"request.namespace != '{options.namespace}'"},
        {"name": "not-kube-system", "expression": f"request.namespace != '{SYSTEM_NAMESPACE}'"},
    ]


def _client(options: ManifestOptions, path: str, ca_bundle: str | None) -> dict[str, Any]:
    client: dict[str, Any] = {
        "service": {"namespace": options.namespace, "name": options.name, "path": path, "port": SERVICE_PORT}
    }
    if ca_bundle is not None:
        client["caBundle"] = ca_bundle
    return client


def _webhook(
    name: str,
    options: ManifestOptions,
    path: str,
    ca_bundle: str | None,
    rules: list[dict[str, Any]],
    failure_policy: str,
    *,
    excluding: bool = True,
) -> dict[str, Any]:
    webhook: dict[str, Any] = {
        "name": name,
        "clientConfig": _client(options, path, ca_bundle),
        "rules": rules,
        "failurePolicy": failure_policy,
        "matchPolicy": "Equivalent",
        "sideEffects": "None",
        "timeoutSeconds": options.timeout_seconds,
        "admissionReviewVersions": ["v1"],
    }
    if excluding:
        webhook["namespaceSelector"] = {
            "matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": _excluded_namespaces(options)}
            ]
        }
        webhook["matchConditions"] = match_conditions(options)
    return webhook


def _configuration_meta(options: ManifestOptions) -> dict[str, Any]:
    if options.tls == "cert-manager":
        inject = {"cert-manager.io/inject-ca-from": f"{options.namespace}/{options.certificate}"}
        return _meta(options.name, annotations=inject)
    return _meta(options.name)


def validating_configuration(options: ManifestOptions, ca_bundle: str | None) -> Manifest:
    resources = options.resources()
    connect = [
        {
            "apiGroups": [""],
            "apiVersions": ["v1"],
            "operations": ["CONNECT"],
            "resources": list(CONNECT_RESOURCES),
            "scope": "Namespaced",
        }
    ]
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": _configuration_meta(options),
        "webhooks": [
            _webhook(
                RULES_WEBHOOK, options, VALIDATE_PATH, ca_bundle, validating_rules(resources), options.failure_policy
            ),
            # Recorded, always allowed, and never in the way: Ignore whatever the failure policy.
            _webhook(CONNECT_WEBHOOK, options, VALIDATE_PATH, ca_bundle, connect, "Ignore", excluding=False),
        ],
    }


def mutating_configuration(options: ManifestOptions, ca_bundle: str | None) -> Manifest:
    resources = pod_carriers(options.resources())
    webhook = _webhook(
        DEFAULTS_WEBHOOK, options, MUTATE_PATH, ca_bundle, mutating_rules(resources), options.failure_policy
    )
    # Containers another mutating webhook adds after this one get the defaults too.
    webhook["reinvocationPolicy"] = "IfNeeded"
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": _configuration_meta(options),
        "webhooks": [webhook],
    }


# -- all of it --------------------------------------------------------------------------------------

# The files ``-o DIR`` writes, in the order ``kubectl apply`` needs, and what goes in each.
FILES: tuple[tuple[str, str], ...] = (
    ("namespace.yaml", "namespace"),
    ("rbac.yaml", "rbac"),
    ("configmap.yaml", "config"),
    ("tls.yaml", "tls"),
    ("deployment.yaml", "workload"),
    ("service.yaml", "network"),
    ("pdb.yaml", "budget"),
    ("webhooks.yaml", "webhooks"),
)
SECRET_FILES = frozenset({"tls.yaml"})  # hold a private key in self-signed mode: written 0600


def grouped(
    options: ManifestOptions, ca_bundle: bytes | None = None, tls_secret: ServingCertificate | None = None
) -> dict[str, list[Manifest]]:
    """The objects by file group (see FILES). Self-signed mode needs ``ca_bundle`` (the CA's PEM) and
    ``tls_secret`` (the serving pair); cert-manager mode takes neither, and carries no key material."""
    options = options.checked()
    if options.tls == "self-signed":
        if ca_bundle is None or tls_secret is None:
            raise ValueError("self-signed TLS needs the CA bundle and the serving pair (stockade.admission.certs)")
        bundle: str | None = base64.b64encode(ca_bundle).decode("ascii")
        tls = [tls_pair_secret(options, tls_secret)]
    else:
        if ca_bundle is not None or tls_secret is not None:
            raise ValueError("cert-manager issues the certificate: give no CA bundle or key pair")
        bundle, tls = None, cert_manager(options)
    webhooks = [validating_configuration(options, bundle)]
    if options.mutate:
        webhooks.append(mutating_configuration(options, bundle))
    return {
        "namespace": [namespace(options)],
        "rbac": rbac(options),
        "config": [config_map(options)],
        "tls": tls,
        "workload": [deployment(options)],
        "network": [service(options), network_policy(options)],
        "budget": [disruption_budget(options)],
        "webhooks": webhooks,
    }


def admission_manifests(
    options: ManifestOptions, ca_bundle: bytes | None = None, tls_secret: ServingCertificate | None = None
) -> list[Manifest]:
    """Every object, in the order ``kubectl apply`` needs (namespace first, webhooks last: the server
    is running before the API server starts sending it requests)."""
    groups = grouped(options, ca_bundle, tls_secret)
    return [obj for _, group in FILES for obj in groups[group]]


def header(options: ManifestOptions) -> str:
    options = options.checked()
    secret = options.tls_secret
    if options.tls == "cert-manager":
        tls = (
            f"# TLS: cert-manager issues and renews the serving certificate (Secret {secret}) and injects\n"
            "# the CA into the webhook configurations; install cert-manager first.\n"
        )
    else:
        tls = (
            f"# TLS: a self-signed CA and serving certificate, generated now. The Secret {secret} below\n"
            "# holds the PRIVATE KEY: keep this output out of version control (or use --tls cert-manager).\n"
            "# To rotate, generate again and apply the whole output (Secret and caBundle change together).\n"
        )
    return (
        f"# Stockade admission webhook ({__version__}). Generated by `stockade admission manifests`;"
        " regenerate, do not edit.\n#\n"
        f"# failurePolicy {options.failure_policy}, timeout {options.timeout_seconds}s. The namespaces"
        f" {', '.join(_excluded_namespaces(options))} are never sent to the webhook;\n"
        "# matchConditions need Kubernetes 1.28 or later. exec/attach/port-forward are recorded, never refused.\n" + tls
    )


def render_yaml(
    options: ManifestOptions, ca_bundle: bytes | None = None, tls_secret: ServingCertificate | None = None
) -> str:
    """All the manifests as one YAML stream, with the header comment."""
    return header(options) + "---\n" + dump_yaml(admission_manifests(options, ca_bundle, tls_secret))


def render_files(
    options: ManifestOptions, ca_bundle: bytes | None = None, tls_secret: ServingCertificate | None = None
) -> dict[str, str]:
    """File name -> content: one file per group (empty groups left out) and a ``kustomization.yaml``."""
    groups = grouped(options, ca_bundle, tls_secret)
    top = header(options)
    files = {name: top + "---\n" + dump_yaml(groups[group]) for name, group in FILES if groups[group]}
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": list(files),
    }
    files["kustomization.yaml"] = top + dump_yaml([kustomization])
    return files
