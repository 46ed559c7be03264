"""Writes over HTTP from more clients: the core API and custom objects through the official
client (strategic merge patch included), permissions over every verb, the request log, and
``kubectl`` itself (discovery, create, apply, get, delete) against the fake server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from stockade.testing import FakeApiServer, policy_report_crds
from tests.testing.conftest import MakeClient, MakeServer

GROUP, VERSION = "wgpolicyk8s.io", "v1alpha2"


def config_map(name: str, data: dict[str, str], namespace: str = "shop") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}, "data": data}


def policy_report(namespace: str, fail: int) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "PolicyReport",
        "metadata": {"name": f"stockade-{namespace}", "namespace": namespace},
        "summary": {"pass": 0, "fail": fail, "warn": 0, "error": 0, "skip": 0},
        "results": [{"policy": "WL-001", "result": "fail"}] * fail,
    }


def test_core_objects_strategic_merge_and_cluster_scope(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server()
    core = client.CoreV1Api(make_client(server))
    namespace = core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    assert namespace.metadata.name == "shop" and namespace.metadata.uid
    created = core.create_namespaced_config_map("shop", config_map("settings", {"mode": "a", "level": "1"}))
    # A dict body makes the core client send application/strategic-merge-patch+json.
    patched = core.patch_namespaced_config_map("settings", "shop", {"data": {"mode": "b", "level": None}})
    assert patched.data == {"mode": "b"}
    assert patched.metadata.uid == created.metadata.uid
    assert patched.metadata.creation_timestamp == created.metadata.creation_timestamp
    assert int(patched.metadata.resource_version) > int(created.metadata.resource_version)
    stored = server.get("v1", "ConfigMap", "settings", "shop")
    assert stored is not None and stored["data"] == {"mode": "b"}
    core.delete_namespace("shop")
    assert server.get("v1", "Namespace", "shop") is None
    writes = [(r.method, r.path, r.status) for r in server.requests if r.method != "GET"]
    assert writes == [
        ("POST", "/api/v1/namespaces", 201),
        ("POST", "/api/v1/namespaces/shop/configmaps", 201),
        ("PATCH", "/api/v1/namespaces/shop/configmaps/settings", 200),
        ("DELETE", "/api/v1/namespaces/shop", 200),
    ]


def test_custom_objects_of_a_loaded_crd(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server(policy_report_crds())
    custom = client.CustomObjectsApi(make_client(server))
    custom.create_namespaced_custom_object(GROUP, VERSION, "shop", "policyreports", policy_report("shop", 2))
    custom.create_namespaced_custom_object(GROUP, VERSION, "web", "policyreports", policy_report("web", 1))
    cluster = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ClusterPolicyReport",
        "metadata": {"name": "stockade-cluster"},
        "summary": {"fail": 0},
    }
    made = custom.create_cluster_custom_object(GROUP, VERSION, "clusterpolicyreports", cluster)
    assert "namespace" not in made["metadata"]
    listed = custom.list_cluster_custom_object(GROUP, VERSION, "policyreports")
    assert sorted(item["metadata"]["namespace"] for item in listed["items"]) == ["shop", "web"]
    merged = custom.patch_namespaced_custom_object(
        GROUP, VERSION, "shop", "policyreports", "stockade-shop", {"summary": {"fail": 0}, "results": []}
    )
    assert merged["summary"] == {"pass": 0, "fail": 0, "warn": 0, "error": 0, "skip": 0}
    assert merged["results"] == []
    # CustomObjectsApi sends merge patches unless told otherwise; a list is no merge patch.
    ops = [{"op": "replace", "path": "/summary/fail", "value": 5}]
    with pytest.raises(ApiException) as not_an_object:
        custom.patch_cluster_custom_object(GROUP, VERSION, "clusterpolicyreports", "stockade-cluster", ops)
    assert not_an_object.value.status == 422
    patched = custom.patch_cluster_custom_object(
        GROUP, VERSION, "clusterpolicyreports", "stockade-cluster", ops, _content_type="application/json-patch+json"
    )
    assert patched["summary"] == {"fail": 5}
    with pytest.raises(ApiException) as wrong_kind:
        custom.create_namespaced_custom_object(
            GROUP, VERSION, "shop", "policyreports", {**cluster, "metadata": {"name": "x"}}
        )
    assert wrong_kind.value.status == 400
    custom.delete_namespaced_custom_object(GROUP, VERSION, "web", "policyreports", "stockade-web")
    left = custom.list_cluster_custom_object(GROUP, VERSION, "policyreports")["items"]
    assert [item["metadata"]["name"] for item in left] == ["stockade-shop"]


def test_forbidden_and_read_only_cover_every_write_verb(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([config_map("kept", {"k": "v"})], read_only=["configmaps"], forbidden=["secrets"])
    core = client.CoreV1Api(make_client(server))
    assert core.read_namespaced_config_map("kept", "shop").data == {"k": "v"}  # read-only still reads
    denials: dict[str, ApiException] = {}
    attempts = {
        "create": lambda: core.create_namespaced_config_map("shop", config_map("new", {})),
        "update": lambda: core.replace_namespaced_config_map("kept", "shop", config_map("kept", {"k": "w"})),
        "patch": lambda: core.patch_namespaced_config_map("kept", "shop", {"data": {"k": "w"}}),
        "delete": lambda: core.delete_namespaced_config_map("kept", "shop"),
    }
    for verb, attempt in attempts.items():
        with pytest.raises(ApiException) as denied:
            attempt()
        denials[verb] = denied.value
    for verb, denial in denials.items():
        body = json.loads(denial.body)
        assert denial.status == 403 and body["reason"] == "Forbidden"
        expected = f'cannot {verb} resource "configmaps" in API group "" in the namespace "shop"'
        assert expected in body["message"], body["message"]
    stored = server.get("v1", "ConfigMap", "kept", "shop")
    assert stored is not None and stored["data"] == {"k": "v"}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "shop"}}
    with pytest.raises(ApiException) as forbidden:
        core.create_namespaced_secret("shop", secret)
    assert forbidden.value.status == 403
    assert 'User "stockade-test" cannot create resource "secrets"' in json.loads(forbidden.value.body)["message"]
    assert server.objects() == [stored]


def _kubectl(kubeconfig: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    kubectl = shutil.which("kubectl")
    assert kubectl is not None, "kubectl must be on PATH for this test"
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", ""), "KUBECONFIG": str(kubeconfig)}
    return subprocess.run(
        [kubectl, "--kubeconfig", str(kubeconfig), "--request-timeout", "20s", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_kubectl_sees_and_writes_policy_reports(make_server: MakeServer, tmp_path: Path) -> None:
    """kubectl's discovery, create, apply, get (by plural and short name) and delete.

    kubectl validates manifests against the server's OpenAPI document, which the fake does not
    serve, so ``create`` and ``apply`` run with ``--validate=false``; everything else is as usual.
    """
    server: FakeApiServer = make_server(policy_report_crds())
    kubeconfig = server.kubeconfig(tmp_path / "kubeconfig")
    home = tmp_path / "home"  # kubectl's discovery cache goes here
    home.mkdir()
    manifest = tmp_path / "report.json"

    def run(*args: str) -> str:
        done = _kubectl(kubeconfig, home, *args)
        assert done.returncode == 0, (args, done.stderr)
        return done.stdout

    manifest.write_text(json.dumps(policy_report("shop", 2)), encoding="utf-8")
    assert "policyreport.wgpolicyk8s.io/stockade-shop created" in run("create", "--validate=false", "-f", str(manifest))
    refused = _kubectl(kubeconfig, home, "create", "--validate=false", "-f", str(manifest))
    assert refused.returncode != 0 and "AlreadyExists" in refused.stderr

    manifest.write_text(json.dumps(policy_report("shop", 3)), encoding="utf-8")
    assert "configured" in run("apply", "--validate=false", "-f", str(manifest))
    stored = server.get(f"{GROUP}/{VERSION}", "PolicyReport", "stockade-shop", "shop")
    assert stored is not None and stored["summary"]["fail"] == 3

    manifest.write_text(json.dumps(policy_report("web", 1)), encoding="utf-8")
    assert "created" in run("apply", "--validate=false", "-f", str(manifest))

    listing = run("get", "policyreports", "-A", "-o", "json")
    found = {(i["metadata"]["namespace"], i["metadata"]["name"]) for i in json.loads(listing)["items"]}
    assert found == {("shop", "stockade-shop"), ("web", "stockade-web")}
    by_short_name = json.loads(run("get", "polr", "-n", "web", "stockade-web", "-o", "json"))
    assert by_short_name["summary"]["fail"] == 1

    assert "deleted" in run("delete", "policyreport", "stockade-web", "-n", "web")
    assert server.get(f"{GROUP}/{VERSION}", "PolicyReport", "stockade-web", "web") is None
    methods = {r.method for r in server.requests}
    assert {"POST", "PATCH", "DELETE"} <= methods


def test_uid_and_creation_time_are_the_servers(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server()
    core = client.CoreV1Api(make_client(server))
    forged = config_map("settings", {"k": "v"})
    forged["metadata"] |= {"uid": "forged-uid", "creationTimestamp": "1999-01-01T00:00:00Z", "resourceVersion": "7"}
    created = core.create_namespaced_config_map("shop", forged)
    assert created.metadata.uid != "forged-uid"
    assert created.metadata.creation_timestamp.year != 1999
    replacement = config_map("settings", {"k": "w"})
    replacement["metadata"] |= {"uid": "forged-uid", "creationTimestamp": "1999-01-01T00:00:00Z"}
    replaced = core.replace_namespaced_config_map("settings", "shop", replacement)
    assert (replaced.metadata.uid, replaced.metadata.creation_timestamp) == (
        created.metadata.uid,
        created.metadata.creation_timestamp,
    )
    assert replaced.data == {"k": "w"}
