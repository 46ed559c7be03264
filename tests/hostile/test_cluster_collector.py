"""A hostile or broken API server, and hostile credential plugins, against the live collector.

Everything runs the real ``kubernetes`` client against FakeApiServer over real HTTP(S).
"""

from __future__ import annotations

import datetime
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from stockade.sources.cluster import ClusterSource, RetryPolicy, collect_cluster, retry_after_seconds
from stockade.sources.limits import ParseLimits
from stockade.testing import FakeApiServer
from tests.testing.objects import deployment, pod

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
PODS = [pod(f"web-{i}", "shop") for i in range(6)]


@pytest.fixture
def server() -> Iterator[FakeApiServer]:
    with FakeApiServer([*PODS, deployment("api", "shop")]) as started:
        yield started


def kubeconfig(server: FakeApiServer, tmp_path: Path) -> str:
    return str(server.kubeconfig(tmp_path / "config"))


def messages(errors: list[Any]) -> list[str]:
    return [e.message for e in errors]


# -- Retry-After ---------------------------------------------------------------------------
def test_retry_after_that_is_not_a_number_is_ignored(server: FakeApiServer, tmp_path: Path) -> None:
    fault = server.inject("/api/v1/pods", status=429, retry_after="soon", times=1)
    result = collect_cluster(kubeconfig=kubeconfig(server, tmp_path), kinds=["pods"], retry=FAST)
    assert fault.hits == 1
    assert result.errors == []
    assert len(result.resources) == len(PODS)


def test_retry_after_as_an_http_date_is_obeyed(server: FakeApiServer, tmp_path: Path) -> None:
    soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=2)
    fault = server.inject("/api/v1/pods", status=503, retry_after=soon.strftime("%a, %d %b %Y %H:%M:%S GMT"))
    started = time.monotonic()
    result = collect_cluster(kubeconfig=kubeconfig(server, tmp_path), kinds=["pods"], retry=FAST)
    assert fault.hits == 1
    assert result.errors == []
    assert time.monotonic() - started >= 0.9  # the date was waited for (to the second), not ignored


