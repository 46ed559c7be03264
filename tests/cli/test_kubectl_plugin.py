"""``kubectl stockade``: the real kubectl finds and runs the installed plugin; global flags typed
before the command work; with nothing named, the plugin reads the current context's cluster."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stockade.cli.kubectl_plugin import invoked_as_plugin, move_global_flags
from stockade.cli.main import build_parser
from stockade.testing import FakeApiServer

BIN = Path(sys.executable).parent  # where `make install` put stockade and kubectl-stockade
KUBECTL = shutil.which("kubectl")

ROLE = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "Role",
    "metadata": {"name": "secret-reader", "namespace": "shop"},
    "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}],
}
BINDING = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "RoleBinding",
    "metadata": {"name": "jane-reads-secrets", "namespace": "shop"},
    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "secret-reader"},
    "subjects": [{"kind": "User", "name": "jane@example.com", "apiGroup": "rbac.authorization.k8s.io"}],
}


def pod(name: str, namespace: str) -> dict[str, Any]:
    container = {"name": "app", "image": "nginx:latest", "securityContext": {"privileged": True}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [container]}}  # fmt: skip


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Iterator[Path]:
    """One file, two clusters: `shop` (current) and `other`."""
    path = tmp_path / "kubeconfig"
    with (
        FakeApiServer([ROLE, BINDING, pod("web", "shop")], tls=True, token="t0ken") as shop,
        FakeApiServer([pod("batch", "jobs")], tls=True, token="0ther") as other,
    ):
        other.kubeconfig(path, context="other", current=False)
        shop.kubeconfig(path, context="shop")
        yield path


def kubectl(*args: str, kubeconfig: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None, "kubectl is part of the development machine (see README)"
    env = {"PATH": str(BIN), "HOME": os.environ.get("HOME", "/nonexistent")}
    if kubeconfig is not None:
        env["KUBECONFIG"] = str(kubeconfig)
    return subprocess.run([KUBECTL, *args], capture_output=True, text=True, env=env, timeout=60, check=False)


def pod_names(report_text: str) -> set[str]:
    return {f["resource"]["name"] for f in json.loads(report_text)["findings"] if f["resource"]["kind"] == "Pod"}


def test_kubectl_lists_and_runs_the_installed_plugin() -> None:
    listed = kubectl("plugin", "list")
    assert str(BIN / "kubectl-stockade") in listed.stdout
    helped = kubectl("stockade", "--help")
    assert helped.returncode == 0
    assert helped.stdout.startswith("usage: kubectl stockade")
    assert "scan" in helped.stdout and "rbac" in helped.stdout


def test_the_plugin_reads_the_current_context_when_nothing_is_named(kubeconfig: Path) -> None:
    done = kubectl("stockade", "scan", "--no-progress", "-f", "json", kubeconfig=kubeconfig)
    assert done.returncode == 1, done.stderr  # the privileged pod fails
    assert pod_names(done.stdout) == {"web"}
    # stockade itself still asks what to read: a scan of nothing must not become a cluster read.
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    plain = subprocess.run([BIN / "stockade", "scan"], capture_output=True, text=True, env=env, check=False)
    assert plain.returncode == 2
    assert "nothing to read" in plain.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--context", "other", "scan", "--no-progress", "-f", "json"],
        ["scan", "--context", "other", "--no-progress", "-f", "json"],
        ["scan", "--no-progress", "-f", "json", "--context=other"],
        ["--context=other", "-A", "scan", "--no-progress", "-f", "json"],
    ],
)
def test_context_works_before_or_after_the_command(kubeconfig: Path, args: list[str]) -> None:
    done = kubectl("stockade", *args, kubeconfig=kubeconfig)
    assert done.returncode == 1, done.stderr
    assert pod_names(done.stdout) == {"batch"}


def test_kubeconfig_flag_before_the_command(kubeconfig: Path) -> None:
    done = kubectl("stockade", "--kubeconfig", str(kubeconfig), "scan", "--no-progress", "-f", "json")
    assert done.returncode == 1, done.stderr
    assert pod_names(done.stdout) == {"web"}


def test_namespace_before_a_nested_command_is_the_request_namespace(kubeconfig: Path) -> None:
    ask = ("rbac", "who-can", "get", "secrets", "--no-progress", "-f", "json")
    in_shop = kubectl("stockade", "-n", "shop", *ask, kubeconfig=kubeconfig)
    elsewhere = kubectl("stockade", "--namespace", "jobs", *ask, kubeconfig=kubeconfig)
    assert in_shop.returncode == 0, in_shop.stderr
    assert "jane@example.com" in in_shop.stdout
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert "jane@example.com" not in elsewhere.stdout


@pytest.mark.parametrize(
    ("argv", "moved"),
    [
        (["-n", "shop", "rbac", "who-can", "get", "secrets"], ["rbac", "who-can", "-n", "shop", "get", "secrets"]),
        (["-nshop", "--context", "c", "scan", "x.yaml"], ["scan", "-nshop", "--context", "c", "x.yaml"]),
        (["--kubeconfig=k", "-A", "pss", "evaluate"], ["pss", "evaluate", "--kubeconfig=k", "-A"]),
        (["scan", "-n", "shop"], ["scan", "-n", "shop"]),  # already after the command
        (["--no-progress", "-n", "shop", "scan"], ["--no-progress", "-n", "shop", "scan"]),  # not a kubectl global
        (["-n"], ["-n"]),  # no value: left for the parser to report
        (["--context", "c"], ["--context", "c"]),  # no command: the parser says one is needed
    ],
)
def test_only_leading_kubectl_globals_move(argv: list[str], moved: list[str]) -> None:
    assert move_global_flags(argv, build_parser()) == moved


def test_plugin_is_recognised_by_the_name_kubectl_runs() -> None:
    assert invoked_as_plugin("/home/me/.krew/bin/kubectl-stockade")
    assert invoked_as_plugin("kubectl-stockade.exe")
    assert not invoked_as_plugin("/usr/bin/stockade")
    assert not invoked_as_plugin("kubectl-stockade-extra")
