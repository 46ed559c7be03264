"""Serving the webhook in a test and talking to it over real HTTPS (http.client with the test CA)."""

from __future__ import annotations

import http.client
import json
import ssl
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockade.admission.app import build_app
from stockade.admission.config import AdmissionConfig, parse_admission_config
from stockade.admission.decide import AdmissionDecider
from stockade.admission.metrics import AdmissionMetrics
from stockade.admission.namespaces import NamespaceLabels, StaticNamespaces
from stockade.admission.server import AdmissionServer
from stockade.testing._tls import ServerCertificate, make_server_certificate

# kind -> (API group, resource) for the requests the tests build.
RESOURCES: dict[str, tuple[str, str]] = {
    "Pod": ("", "pods"),
    "Namespace": ("", "namespaces"),
    "ReplicationController": ("", "replicationcontrollers"),
    "PodTemplate": ("", "podtemplates"),
    "Deployment": ("apps", "deployments"),
    "ReplicaSet": ("apps", "replicasets"),
    "StatefulSet": ("apps", "statefulsets"),
    "DaemonSet": ("apps", "daemonsets"),
    "Job": ("batch", "jobs"),
    "CronJob": ("batch", "cronjobs"),
}


def review(
    obj: Mapping[str, Any] | None,
    *,
    operation: str = "CREATE",
    old: Mapping[str, Any] | None = None,
    namespace: str | None = None,
    user: str = "alice",
    groups: Sequence[str] = ("system:authenticated",),
    uid: str | None = None,
    sub_resource: str = "",
    kind: str | None = None,
) -> dict[str, Any]:
    """An AdmissionReview request as the API server sends it for ``obj``."""
    source = obj if obj is not None else old or {}
    kind = kind or str(source.get("kind", "Pod"))
    api_version = str(source.get("apiVersion", "v1"))
    group, _, version = api_version.rpartition("/")
    default_group, resource = RESOURCES.get(kind, (group, kind.lower() + "s"))
    metadata = source.get("metadata") or {}
    request: dict[str, Any] = {
        "uid": uid or str(uuid.uuid4()),
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group or default_group, "version": version, "resource": resource},
        "operation": operation,
        "name": metadata.get("name", ""),
        "namespace": namespace if namespace is not None else metadata.get("namespace", ""),
        "userInfo": {"username": user, "groups": list(groups)},
        "object": obj,
        "oldObject": old,
        "dryRun": False,
    }
    if sub_resource:
        request["subResource"] = sub_resource
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


def pod(
    name: str = "app",
    namespace: str = "shop",
    *,
    security: Mapping[str, Any] | None = None,
    image: str = "registry.example.com/app@sha256:" + "a" * 64,
    annotations: Mapping[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": image}
    if security is not None:
        container["securityContext"] = dict(security)
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": {"containers": [container], **spec}}


def deployment(name: str, namespace: str, pod_spec: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": dict(pod_spec)},
        },
    }


class Client:
    """One keep-alive HTTPS connection to the webhook, opened again when the server closed it."""

    def __init__(self, port: int, ca_pem: bytes) -> None:
        self.port = port
        self.context = ssl.create_default_context(cadata=ca_pem.decode())
        self._connection: http.client.HTTPSConnection | None = None

    def _connect(self) -> http.client.HTTPSConnection:
        if self._connection is None:
            self._connection = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=30)
        return self._connection

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> tuple[int, bytes]:
        for attempt in (1, 2):
            connection = self._connect()
            try:
                connection.request(method, path, body=body, headers=dict(headers or {}))
                response = connection.getresponse()
                data = response.read()
                if response.getheader("connection", "").lower() == "close":
                    self.close()
                return response.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def post(
        self, path: str, payload: Mapping[str, Any] | bytes, content_type: str = "application/json"
    ) -> tuple[int, dict[str, Any]]:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        status, data = self.request("POST", path, body, {"Content-Type": content_type})
        return status, json.loads(data)

    def admit(self, payload: Mapping[str, Any], path: str = "/validate") -> dict[str, Any]:
        """The ``response`` of a well-formed review (checked to be a v1 AdmissionReview for its uid)."""
        status, answer = self.post(path, payload)
        assert status == 200, answer
        assert answer["apiVersion"] == "admission.k8s.io/v1" and answer["kind"] == "AdmissionReview"
        assert answer["response"]["uid"] == payload["request"]["uid"]
        return dict(answer["response"])

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass
class Webhook:
    server: AdmissionServer
    client: Client
    metrics: AdmissionMetrics
    decider: AdmissionDecider
    tls: ServerCertificate

    def admit(self, payload: Mapping[str, Any], path: str = "/validate") -> dict[str, Any]:
        return self.client.admit(payload, path)


def certificate(directory: Path) -> ServerCertificate:
    directory.mkdir(parents=True, exist_ok=True)
    return make_server_certificate(directory)


@contextmanager
def serving(
    directory: Path,
    config: AdmissionConfig | Mapping[str, Any] | None = None,
    namespaces: NamespaceLabels | None = None,
    **options: Any,
) -> Iterator[Webhook]:
    """A webhook on a free port of 127.0.0.1, with its own throwaway CA under ``directory``."""
    if not isinstance(config, AdmissionConfig):
        config = parse_admission_config(dict(config or {}))
    if namespaces is None and config.pod_security.enabled:
        namespaces = StaticNamespaces({})
    tls = certificate(directory)
    metrics = AdmissionMetrics()
    decider = AdmissionDecider(config, namespaces)
    server_options = {
        k: options.pop(k) for k in list(options) if k in ("request_timeout", "keep_alive", "reload_interval")
    }
    app = build_app(decider, metrics, **options)
    server = AdmissionServer(
        app, cert_file=tls.cert_file, key_file=tls.key_file, port=0, metrics=metrics, **server_options
    ).start()
    client = Client(server.port, tls.ca_pem)
    try:
        yield Webhook(server, client, metrics, decider, tls)
    finally:
        client.close()
        server.stop()


def warned_rules(response: Mapping[str, Any]) -> set[str]:
    """The rule ids of ``[RULE-ID] ...`` warnings."""
    return {w[1 : w.index("]")] for w in response.get("warnings", []) if w.startswith("[") and "]" in w}
