"""The webhook server over real HTTPS: every bad input and fault gets a well-formed answer and the
server keeps serving; slow clients are cut off without holding up others; certificates reload from
disk; health, readiness, metrics, mutation and CONNECT."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import ssl
import statistics
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from stockade.admission.mutate import MutationOptions
from stockade.admission.review import AdmissionRequest
from stockade.admission.server import AdmissionServer
from tests.admission.support import Client, Webhook, certificate, pod, review, serving

STRICT = {"rules": ["WL-001"], "modes": {"default": "enforce"}, "pod-security": {"enabled": False}}


@pytest.fixture(scope="module")
def webhook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Webhook]:
    with serving(tmp_path_factory.mktemp("server"), STRICT, request_timeout=1.0) as served:
        yield served


def still_serving(webhook: Webhook) -> None:
    """A fresh connection gets a decision (the server survived whatever came before)."""
    client = Client(webhook.server.port, webhook.tls.ca_pem)
    try:
        response = client.admit(review(pod("check", security={"privileged": True})))
        assert response["allowed"] is False and "WL-001" in response["status"]["message"]
    finally:
        client.close()


def refusal(status: int, answer: Mapping[str, Any], code: int, words: str, uid: str = "") -> None:
    """A well-formed AdmissionReview that denies (failure policy Fail) and says why."""
    assert answer["apiVersion"] == "admission.k8s.io/v1" and answer["kind"] == "AdmissionReview"
    response = answer["response"]
    assert response["uid"] == uid and response["allowed"] is False
    assert response["status"]["code"] == code and words in response["status"]["message"]
    assert status == (200 if uid else code)


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (
            b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": ',
            400,
            "not valid JSON",
        ),
        (b"\xff\xfe\x00garbage", 400, "not valid JSON"),
        (b'{"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview"}', 400, "expected apiVersion"),
        (b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {}}', 400, "request.uid"),
        (b"", 400, "not valid JSON"),
    ],
)
def test_unreadable_reviews_get_a_well_formed_answer(webhook: Webhook, body: bytes, code: int, words: str) -> None:
    status, answer = webhook.client.post("/validate", body)
    refusal(status, answer, code, words)
    still_serving(webhook)


def test_a_review_with_a_uid_is_answered_for_that_uid(webhook: Webhook) -> None:
    sent = review(pod(), uid="typed-1")
    sent["request"]["object"] = "not an object"
    status, answer = webhook.client.post("/validate", sent)
    refusal(status, answer, 400, "request.object must be an object, not a string", uid="typed-1")


def test_a_ten_megabyte_body_is_refused_without_being_read(webhook: Webhook) -> None:
    payload = json.dumps(review(pod(annotations={"padding": "x" * (10 * 1024 * 1024)}))).encode()
    status, answer = webhook.client.post("/validate", payload)
    refusal(status, answer, 413, "larger than 6,291,456 bytes")
    assert webhook.metrics.rejected.labels(reason="too-large")._value.get() >= 1
    still_serving(webhook)


def test_a_chunked_body_over_the_limit_is_refused_too(webhook: Webhook) -> None:
    context = ssl.create_default_context(cadata=webhook.tls.ca_pem.decode())
    with (
        socket.create_connection(("127.0.0.1", webhook.server.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
        tls.sendall(b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * (1024 * 1024)
        for _ in range(7):
            tls.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        tls.sendall(b"0\r\n\r\n")
        head, body = read_response(tls)
    assert head.startswith(b"HTTP/1.1 413")
    refusal(413, json.loads(body), 413, "larger than")
    still_serving(webhook)


def read_response(tls: ssl.SSLSocket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += tls.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += tls.recv(65536)
    return head, body


def test_a_body_that_is_not_json_by_type_is_refused(webhook: Webhook) -> None:
    status, answer = webhook.client.post("/validate", review(pod()), content_type="text/plain")
    refusal(status, answer, 415, "expected Content-Type application/json, found text/plain")


def test_an_object_of_an_unknown_kind_is_allowed(webhook: Webhook) -> None:
    custom = {"apiVersion": "acme.io/v1", "kind": "Frobnicator", "metadata": {"name": "f", "namespace": "shop"}}
    response = webhook.admit(review(custom))
    assert response == {"uid": response["uid"], "allowed": True}


def test_failure_policy_ignore_allows_what_cannot_be_read(tmp_path: Path) -> None:
    with serving(tmp_path, {**STRICT, "failure-policy": "Ignore"}) as ignoring:
        status, answer = ignoring.client.post("/validate", b"{broken")
        assert status == 400
        response = answer["response"]
        assert response["allowed"] is True
        assert response["warnings"][0].startswith("Stockade could not check this request (allowed: failure policy")


def test_a_slow_client_is_cut_off_and_holds_up_no_one(webhook: Webhook) -> None:
    context = ssl.create_default_context(cadata=webhook.tls.ca_pem.decode())
    raw = socket.create_connection(("127.0.0.1", webhook.server.port), timeout=10)
    slow = context.wrap_socket(raw, server_hostname="127.0.0.1")
    closed = threading.Event()

    def dribble() -> None:
        try:
            for byte in b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n":
                slow.sendall(bytes([byte]))
                time.sleep(0.05)
        except OSError:
            closed.set()  # the server hung up mid-request

    writer = threading.Thread(target=dribble, daemon=True)
    writer.start()
    started = time.monotonic()
    timings = []
    while writer.is_alive() and time.monotonic() - started < 1.5:
        began = time.perf_counter()
        still_serving(webhook)
        timings.append(time.perf_counter() - began)
    writer.join(10)
    assert closed.is_set() or slow.recv(1) == b""  # cut off after the 1 s request timeout
    assert timings and max(timings) < 0.5  # everyone else was served meanwhile
    slow.close()


def test_answers_on_a_kept_alive_connection_are_not_delayed(webhook: Webhook) -> None:
    timings = []
    for _ in range(20):
        began = time.perf_counter()
        webhook.admit(review(pod()))
        timings.append(time.perf_counter() - began)
    # Without TCP_NODELAY every answer after the first waits 40 ms for the client's delayed ACK.
    assert statistics.median(timings) < 0.02, timings


def test_health_readiness_and_metrics(tmp_path: Path) -> None:
    problems: list[str] = ["the namespaces are not listed yet"]
    with serving(tmp_path, STRICT, ready=lambda: list(problems)) as served:
        assert served.client.request("GET", "/healthz") == (200, b'{"ok":true,"problems":[]}')
        status, body = served.client.request("GET", "/readyz")
        assert (status, json.loads(body)) == (503, {"ok": False, "problems": problems})
        problems.clear()
        assert served.client.request("GET", "/readyz")[0] == 200
        served.admit(review(pod(security={"privileged": True})))
        status, metrics = served.client.request("GET", "/metrics")
        text = metrics.decode()
        assert status == 200
        assert 'stockade_admission_requests_total{endpoint="validate",operation="CREATE",result="denied"} 1.0' in text
        assert 'stockade_admission_decisions_total{mode="enforce",result="deny",rule="WL-001"} 1.0' in text
        assert 'stockade_admission_request_seconds_count{endpoint="validate"} 1.0' in text
        assert served.client.request("GET", "/validate")[0] == 405
        assert served.client.request("GET", "/nowhere")[0] == 404


def test_mutate_patches_a_new_pod_with_the_safe_defaults_and_never_a_pod_update(webhook: Webhook) -> None:
    response = webhook.admit(review(pod(security={"runAsNonRoot": True})), path="/mutate")
    assert response["allowed"] is True and response["patchType"] == "JSONPatch"
    patch = json.loads(base64.b64decode(response["patch"]))
    paths = {op["path"] for op in patch}
    assert any("capabilities" in path or "securityContext" in path for path in paths), paths
    update = review(pod(security={"runAsNonRoot": True}), operation="UPDATE", old=pod(security={"runAsNonRoot": True}))
    unchanged = webhook.admit(update, path="/mutate")  # a pod's spec cannot change once it exists
    assert unchanged == {"uid": update["request"]["uid"], "allowed": True}


def test_mutate_returns_the_safe_defaults_as_a_json_patch(tmp_path: Path) -> None:
    calls: list[tuple[str, Mapping[str, Any]]] = []

    def safe_defaults(obj: Mapping[str, Any], kind: str, options: MutationOptions) -> list[dict[str, Any]]:
        calls.append((kind, options))
        if obj["metadata"]["name"] == "boom":
            raise ValueError("bad shape")
        if obj["metadata"]["name"] == "odd":
            return [{"op": "add", "path": "/spec/x", "value": {1, 2}}]  # cannot be written as JSON
        return [{"op": "add", "path": "/spec/automountServiceAccountToken", "value": False}]

    config = {**STRICT, "mutate": {"no-token-automount": False}}
    with serving(tmp_path, config, safe_defaults=safe_defaults) as served:
        response = served.admit(review(pod("web")), path="/mutate")
        assert response["allowed"] is True and response["patchType"] == "JSONPatch"
        assert json.loads(base64.b64decode(response["patch"])) == [
            {"op": "add", "path": "/spec/automountServiceAccountToken", "value": False}
        ]
        assert calls == [("Pod", MutationOptions(no_token_automount=False))]
        failed = served.admit(review(pod("boom")), path="/mutate")
        assert (
            failed["allowed"] is False and failed["status"]["message"] == "internal error in safe defaults (ValueError)"
        )
        odd = served.admit(review(pod("odd")), path="/mutate")
        assert odd["allowed"] is False and odd["status"]["message"] == "internal error in safe defaults (TypeError)"
        status, answer = served.client.post("/mutate", b"nope")
        refusal(status, answer, 400, "not valid JSON")


def test_connect_requests_are_recorded_and_allowed(tmp_path: Path) -> None:
    recorded: list[AdmissionRequest] = []
    with serving(tmp_path, STRICT, on_connect=recorded.append) as served:
        options = {"apiVersion": "v1", "kind": "PodExecOptions", "command": ["sh"], "stdin": True}
        sent = review(options, operation="CONNECT", kind="PodExecOptions", sub_resource="exec", user="mallory")
        sent["request"]["name"], sent["request"]["namespace"] = "db-0", "shop"
        sent["request"]["resource"] = {"group": "", "version": "v1", "resource": "pods"}
        response = served.admit(sent)
        assert response == {"uid": sent["request"]["uid"], "allowed": True}
    assert [(r.user.username, r.namespace, r.name, r.sub_resource) for r in recorded] == [
        ("mallory", "shop", "db-0", "exec")
    ]


def served_certificate(port: int) -> bytes:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
        assert der is not None
        return der


def test_a_renewed_certificate_is_served_without_a_restart(tmp_path: Path) -> None:
    with serving(tmp_path / "first", STRICT, reload_interval=0.1) as served:
        first = served.tls
        original = pem_to_der(first.cert_file)
        assert served_certificate(served.server.port) == original
        renewed = certificate(tmp_path / "second")
        half = first.cert_file.with_suffix(".tmp")
        half.write_bytes(renewed.cert_file.read_bytes())
        os.replace(half, first.cert_file)  # the certificate first: it does not match the old key yet
        failed = served.metrics.certificate_reloads.labels(result="failed")
        deadline = time.monotonic() + 10
        while failed._value.get() < 1:
            assert time.monotonic() < deadline, "the half-renewed pair was not tried"
            time.sleep(0.05)
        assert served_certificate(served.server.port) == original  # the old pair is kept meanwhile
        half.write_bytes(renewed.key_file.read_bytes())
        os.replace(half, first.key_file)
        deadline = time.monotonic() + 10
        while served_certificate(served.server.port) != pem_to_der(renewed.cert_file):
            assert time.monotonic() < deadline, "the renewed certificate was not picked up"
            time.sleep(0.05)
        fresh = Client(served.server.port, renewed.ca_pem)  # a client trusting only the new CA
        try:
            assert fresh.admit(review(pod()))["allowed"] is True
        finally:
            fresh.close()
        assert served.metrics.certificate_reloads.labels(result="ok")._value.get() == 1


def pem_to_der(path: Path) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return x509.load_pem_x509_certificate(path.read_bytes()).public_bytes(Encoding.DER)


def test_the_server_binds_to_loopback_and_speaks_tls_1_2_or_later(tmp_path: Path) -> None:
    tls = certificate(tmp_path)
    server = AdmissionServer(lambda *a: None, cert_file=tls.cert_file, key_file=tls.key_file, port=0)
    assert server.host == "127.0.0.1"
    assert server.ssl.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_the_webhook_serves_on_uvloop_where_it_is_installed(tmp_path: Path) -> None:
    """The loop is most of a request's time (the decision is ~0.4 ms); uvloop is a dependency."""
    loops: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        loops.append(type(asyncio.get_running_loop()).__module__)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    tls = certificate(tmp_path)
    with AdmissionServer(app, cert_file=tls.cert_file, key_file=tls.key_file, port=0) as server:
        client = Client(server.port, tls.ca_pem)
        try:
            assert client.request("GET", "/")[0] == 200
        finally:
            client.close()
    assert loops == ["uvloop"]
