"""`stockade admission manifests`: the objects parse and kubectl takes them, Stockade's own scan and Pod
Security restricted pass them, the webhook configurations have the shape the API server requires (CEL
matchConditions evaluated), the caBundle is the CA that signed the served certificate, the key is
written 0600 and printed nowhere else, and cert-manager mode carries no key material."""

from __future__ import annotations

import base64
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cel
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import stockade
from stockade.admission.certs import generate, service_dns_names
from stockade.admission.manifests import (
    CONNECT_RESOURCES,
    CONNECT_WEBHOOK,
    DEFAULTS_WEBHOOK,
    RULES_WEBHOOK,
    ManifestOptions,
    admission_manifests,
    render_yaml,
)
from stockade.admission.resources import admitted_resources
from stockade.cli.main import build_parser, main
from stockade.model.finding import Status
from stockade.pss import evaluate_pod, parse_version
from stockade.testing import FakeApiServer

KUBECTL = shutil.which("kubectl")
DIGEST_IMAGE = "registry.example.com/sec/stockade@sha256:" + "c" * 64
OPTION_SETS: dict[str, list[str]] = {
    "default": [],
    "custom": [
        "-n",
        "door",
        "--name",
        "gate",
        "--image",
        DIGEST_IMAGE,
        "--failure-policy",
        "ignore",
        "--timeout",
        "12",
        "--mutate",
        "--topology-spread",
        "--replicas",
        "3",
    ],
    "cert-manager": ["--tls", "cert-manager", "--mutate"],
}


