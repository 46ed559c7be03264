"""Discovery served by FakeApiServer, read by the official client (typed APIs and DynamicClient)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from kubernetes import client
from kubernetes.dynamic import DynamicClient

from tests.testing.conftest import MakeClient, MakeServer
from tests.testing.objects import crd, obj, pod


def raw_get(api: client.ApiClient, path: str) -> Any:
    response = api.call_api(*api.param_serialize("GET", path, auth_settings=["BearerToken"]))
    response.read()
    assert response.status == 200, response.data
    return orjson.loads(response.data)


def resources(api: client.ApiClient, group_version: str) -> dict[str, dict[str, Any]]:
    path = f"/api/{group_version}" if group_version == "v1" else f"/apis/{group_version}"
    body = raw_get(api, path)
    assert body["kind"] == "APIResourceList"
    assert body["groupVersion"] == group_version
    return {r["name"]: r for r in body["resources"]}


@pytest.mark.parametrize("tls", [False, True])
def test_version_and_core_group(make_server: MakeServer, make_client: MakeClient, tls: bool) -> None:
    server = make_server([pod("web", "shop")], tls=tls, server_version="v1.30.2")
    api = make_client(server)
    version = client.VersionApi(api).get_code()
    assert (version.major, version.minor, version.git_version) == ("1", "30", "v1.30.2")
    assert client.CoreApi(api).get_api_versions().versions == ["v1"]
    core = resources(api, "v1")
    assert core["pods"]["namespaced"] is True
    assert core["pods"]["kind"] == "Pod"
    assert {"get", "list", "watch"} <= set(core["pods"]["verbs"])
    assert core["nodes"]["namespaced"] is False
    assert core["namespaces"]["namespaced"] is False
    # Subresources and create-only resources are listed too, as a real server does.
    assert core["pods/log"]["verbs"] == ["get"]
    assert core["bindings"]["verbs"] == ["create"]
    assert core["secrets"]["singularName"] == "secret"


def test_group_list_has_default_set_and_preferred_versions(make_server: MakeServer, make_client: MakeClient) -> None:
    api = make_client(make_server())
    groups = {g.name: g for g in client.ApisApi(api).get_api_versions().groups}
    for name in ("apps", "batch", "rbac.authorization.k8s.io", "networking.k8s.io", "apiextensions.k8s.io"):
        assert name in groups
    autoscaling = groups["autoscaling"]
    assert [v.version for v in autoscaling.versions] == ["v2", "v1"]
    assert autoscaling.preferred_version.group_version == "autoscaling/v2"
    expected = {
        "apps/v1": {"deployments": True, "statefulsets": True, "daemonsets": True, "replicasets": True},
        "batch/v1": {"jobs": True, "cronjobs": True},
        "rbac.authorization.k8s.io/v1": {"roles": True, "rolebindings": True, "clusterroles": False},
        "networking.k8s.io/v1": {"networkpolicies": True, "ingresses": True, "ingressclasses": False},
        "apiextensions.k8s.io/v1": {"customresourcedefinitions": False},
    }
    for group_version, scopes in expected.items():
        served = resources(api, group_version)
        for name, namespaced in scopes.items():
            assert served[name]["namespaced"] is namespaced, (group_version, name)


def test_crds_declare_served_kinds(make_server: MakeServer, make_client: MakeClient) -> None:
    widgets = crd("example.com", "Widget", "widgets", versions=("v1", "v1beta1"))
    gadgets = crd("example.com", "Gadget", "gadgets", scope="Cluster", versions=("v2alpha1",))
    server = make_server([widgets, gadgets])
    api = make_client(server)
    group = raw_get(api, "/apis/example.com")
    assert group["preferredVersion"] == {"groupVersion": "example.com/v1", "version": "v1"}
    assert [v["version"] for v in group["versions"]] == ["v1", "v1beta1", "v2alpha1"]
    assert resources(api, "example.com/v1")["widgets"]["namespaced"] is True
    assert resources(api, "example.com/v2alpha1")["gadgets"]["namespaced"] is False
    assert resources(api, "example.com/v1")["widgets"]["shortNames"] == ["wid"]
    # A CRD created later shows up in discovery right away.
    server.create(crd("other.io", "Thing", "things"))
    assert "things" in resources(api, "other.io/v1")


def test_undeclared_kinds_are_served_under_a_plural(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([obj("acme.dev/v1", "Policy", "p", "team-a"), obj("acme.dev/v1", "Gateway", "g")])
    api = make_client(server)
    served = resources(api, "acme.dev/v1")
    assert served["policies"]["namespaced"] is True
    assert served["gateways"]["namespaced"] is False


def test_dynamic_client_resolves_and_lists(make_server: MakeServer, make_client: MakeClient, tmp_path: Path) -> None:
    widget = obj("example.com/v1", "Widget", "w1", "shop", spec={"size": 3})
    server = make_server(
        [crd("example.com", "Widget", "widgets"), widget, pod("web", "shop")], tls=True, token="s3cr3t"
    )
    dynamic = DynamicClient(make_client(server), cache_file=str(tmp_path / "discovery.json"))
    widgets = dynamic.resources.get(api_version="example.com/v1", kind="Widget")
    assert widgets.namespaced is True
    listed = widgets.get(namespace="shop")
    assert [item.metadata.name for item in listed.items] == ["w1"]
    assert listed.items[0].spec.size == 3
    pods = dynamic.resources.get(api_version="v1", kind="Pod").get()
    assert [item.metadata.name for item in pods.items] == ["web"]


def test_discovery_serves_the_builtin_table(make_server: MakeServer, make_client: MakeClient) -> None:
    """Every built-in type a fresh cluster serves, with its kind, scope and short names; no others."""
    from stockade.model.kinds import BUILTIN_TYPES

    api = make_client(make_server())
    versions = {g.name: [v.group_version for v in g.versions] for g in client.ApisApi(api).get_api_versions().groups}
    versions[""] = ["v1"]
    served = {
        (group, name): entry
        for group, group_versions in versions.items()
        for group_version in group_versions
        for name, entry in resources(api, group_version).items()
    }
    for builtin in BUILTIN_TYPES:
        entry = served.get((builtin.group, builtin.plural))
        if not builtin.served_by_default:
            assert entry is None, builtin.plural
            continue
        assert entry is not None, builtin.plural
        assert (entry["kind"], entry["namespaced"]) == (builtin.kind, builtin.namespaced), builtin.plural
        assert entry.get("shortNames", []) == list(builtin.short_names)
    assert any(not t.served_by_default for t in BUILTIN_TYPES)
