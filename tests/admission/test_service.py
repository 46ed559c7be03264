"""The webhook as it runs: the namespace cache listed and watched through the official client from
the fake API server, `stockade admission serve` from the command line, its usage errors."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from stockade.admission.namespaces import WatchedNamespaces
from stockade.admission.review import parse_review
from stockade.admission.service import AdmissionService, AdmissionServiceOptions, record_connect
from stockade.cli.main import main
from stockade.errors import SourceError, UsageError
from stockade.testing import FakeApiServer
from tests.admission.support import Client, certificate, pod, review
from tests.watch.support import FAST

ENFORCE = "pod-security.kubernetes.io/enforce"


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def eventually(test: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not test():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[FakeApiServer, str]]:
    objects = [namespace("shop", **{ENFORCE: "restricted"}), namespace("lab")]
    with FakeApiServer(objects, bookmark_interval=0.2) as server:
        yield server, str(server.kubeconfig(tmp_path / "kubeconfig"))
        assert server.errors == []


def test_the_namespace_cache_lists_then_follows_changes(cluster: tuple[FakeApiServer, str]) -> None:
    server, kubeconfig = cluster
    cache = WatchedNamespaces.open(kubeconfig=kubeconfig, timing=FAST).start()
    try:
        assert cache.wait_synced(10)
        assert cache.labels("shop") == {ENFORCE: "restricted"}
        assert cache.labels("lab") == {} and cache.labels("nowhere") is None
        server.update(namespace("lab", **{ENFORCE: "baseline"}))
        server.create(namespace("new"))
        server.delete("v1", "Namespace", "shop")
        eventually(lambda: cache.labels("lab") == {ENFORCE: "baseline"}, "the label change")
        eventually(lambda: cache.labels("new") == {} and cache.labels("shop") is None, "the new and the deleted")
    finally:
        cache.stop()


def test_an_unreachable_cluster_is_said_at_start(tmp_path: Path) -> None:
    with FakeApiServer() as server:
        kubeconfig = str(server.kubeconfig(tmp_path / "kubeconfig"))
    with pytest.raises(SourceError, match="cannot reach"):
        WatchedNamespaces.open(kubeconfig=kubeconfig, timing=FAST)


def test_the_service_is_ready_once_the_namespaces_are_listed(
    tmp_path: Path, cluster: tuple[FakeApiServer, str]
) -> None:
    server, kubeconfig = cluster
    tls = certificate(tmp_path / "tls")
    options = AdmissionServiceOptions(
        cert_file=str(tls.cert_file), key_file=str(tls.key_file), port=0, kubeconfig=kubeconfig, timing=FAST
    )
    service = AdmissionService.open(options)
    client = Client(service.server.port, tls.ca_pem)
    try:
        eventually(lambda: client.request("GET", "/readyz")[0] == 200, "readiness")
        sent = review(pod("web", "shop"))  # restricted: an unhardened pod is denied
        assert client.admit(sent)["allowed"] is False
        server.update(namespace("shop", **{ENFORCE: "privileged"}))
        eventually(lambda: client.admit(review(pod("web", "shop")))["allowed"], "the relaxed namespace")
    finally:
        client.close()
        service.close()


def test_service_usage_errors(tmp_path: Path) -> None:
    tls = certificate(tmp_path / "tls")
    base = {"cert_file": str(tls.cert_file), "key_file": str(tls.key_file), "port": 0}
    with pytest.raises(UsageError, match="Pod Security needs the namespaces' labels: give --cluster"):
        AdmissionService.open(AdmissionServiceOptions(**base))
    with pytest.raises(UsageError, match="no file"):
        AdmissionService.open(AdmissionServiceOptions(**{**base, "key_file": str(tmp_path / "missing.key")}))
    with pytest.raises(UsageError, match="cannot serve TLS"):
        AdmissionService.open(AdmissionServiceOptions(**{**base, "key_file": str(tls.cert_file)}))
    config = tmp_path / "off.yaml"
    config.write_text("pod-security: {enabled: false}\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = AdmissionServiceOptions(**{**base, "port": taken.getsockname()[1]}, config=str(config))
        with pytest.raises(UsageError, match=r"cannot listen on 127\.0\.0\.1"):
            AdmissionService.open(busy)


@pytest.fixture(autouse=True)
def _restore_signals() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_serve_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tls = certificate(tmp_path / "tls")
    bad = tmp_path / "bad.yaml"
    bad.write_text("failure-policy: Maybe\nmodes: {default: block}\n")
    cases = [
        ([], "--cert and --key are required"),
        (["--cert", str(tls.cert_file), "--key", str(tls.key_file)], "Pod Security needs the namespaces' labels"),
        (["--cert", str(tls.cert_file), "--key", str(tls.key_file), "--config", str(bad)], "failure-policy"),
        (["--cert", str(tls.cert_file), "--key", str(tls.key_file), "--port", "70000"], "is not a port"),
    ]
    for arguments, words in cases:
        try:
            code = main(["admission", "serve", *arguments])
        except SystemExit as stopped:
            code = int(stopped.code or 0)
        assert code == 2
        assert words in capsys.readouterr().err
    main_code = main(
        ["admission", "serve", "--config", str(bad), "--cert", str(tls.cert_file), "--key", str(tls.key_file)]
    )
    assert main_code == 2
    assert (
        capsys.readouterr()
        .err.splitlines()[1]
        .endswith("modes.default: expected one of enforce, warn, audit, dry-run, off, found 'block'")
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_runs_until_terminated(
    tmp_path: Path, cluster: tuple[FakeApiServer, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, kubeconfig = cluster
    tls = certificate(tmp_path / "tls")
    config = tmp_path / "admission.yaml"
    config.write_text("modes: {default: off, rules: {WL-001: enforce}}\n")
    port = free_port()
    answers: list[dict[str, Any]] = []

    def use_then_stop() -> None:
        client = Client(port, tls.ca_pem)
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                try:
                    if client.request("GET", "/readyz")[0] == 200:
                        break
                except OSError:
                    client.close()
                time.sleep(0.05)
            answers.append(client.admit(review(pod("root", "lab", security={"privileged": True}), uid="cli-1")))
        finally:
            client.close()
            os.kill(os.getpid(), signal.SIGTERM)

    helper = threading.Thread(target=use_then_stop, daemon=True)
    helper.start()
    code = main(
        [
            "admission", "serve", "--config", str(config), "--cert", str(tls.cert_file), "--key", str(tls.key_file),
            "--port", str(port), "--kubeconfig", kubeconfig,
        ]
    )  # fmt: skip
    helper.join(10)
    assert code == 0
    assert [(a["uid"], a["allowed"]) for a in answers] == [("cli-1", False)]
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert any(
        line["message"].startswith(f"admission webhook on https://127.0.0.1:{port}")
        for line in lines
        if "message" in line
    )
    denied = [line for line in lines if line.get("event") == "admission.denied"]
    assert [(d["uid"], d["rules"], d["level"]) for d in denied] == [("cli-1", ["WL-001"], "info")]


def test_an_exec_into_a_pod_leaves_one_connect_line_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    options = {"apiVersion": "v1", "kind": "PodExecOptions", "container": "db", "command": ["sh"], "stdin": True}
    sent = review(options, operation="CONNECT", kind="PodExecOptions", sub_resource="exec", user="mallory")
    sent["request"]["name"], sent["request"]["namespace"] = "db-0", "shop"
    sent["request"]["resource"] = {"group": "", "version": "v1", "resource": "pods"}
    with caplog.at_level(logging.INFO, logger="stockade.admission"):
        record_connect(parse_review(orjson.dumps(sent)))
        record_connect(parse_review(orjson.dumps(review(pod("web")))))  # not a CONNECT: nothing
    [line] = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "admission.connect"]
    event = line.fields["connect"]  # type: ignore[attr-defined]
    assert event["schema"] == "stockade.connect/v1"
    assert (event["user"]["username"], event["pod"]["namespace"], event["pod"]["name"]) == ("mallory", "shop", "db-0")
    assert event["command"] == ["sh"] and event["container"] == "db"