def test_retry_after_parses_both_forms_and_nothing_else() -> None:
    now = datetime.datetime(2025, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds("Wed, 01 Jan 2025 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Tue, 31 Dec 2024 12:00:00 GMT", now) == 0.0  # in the past: no wait
    for garbage in ("soon", "-1", "1.5e9999", "Wed, 99 Foo 2025", "", None, "\x00"):
        assert retry_after_seconds(garbage, now) is None


# -- time limits ---------------------------------------------------------------------------
def test_a_server_that_never_answers_meets_the_time_limit(server: FakeApiServer, tmp_path: Path) -> None:
    server.inject("/version", delay=20, times=10)
    started = time.monotonic()
    result = ClusterSource(kubeconfig=kubeconfig(server, tmp_path), timeout=1.5).collect()
    assert time.monotonic() - started < 5
    assert messages(result.errors) == ["the cluster was not read within the time limit of 1.5s"]


def test_one_silent_list_is_reported_and_the_others_kept(server: FakeApiServer, tmp_path: Path) -> None:
    server.inject("/api/v1/pods", delay=20, times=10)
    started = time.monotonic()
    result = ClusterSource(kubeconfig=kubeconfig(server, tmp_path), kinds=["pods", "deploy"], timeout=2).collect()
    assert time.monotonic() - started < 6
    assert [r.name for r in result.resources] == ["api"]
    assert messages(result.errors) == [
        "the cluster was not read within the time limit of 2s (--timeout); not read: pods"
    ]
    assert result.errors[0].kind == "limit"


def test_one_byte_at_a_time_meets_the_time_limit(server: FakeApiServer, tmp_path: Path) -> None:
    server.inject("/api/v1/pods", drip=0.2, times=10)
    started = time.monotonic()
    result = ClusterSource(kubeconfig=kubeconfig(server, tmp_path), kinds=["pods"], timeout=2).collect()
    assert time.monotonic() - started < 6
    assert result.resources == []
    assert "not read within the time limit of 2s" in messages(result.errors)[0]


def test_the_cli_reports_the_time_limit_and_exits_3(server: FakeApiServer, tmp_path: Path) -> None:
    server.inject("/api/v1/pods", drip=0.5, times=10)
    command = [sys.executable, "-m", "stockade.cli.main", "scan", "--kubeconfig", kubeconfig(server, tmp_path)]
    done = subprocess.run(
        [*command, "--kinds", "pods", "--timeout", "1.5", "--no-progress"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert "not read within the time limit of 1.5s" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.usefixtures("server")
def test_the_time_limit_must_be_positive() -> None:
    from stockade.cli.main import build_parser

    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["scan", "--cluster", "--timeout", "0"])
    assert exited.value.code == 2


# -- endless lists -------------------------------------------------------------------------
def test_a_repeated_continue_token_ends_the_list(server: FakeApiServer, tmp_path: Path) -> None:
    fault = server.inject("/api/v1/pods", stuck_continue=True, times=1000)
    result = collect_cluster(kubeconfig=kubeconfig(server, tmp_path), kinds=["pods", "deploy"], page_size=2)
    assert fault.hits == 2  # the first page, and the second that named the same token again
    assert [r.name for r in result.resources] == ["api"]
    assert messages(result.errors) == ["cannot list pods: the server repeated a continue token (the list never ends)"]


def test_a_repeated_continue_token_inside_a_namespace_ends_too(server: FakeApiServer, tmp_path: Path) -> None:
    server.inject("/api/v1/namespaces/shop/pods", stuck_continue=True, times=1000)
    result = collect_cluster(kubeconfig=kubeconfig(server, tmp_path), kinds=["pods"], namespaces=["shop"], page_size=2)
    assert result.resources == []
    assert "repeated a continue token" in messages(result.errors)[0]


# -- response sizes ------------------------------------------------------------------------
def test_a_response_over_the_size_limit_is_refused(server: FakeApiServer, tmp_path: Path) -> None:
    huge = pod("huge", "shop")
    huge["metadata"]["annotations"] = {"padding": "x" * 300_000}
    server.create(huge)
    limits = ParseLimits(max_file_bytes=200_000)  # discovery and the deployment list fit, the pods do not
    result = ClusterSource(kubeconfig=kubeconfig(server, tmp_path), kinds=["pods", "deploy"], limits=limits).collect()
    assert [r.name for r in result.resources] == ["api"]
    assert len(result.errors) == 1
    assert result.errors[0].message.startswith("cannot list pods: the response to /api/v1/pods is ")
    assert result.errors[0].message.endswith("bytes, over the 200000-byte limit")


def test_all_responses_together_are_capped(server: FakeApiServer, tmp_path: Path) -> None:
    # Small pages each fit; together they pass the collection's budget.
    limits = ParseLimits(max_cluster_bytes=4000)
    result = collect_cluster(kubeconfig=kubeconfig(server, tmp_path), kinds=["pods"], page_size=1, limits=limits)
    assert "add up to more than the 4000-byte limit" in messages(result.errors)[0]


# -- credential plugins --------------------------------------------------------------------
def with_plugin(server: FakeApiServer, tmp_path: Path, script: str) -> str:
    path = server.kubeconfig(tmp_path / "config")
    plugin = tmp_path / "plugin.sh"
    plugin.write_text("#!/bin/sh\n" + script)
    plugin.chmod(0o700)
    config = yaml.safe_load(path.read_text())
    config["users"][0]["user"] = {
        "exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(plugin), "args": []}
    }
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_a_credential_plugin_that_sleeps_is_stopped(server: FakeApiServer, tmp_path: Path) -> None:
    path = with_plugin(server, tmp_path, "sleep 30\n")
    started = time.monotonic()
    result = collect_cluster(kubeconfig=path, kinds=["pods"], plugin_timeout=1)
    assert time.monotonic() - started < 5
    assert messages(result.errors) == ["the credential plugin plugin.sh did not finish within 1s"]
    assert result.errors[0].kind != "config"  # an input problem (exit 3), not a usage error


def test_a_credential_plugin_whose_child_holds_the_pipe_is_stopped(server: FakeApiServer, tmp_path: Path) -> None:
    path = with_plugin(server, tmp_path, "sleep 30 &\nsleep 30\n")
    started = time.monotonic()
    result = collect_cluster(kubeconfig=path, kinds=["pods"], plugin_timeout=1)
    assert time.monotonic() - started < 5
    assert messages(result.errors) == ["the credential plugin plugin.sh did not finish within 1s"]


def test_a_failing_credential_plugin_is_reported_without_a_log_line(
    server: FakeApiServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = with_plugin(server, tmp_path, "echo 'token expired, run login' >&2\nexit 4\n")
    with caplog.at_level(logging.DEBUG):
        result = collect_cluster(kubeconfig=path, kinds=["pods"])
    assert messages(result.errors) == [
        "the credential plugin plugin.sh failed (exit status 4): token expired, run login"
    ]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert server.requests == []  # no request went out without credentials


def test_a_credential_plugin_printing_garbage_is_reported(server: FakeApiServer, tmp_path: Path) -> None:
    path = with_plugin(server, tmp_path, "echo 'hello'\n")
    result = collect_cluster(kubeconfig=path, kinds=["pods"])
    assert messages(result.errors) == ["the credential plugin plugin.sh printed no ExecCredential JSON"]
    no_token = {"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", "status": {}}
    path = with_plugin(server, tmp_path, f"echo '{orjson.dumps(no_token).decode()}'\n")
    result = collect_cluster(kubeconfig=path, kinds=["pods"])
    assert messages(result.errors) == [
        "the credential plugin plugin.sh printed neither a token nor a client certificate and key"
    ]