def _printed(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["admission", "manifests", *argv]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # nothing on stderr: in particular, no key
    return captured.out


def _objects(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


def _by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def _one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = _by_kind(objects, kind)
    return found


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.fixture(params=sorted(OPTION_SETS))
def printed(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> tuple[str, Path]:
    text = _printed(OPTION_SETS[request.param], capsys)
    path = tmp_path / "admission.yaml"
    path.write_text(text)
    return request.param, path


def _names(variant: str) -> tuple[str, str]:
    return ("door", "gate") if variant == "custom" else ("stockade", "stockade-admission")


# -- the objects ------------------------------------------------------------------------------------


def test_the_output_parses_into_the_expected_objects_in_apply_order(printed: tuple[str, Path]) -> None:
    variant, path = printed
    text = path.read_text()
    assert text.startswith("# Stockade admission webhook")
    objects = _objects(text)
    kinds = [o["kind"] for o in objects]
    tls = ["Issuer", "Certificate"] if variant == "cert-manager" else ["Secret"]
    webhooks = ["ValidatingWebhookConfiguration"] + (["MutatingWebhookConfiguration"] if variant != "default" else [])
    assert kinds == [
        "Namespace",  # first: everything else is in it
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        *tls,
        "Deployment",
        "Service",
        "NetworkPolicy",
        "PodDisruptionBudget",
        *webhooks,  # last: the server runs before the API server starts calling it
    ]
    namespace, name = _names(variant)
    assert objects[0]["metadata"]["name"] == namespace
    cluster_scoped = {"Namespace", "ClusterRole", "ClusterRoleBinding", *webhooks}
    for obj in objects:
        if obj["kind"] not in cluster_scoped:
            assert obj["metadata"]["namespace"] == namespace, obj["kind"]
    assert _one(objects, "Service")["metadata"]["name"] == name
    assert _one(objects, "Deployment")["metadata"]["name"] == name


def test_the_namespace_enforces_pod_security_restricted(capsys: pytest.CaptureFixture[str]) -> None:
    labels = _one(_objects(_printed([], capsys)), "Namespace")["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "latest"


def test_the_pod_passes_pod_security_restricted(printed: tuple[str, Path]) -> None:
    _, path = printed
    template = _one(_objects(path.read_text()), "Deployment")["spec"]["template"]
    result = evaluate_pod(template["metadata"], template["spec"], "restricted", parse_version("latest"))
    assert result.allowed, result
    # And through the command, at the level the generated namespace enforces (its label).
    assert main(["pss", "evaluate", str(path), "--no-progress", "-f", "json"]) == 0


def test_stockades_own_scan_of_the_whole_output_has_no_failing_finding(printed: tuple[str, Path]) -> None:
    variant, path = printed
    result = stockade.scan([stockade.FileSource([str(path)])])
    assert result.errors == []
    failing = [f"{f.rule_id} {f.resource.display}: {f.message}" for f in result.findings if f.status is Status.FAIL]
    assert failing == []
    assert not [f for f in result.findings if f.status is Status.ERROR]
    # What is accepted, each with its reason on the object (listed here so a new one is a decision).
    namespace, name = _names(variant)
    excepted = sorted((f.rule_id, f.resource.display) for f in result.findings if f.status is Status.EXCEPTED)
    accepted = ["SA-002"] if variant == "custom" else ["IM-002", "SA-002"]  # custom pins the image by digest
    assert excepted == [(rule, f"Deployment/{namespace}/{name}") for rule in accepted]
    for finding in result.findings:
        if finding.status is Status.EXCEPTED:
            assert finding.waiver is not None
            assert ("ServiceAccount token" if finding.rule_id == "SA-002" else "digest") in finding.waiver.reason


def test_the_deployment_is_highly_available_and_locked_down(capsys: pytest.CaptureFixture[str]) -> None:
    objects = _objects(_printed(OPTION_SETS["custom"], capsys))
    deployment = _one(objects, "Deployment")
    spec = deployment["spec"]
    assert spec["replicas"] == 3
    assert spec["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    selector = spec["selector"]["matchLabels"]
    pod = spec["template"]["spec"]
    assert set(selector.items()) <= set(spec["template"]["metadata"]["labels"].items())
    (anti,) = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert anti["podAffinityTerm"] == {
        "labelSelector": {"matchLabels": selector},
        "topologyKey": "kubernetes.io/hostname",
    }
    (spread,) = pod["topologySpreadConstraints"]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone" and spread["labelSelector"]["matchLabels"] == selector
    (container,) = pod["containers"]
    assert container["image"] == DIGEST_IMAGE
    assert container["command"] == ["stockade"]
    # What the pod runs is a command `stockade admission serve` accepts, reading the namespaces'
    # Pod Security labels in-cluster and listening where the Service sends.
    served = build_parser().parse_args(container["args"])
    assert (served.command, served.admission_command) == ("admission", "serve")
    assert (served.config, served.cert, served.key) == (
        "/etc/stockade/admission/config.yaml",
        "/etc/stockade/tls/tls.crt",
        "/etc/stockade/tls/tls.key",
    )
    assert served.cluster and (served.address, served.port) == ("0.0.0.0", 8443)
    assert container["ports"] == [{"name": "https", "containerPort": 8443, "protocol": "TCP"}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "https", "scheme": "HTTPS"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "https", "scheme": "HTTPS"}
    assert container["startupProbe"]["httpGet"]["scheme"] == "HTTPS"
    assert set(container["resources"]["requests"]) >= {"cpu", "memory"}
    assert set(container["resources"]["limits"]) >= {"cpu", "memory"}
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert security["runAsNonRoot"] is True and security["capabilities"] == {"drop": ["ALL"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/etc/stockade/tls"]["name"]]["secret"]["secretName"] == "gate-tls"
    assert volumes[mounts["/etc/stockade/admission"]["name"]]["configMap"]["name"] == "gate-config"
    assert mounts["/etc/stockade/tls"]["readOnly"] is True
    assert pod["serviceAccountName"] == "gate" and pod["automountServiceAccountToken"] is True
    assert _one(objects, "ServiceAccount")["automountServiceAccountToken"] is False
    budget = _one(objects, "PodDisruptionBudget")
    assert budget["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": selector}}
    service = _one(objects, "Service")
    assert service["spec"]["selector"] == selector
    assert service["spec"]["ports"] == [{"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}]
    (ingress,) = _one(objects, "NetworkPolicy")["spec"]["ingress"]
    assert ingress == {"ports": [{"port": 8443, "protocol": "TCP"}]}


def test_the_role_reads_namespaces_and_nothing_else(
    printed: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    variant, path = printed
    objects = _objects(path.read_text())
    assert _one(objects, "ClusterRole")["rules"] == [
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]}
    ]
    namespace, name = _names(variant)
    subject = f"sa:{namespace}:{name}"

    def can(*request: str) -> bool:
        code = main(["rbac", "can-i", subject, *request, str(path), "--no-progress"])
        capsys.readouterr()
        assert code in (0, 1)
        return code == 0

    assert can("watch", "namespaces") and can("list", "namespaces")
    assert not can("get", "secrets", "-n", namespace) and not can("list", "pods")
    assert not can("update", "namespaces") and not can("create", "pods", "-n", namespace)


def test_the_configuration_file_is_shipped_verbatim(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "admission.yaml"
    text = "# ours\nfailure-policy: Fail\nmodes:\n  rules: {WL-001: enforce}\n  families: {IM: warn}\n"
    config.write_text(text)
    objects = _objects(_printed(["--config", str(config)], capsys))
    config_map = _one(objects, "ConfigMap")
    assert config_map["data"] == {"config.yaml": text}
    default = _one(_objects(_printed([], capsys)), "ConfigMap")["data"]["config.yaml"]
    assert yaml.safe_load(default) == {}  # every setting at the server's default


def test_a_configuration_the_server_would_refuse_is_refused_before_it_ships(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "admission.yaml"
    config.write_text("failurePolicy: Fail\n")
    with pytest.raises(SystemExit) as exited:
        main(["admission", "manifests", "--config", str(config)])
    assert exited.value.code == 2
    assert "failurePolicy: unknown key (did you mean 'failure-policy'?)" in capsys.readouterr().err


# -- the webhook configurations ---------------------------------------------------------------------


def _webhooks(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {w["name"]: w for w in _one(objects, kind)["webhooks"]}


def _matches(webhook: dict[str, Any], namespace: str) -> bool:
    """What the API server does with matchConditions: every expression true for the request."""
    request = {"namespace": namespace, "operation": "CREATE", "userInfo": {"username": "alice"}}
    return all(cel.evaluate(c["expression"], {"request": request}) is True for c in webhook["matchConditions"])


def test_every_webhook_has_the_shape_the_api_server_requires(printed: tuple[str, Path]) -> None:
    variant, path = printed
    objects = _objects(path.read_text())
    namespace, name = _names(variant)
    configurations = _by_kind(objects, "ValidatingWebhookConfiguration") + _by_kind(
        objects, "MutatingWebhookConfiguration"
    )
    failure_policy = "Ignore" if variant == "custom" else "Fail"
    timeout = 12 if variant == "custom" else 5
    for configuration in configurations:
        assert configuration["apiVersion"] == "admissionregistration.k8s.io/v1"
        names = [w["name"] for w in configuration["webhooks"]]
        assert len(names) == len(set(names))
        for webhook in configuration["webhooks"]:
            assert len(webhook["name"].split(".")) >= 3  # a fully qualified name, as the API requires
            assert webhook["sideEffects"] == "None"
            assert webhook["admissionReviewVersions"] == ["v1"]
            assert webhook["timeoutSeconds"] == timeout and 1 <= timeout <= 30
            assert webhook["matchPolicy"] == "Equivalent"
            assert webhook["clientConfig"]["service"] == {
                "namespace": namespace,
                "name": name,
                "path": "/mutate" if webhook["name"] == DEFAULTS_WEBHOOK else "/validate",
                "port": 443,
            }
            assert "url" not in webhook["clientConfig"]
            assert "objectSelector" not in webhook  # a label anyone can set would be a way around the door
            for rule in webhook["rules"]:
                assert set(rule) == {"apiGroups", "apiVersions", "operations", "resources", "scope"}
                assert rule["resources"] and "*" not in rule["resources"] and "*" not in rule["apiGroups"]
            expected = "Ignore" if webhook["name"] == CONNECT_WEBHOOK else failure_policy
            assert webhook["failurePolicy"] == expected


def test_match_conditions_exclude_the_webhook_namespace_and_kube_system(printed: tuple[str, Path]) -> None:
    variant, path = printed
    objects = _objects(path.read_text())
    namespace, _ = _names(variant)
    judged = [_webhooks(objects, "ValidatingWebhookConfiguration")[RULES_WEBHOOK]]
    if variant != "default":
        judged.append(_webhooks(objects, "MutatingWebhookConfiguration")[DEFAULTS_WEBHOOK])
    for webhook in judged:
        assert [c["name"] for c in webhook["matchConditions"]] == ["not-the-webhook-namespace", "not-kube-system"]
        assert not _matches(webhook, namespace)
        assert not _matches(webhook, "kube-system")
        assert _matches(webhook, "shop") and _matches(webhook, "default")
        assert _matches(webhook, "")  # cluster-scoped objects (ClusterRoles...) are judged
        assert webhook["namespaceSelector"] == {
            "matchExpressions": [
                {
                    "key": "kubernetes.io/metadata.name",
                    "operator": "NotIn",
                    "values": sorted({namespace, "kube-system"}),
                }
            ]
        }


def test_connect_is_recorded_everywhere_and_never_refused(printed: tuple[str, Path]) -> None:
    _, path = printed
    connect = _webhooks(_objects(path.read_text()), "ValidatingWebhookConfiguration")[CONNECT_WEBHOOK]
    assert connect["rules"] == [
        {
            "apiGroups": [""],
            "apiVersions": ["v1"],
            "operations": ["CONNECT"],
            "resources": ["pods/attach", "pods/exec", "pods/portforward"],
            "scope": "Namespaced",
        }
    ]
    assert tuple(connect["rules"][0]["resources"]) == CONNECT_RESOURCES
    assert connect["failurePolicy"] == "Ignore"
    # kube-system too: exec into a system pod is what an incident responder looks for first.
    assert "matchConditions" not in connect and "namespaceSelector" not in connect


def _granted(webhook: dict[str, Any], operation: str) -> set[tuple[str, str]]:
    return {
        (group, resource)
        for rule in webhook["rules"]
        if operation in rule["operations"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }


def test_the_validating_rules_are_what_the_rule_registry_judges(capsys: pytest.CaptureFixture[str]) -> None:
    objects = _objects(_printed(["--tls", "cert-manager"], capsys))
    webhook = _webhooks(objects, "ValidatingWebhookConfiguration")[RULES_WEBHOOK]
    for rule in webhook["rules"]:
        assert rule["operations"] == ["CREATE", "UPDATE"] and rule["apiVersions"] == ["*"]
        assert len(rule["apiGroups"]) == 1
    groups = [rule["apiGroups"][0] for rule in webhook["rules"]]
    assert groups == sorted(set(groups))  # one rule per API group
    sent = _granted(webhook, "CREATE")
    assert _granted(webhook, "UPDATE") == sent
    derived = {(r.group, r.plural) for r in admitted_resources()}
    assert sent == derived | {("", "pods/ephemeralcontainers")}  # kubectl debug adds containers through it
    for expected in [
        ("", "pods"),
        ("apps", "deployments"),
        ("batch", "cronjobs"),
        ("", "services"),
        ("", "namespaces"),
        ("", "serviceaccounts"),
        ("rbac.authorization.k8s.io", "clusterrolebindings"),
        ("networking.k8s.io", "ingresses"),
        ("argoproj.io", "rollouts"),
    ]:
        assert expected in sent, expected
    assert ("", "secrets") not in sent  # their values would all pass through the webhook
    assert ("apiextensions.k8s.io", "customresourcedefinitions") not in sent
    assert ("", "events") not in sent and ("coordination.k8s.io", "leases") not in sent  # no rule judges them


def test_a_rule_selection_narrows_what_the_webhook_is_sent(capsys: pytest.CaptureFixture[str]) -> None:
    def sent(*argv: str) -> set[tuple[str, str]]:
        objects = _objects(_printed(["--tls", "cert-manager", *argv], capsys))
        return _granted(_webhooks(objects, "ValidatingWebhookConfiguration")[RULES_WEBHOOK], "CREATE")

    assert sent("--rules", "SA-003") == {("", "serviceaccounts")}
    assert sent("--rules", "PSS-020") == {("", "namespaces")}
    workloads = sent("--rules", "WL")
    assert ("apps", "deployments") in workloads and ("", "pods/ephemeralcontainers") in workloads
    # Knative's Service carries a pod template; the core Service does not, and no WL rule judges it.
    assert ("serving.knative.dev", "services") in workloads and ("", "services") not in workloads
    assert ("", "configmaps") not in workloads
    assert ("", "configmaps") not in sent("--skip-rules", "SC-002,NS-001,RB-013,NP-006")


def test_the_mutating_webhook_patches_pod_carriers_only(capsys: pytest.CaptureFixture[str]) -> None:
    objects = _objects(_printed(["--mutate", "--tls", "cert-manager"], capsys))
    webhook = _webhooks(objects, "MutatingWebhookConfiguration")[DEFAULTS_WEBHOOK]
    assert webhook["reinvocationPolicy"] == "IfNeeded"
    created, updated = _granted(webhook, "CREATE"), _granted(webhook, "UPDATE")
    assert ("", "pods") in created and ("", "pods") not in updated  # a pod's spec is fixed once created
    assert created - updated == {("", "pods")}
    assert {("apps", "deployments"), ("batch", "cronjobs"), ("argoproj.io", "rollouts")} <= updated
    assert ("", "services") not in created and ("", "namespaces") not in created
    assert ("", "pods/ephemeralcontainers") not in created
    # Without --mutate there is no mutating configuration at all.
    assert _by_kind(_objects(_printed(["--tls", "cert-manager"], capsys)), "MutatingWebhookConfiguration") == []


# -- TLS --------------------------------------------------------------------------------------------


def test_the_ca_bundle_is_the_ca_that_signed_the_served_certificate(capsys: pytest.CaptureFixture[str]) -> None:
    objects = _objects(_printed(["--mutate", "-n", "door", "--name", "gate"], capsys))
    secret = _one(objects, "Secret")
    assert secret["type"] == "kubernetes.io/tls"
    data = {key: base64.b64decode(value) for key, value in secret["data"].items()}
    served = x509.load_pem_x509_certificate(data["tls.crt"])
    bundles = {
        w["clientConfig"]["caBundle"]
        for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
        for w in _one(objects, kind)["webhooks"]
    }
    (bundle,) = bundles  # every webhook trusts the same CA
    ca = x509.load_pem_x509_certificate(base64.b64decode(bundle))
    served.verify_directly_issued_by(ca)
    assert data["ca.crt"] == base64.b64decode(bundle)
    sans = served.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == list(service_dns_names("gate", "door"))
    assert "gate.door.svc" in sans.get_values_for_type(x509.DNSName)  # what the API server dials
    key = serialization.load_pem_private_key(data["tls.key"], password=None)
    assert key.public_key().public_numbers() == served.public_key().public_numbers()  # type: ignore[union-attr]


def test_each_run_makes_a_new_ca(capsys: pytest.CaptureFixture[str]) -> None:
    def bundle() -> str:
        webhooks = _one(_objects(_printed([], capsys)), "ValidatingWebhookConfiguration")["webhooks"]
        return str(webhooks[0]["clientConfig"]["caBundle"])

    assert bundle() != bundle()


def test_cert_manager_mode_has_no_key_material(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = _printed(["--tls", "cert-manager", "--mutate"], capsys)
    objects = _objects(text)
    assert "PRIVATE KEY" not in text and "LS0tLS1CRUdJTi" not in text  # no PEM, plain or base64
    assert _by_kind(objects, "Secret") == []
    assert "caBundle" not in set(_strings(objects))
    issuer, certificate = _one(objects, "Issuer"), _one(objects, "Certificate")
    assert issuer["apiVersion"] == certificate["apiVersion"] == "cert-manager.io/v1"
    assert issuer["spec"] == {"selfSigned": {}}
    spec = certificate["spec"]
    assert spec["issuerRef"] == {"group": "cert-manager.io", "kind": "Issuer", "name": issuer["metadata"]["name"]}
    assert spec["dnsNames"] == list(service_dns_names("stockade-admission", "stockade"))
    assert "server auth" in spec["usages"]
    volumes = _one(objects, "Deployment")["spec"]["template"]["spec"]["volumes"]
    assert {"name": "tls", "secret": {"secretName": spec["secretName"], "defaultMode": 0o440}} in volumes
    injected = f"stockade/{certificate['metadata']['name']}"
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        assert _one(objects, kind)["metadata"]["annotations"] == {"cert-manager.io/inject-ca-from": injected}
    # Written as files: no key file either.
    assert main(["admission", "manifests", "--tls", "cert-manager", "-o", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "tls.key" not in names and "ca.crt" not in names
    assert all("PRIVATE KEY" not in (tmp_path / "out" / n).read_text() for n in names)


def test_the_library_call_takes_tls_material_only_where_it_belongs() -> None:
    pair = generate("stockade-admission", "stockade")
    with pytest.raises(ValueError, match="needs the CA bundle"):
        admission_manifests(ManifestOptions())
    with pytest.raises(ValueError, match="give no CA bundle"):
        admission_manifests(ManifestOptions(tls="cert-manager"), ca_bundle=pair.ca_pem, tls_secret=pair)
    objects = admission_manifests(ManifestOptions(), ca_bundle=pair.ca_pem, tls_secret=pair)
    assert base64.b64decode(_one(objects, "Secret")["data"]["tls.key"]) == pair.key_pem
    assert "kind: Secret" in render_yaml(ManifestOptions(), pair.ca_pem, pair)


# -- writing files ----------------------------------------------------------------------------------


def test_files_in_a_directory_with_the_key_0600(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "admission"
    previous = os.umask(0)  # whatever the umask, the key material is the owner's only
    try:
        assert main(["admission", "manifests", "--mutate", "-o", str(out)]) == 0
    finally:
        os.umask(previous)
    captured = capsys.readouterr()
    assert captured.out == f"wrote 12 files in {out}\n" and captured.err == ""
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert modes["tls.key"] == 0o600 and modes["tls.yaml"] == 0o600  # the key, and the Secret holding it
    assert modes["ca.crt"] == 0o666 and modes["webhooks.yaml"] == 0o666  # public: the umask decides
    kustomization = yaml.safe_load((out / "kustomization.yaml").read_text().split("---\n", 1)[0])
    # The header is a comment: the document is the kustomization, listing every manifest file in order.
    assert kustomization["resources"] == [
        "namespace.yaml",
        "rbac.yaml",
        "configmap.yaml",
        "tls.yaml",
        "deployment.yaml",
        "service.yaml",
        "pdb.yaml",
        "webhooks.yaml",
    ]
    secret = _one(_objects((out / "tls.yaml").read_text()), "Secret")
    assert base64.b64decode(secret["data"]["tls.key"]) == (out / "tls.key").read_bytes()
    assert base64.b64decode(secret["data"]["tls.crt"]) == (out / "tls.crt").read_bytes()
    webhooks = _objects((out / "webhooks.yaml").read_text())
    bundle = webhooks[0]["webhooks"][0]["clientConfig"]["caBundle"]
    assert base64.b64decode(bundle) == (out / "ca.crt").read_bytes()
    assert sorted(o["kind"] for o in webhooks) == ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]


def test_kubectl_kustomize_builds_the_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert KUBECTL is not None, "kubectl is part of the development machine (see README)"
    out = tmp_path / "admission"
    assert main(["admission", "manifests", "--tls", "cert-manager", "-o", str(out)]) == 0
    capsys.readouterr()
    built = subprocess.run([KUBECTL, "kustomize", str(out)], capture_output=True, text=True, check=False, timeout=60)
    assert built.returncode == 0, built.stderr
    assert sorted(o["kind"] for o in _objects(built.stdout)) == sorted(
        o["kind"] for o in _objects(_printed(["--tls", "cert-manager"], capsys))
    )


# -- kubectl ----------------------------------------------------------------------------------------


def _crd(group: str, kind: str, plural: str) -> dict[str, Any]:
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
            "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema}],
        },
    }


@pytest.mark.parametrize("variant", ["default", "cert-manager"])
def test_kubectl_accepts_the_output(variant: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """kubectl maps every kind through discovery even for a client-side dry run, so it cannot run offline:
    it talks to the fake API server (with cert-manager's CRDs installed), first as a dry run, then for real."""
    assert KUBECTL is not None, "kubectl is part of the development machine (see README)"
    text = _printed([*OPTION_SETS[variant], "--mutate"], capsys)
    expected = _objects(text)
    crds = [_crd("cert-manager.io", "Issuer", "issuers"), _crd("cert-manager.io", "Certificate", "certificates")]
    with FakeApiServer(crds) as server:
        env = {"KUBECONFIG": str(server.kubeconfig(tmp_path / "kubeconfig")), "PATH": os.environ.get("PATH", "")}

        def kubectl(*argv: str) -> subprocess.CompletedProcess[str]:
            command = [KUBECTL, *argv, "--cache-dir", str(tmp_path / "cache"), "--validate=false", "-f", "-"]
            return subprocess.run(command, input=text, capture_output=True, text=True, env=env, check=False, timeout=60)

        dry = kubectl("apply", "--dry-run=client")
        assert dry.returncode == 0, dry.stderr
        lines = dry.stdout.splitlines()
        assert len(lines) == len(expected) and all(line.endswith(" created (dry run)") for line in lines)
        assert [o for o in server.objects() if o["kind"] != "CustomResourceDefinition"] == []  # nothing written

        created = kubectl("create")
        assert created.returncode == 0, created.stderr
        stored = {(o["kind"], o["metadata"]["name"]): o for o in server.objects()}
        for obj in expected:
            found = stored[(obj["kind"], obj["metadata"]["name"])]
            for field in ("spec", "data", "rules", "webhooks", "roleRef", "subjects", "type"):
                assert found.get(field) == obj.get(field), (obj["kind"], field)


# -- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-n", "Not_A_Namespace"], "not a valid namespace name"),
        (["--name", "x" * 60], "not a valid Service name"),
        (["--image", "evil\nimage: x"], "not an image reference"),
        (["--timeout", "0"], "not between 1 and 30 seconds"),
        (["--timeout", "31"], "not between 1 and 30 seconds"),
        (["--timeout", "soon"], "'soon' is not a whole number"),
        (["--failure-policy", "Maybe"], "'Maybe' is not one of Fail, Ignore"),
        (["--tls", "vault"], "invalid choice: 'vault'"),
        (["--replicas", "0"], "replicas must be at least 1"),
        (["--days", "0"], "--days: certificate validity must be at least one day"),
        (["--rules", "NO-SUCH-RULE"], "'NO-SUCH-RULE' is not a rule id"),
        (["--config", "/nonexistent/admission.yaml"], "cannot read --config /nonexistent/admission.yaml"),
    ],
)
def test_invalid_options_are_refused(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["admission", "manifests", *argv])
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"modes: [unclosed\n", "the configuration is not YAML"),
        (b"- a\n- list\n", "not a YAML mapping (it is a list)"),
        (b"\xff\xfe binary", "not UTF-8 text"),
        (b"a: " + b"x" * (1024 * 1024), "larger than a ConfigMap holds"),
    ],
)
def test_a_bad_configuration_file_is_named(
    content: bytes, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "admission.yaml"
    config.write_bytes(content)
    with pytest.raises(SystemExit) as exited:
        main(["admission", "manifests", "--config", str(config)])
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert f"--config {config}" in captured.err and message in captured.err and captured.out == ""


def test_options_that_send_the_webhook_nothing_are_refused() -> None:
    with pytest.raises(ValueError, match="judges no kind the webhook could be sent"):
        ManifestOptions(kinds=("Secret",)).checked()  # Secrets are never sent
    with pytest.raises(ValueError, match="judges no kind the webhook could be sent"):
        ManifestOptions(kinds=("NoSuchKind",)).checked()
    assert [r.plural for r in ManifestOptions(kinds=("Pod", "Secret")).resources()] == ["pods"]


def test_an_output_that_is_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "admission.yaml"
    target.write_text("keep me")
    with pytest.raises(SystemExit) as exited:
        main(["admission", "manifests", "-o", str(target)])
    assert exited.value.code == 2
    assert "not a directory" in capsys.readouterr().err
    assert target.read_text() == "keep me"
