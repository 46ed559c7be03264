"""PolicyReports written back to the fake API server through the official client."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import config

from stockade.testing import FakeApiServer, policy_report_crds
from stockade.watch.policyreports import PolicyReportWriter
from tests.helpers import scan_objects
from tests.watch.support import privileged_pod, running, wait_until

PLANTED = "planted-secret-value-7f3a"


def _reports(server: FakeApiServer) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {
        (o["kind"], o["metadata"].get("namespace")): o
        for o in server.objects()
        if o["apiVersion"].startswith("wgpolicyk8s.io/")
    }


@pytest.fixture
def server() -> Iterator[FakeApiServer]:
    with FakeApiServer(policy_report_crds()) as fake:
        yield fake
        assert fake.errors == []


@pytest.fixture
def writer(server: FakeApiServer, tmp_path: Path) -> PolicyReportWriter:
    api = config.new_client_from_config(config_file=str(server.kubeconfig(tmp_path / "k")), persist_config=False)
    return PolicyReportWriter(api)


def _scan(*objects: dict[str, Any]) -> Any:
    return scan_objects(list(objects), rules=["WL-001"])


def test_first_sync_creates_then_nothing_changes(server: FakeApiServer, writer: PolicyReportWriter) -> None:
    result = _scan(privileged_pod("a", "shop"), privileged_pod("b", "web"))
    first = writer.sync(result)
    assert (first.created, first.errors) == (2, [])
    reports = _reports(server)
    assert set(reports) == {("PolicyReport", "shop"), ("PolicyReport", "web")}
    shop = reports[("PolicyReport", "shop")]
    assert shop["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "stockade"}
    assert shop["summary"]["fail"] == 1 and shop["results"][0]["policy"] == "WL-001"
    version = server.resource_version
    again = writer.sync(_scan(privileged_pod("a", "shop"), privileged_pod("b", "web")))
    assert (again.unchanged, again.created, again.updated) == (2, 0, 0)
    assert server.resource_version == version  # nothing was rewritten


def test_a_fix_updates_and_a_clean_namespace_loses_its_report(
    server: FakeApiServer, writer: PolicyReportWriter
) -> None:
    writer.sync(_scan(privileged_pod("a", "shop"), privileged_pod("b", "shop"), privileged_pod("c", "web")))
    later = writer.sync(_scan(privileged_pod("a", "shop"), privileged_pod("c", "web", privileged=False)))
    assert (later.updated, later.deleted) == (1, 1)
    reports = _reports(server)
    assert ("PolicyReport", "web") not in reports
    assert reports[("PolicyReport", "shop")]["summary"]["fail"] == 1


def test_reports_written_by_others_are_left_alone(server: FakeApiServer, writer: PolicyReportWriter) -> None:
    server.create(
        {
            "apiVersion": "wgpolicyk8s.io/v1alpha2",
            "kind": "PolicyReport",
            "metadata": {
                "name": "kyverno-shop",
                "namespace": "shop",
                "labels": {"app.kubernetes.io/managed-by": "kyverno"},
            },
            "results": [],
        }
    )
    writer.sync(_scan(privileged_pod("a", "web")))
    assert ("PolicyReport", "shop") in _reports(server)


def test_without_the_crd_or_permission_it_says_so(tmp_path: Path) -> None:
    with FakeApiServer() as bare:
        api = config.new_client_from_config(config_file=str(bare.kubeconfig(tmp_path / "k")), persist_config=False)
        summary = PolicyReportWriter(api).sync(_scan(privileged_pod("a")))
        assert summary.errors == ["the PolicyReport CRD (wgpolicyk8s.io/v1alpha2) is not installed: no reports written"]
    with FakeApiServer(policy_report_crds()) as fake:
        fake.forbid_writes("policyreports.wgpolicyk8s.io")
        api = config.new_client_from_config(config_file=str(fake.kubeconfig(tmp_path / "k2")), persist_config=False)
        summary = PolicyReportWriter(api).sync(_scan(privileged_pod("a")))
        assert summary.created == 0 and "missing RBAC" in summary.errors[0]


def test_secret_values_never_reach_a_report(server: FakeApiServer, writer: PolicyReportWriter) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "shop"},
        "data": {"password": base64.b64encode(PLANTED.encode()).decode()},
    }
    leaky = privileged_pod("a", "shop")
    leaky["spec"]["containers"][0]["env"] = [{"name": "PASSWORD", "value": PLANTED}]
    writer.sync(scan_objects([secret, leaky], rules=["all"]))
    text = repr(_reports(server))
    assert "SC-" in text  # the secret rules did report on it
    assert PLANTED not in text and base64.b64encode(PLANTED.encode()).decode() not in text


def test_the_watcher_writes_reports_back(tmp_path: Path) -> None:
    with FakeApiServer([*policy_report_crds(), privileged_pod("a", "shop")], bookmark_interval=0.2) as fake:
        store = f"sqlite:///{tmp_path / 'history.db'}"
        with running(fake, tmp_path, store, policy_reports=True, report_interval=0.2):
            wait_until(lambda: ("PolicyReport", "shop") in _reports(fake), what="the first report")
            assert _reports(fake)[("PolicyReport", "shop")]["summary"]["fail"] == 1
            fake.update(privileged_pod("a", "shop", privileged=False))
            wait_until(
                lambda: ("PolicyReport", "shop") not in _reports(fake), what="the fixed namespace's report to go"
            )


def _names(server: FakeApiServer) -> set[tuple[str | None, str]]:
    return {
        (o["metadata"].get("namespace"), o["metadata"]["name"])
        for o in server.objects()
        if o["apiVersion"].startswith("wgpolicyk8s.io/")
    }


def test_writers_with_other_prefixes_keep_to_their_own_reports(
    server: FakeApiServer, writer: PolicyReportWriter, tmp_path: Path
) -> None:
    api = config.new_client_from_config(config_file=str(server.kubeconfig(tmp_path / "k2")), persist_config=False)
    staging = PolicyReportWriter(api, name_prefix="stockade-staging")
    assert writer.sync(_scan(privileged_pod("a", "shop"), privileged_pod("b", "web"))).created == 2
    assert staging.sync(_scan(privileged_pod("a", "shop"))).created == 1
    assert _names(server) == {("shop", "stockade-shop"), ("web", "stockade-web"), ("shop", "stockade-staging-shop")}
    # Each writer deletes only its own clean-namespace reports and never counts the other's.
    later = writer.sync(_scan(privileged_pod("a", "shop")))
    assert (later.deleted, later.unchanged) == (1, 1)
    assert staging.sync(_scan(privileged_pod("a", "shop"))).unchanged == 1
    assert _names(server) == {("shop", "stockade-shop"), ("shop", "stockade-staging-shop")}


def test_a_same_named_report_of_someone_else_is_left_alone(server: FakeApiServer, writer: PolicyReportWriter) -> None:
    theirs = {
        "apiVersion": "wgpolicyk8s.io/v1alpha2",
        "kind": "PolicyReport",
        "metadata": {"name": "stockade-shop", "namespace": "shop", "labels": {"team": "payments"}},
        "results": [],
    }
    server.create(theirs)
    summary = writer.sync(_scan(privileged_pod("a", "shop")))
    assert summary.errors == ["PolicyReport shop/stockade-shop exists and is not managed by Stockade: left alone"]
    assert (summary.created, summary.updated) == (0, 0)
    stored = server.get("wgpolicyk8s.io/v1alpha2", "PolicyReport", "stockade-shop", "shop")
    assert stored is not None and stored["metadata"]["labels"] == {"team": "payments"} and stored["results"] == []


@pytest.mark.parametrize("prefix", ["", "Stockade", "a_b", "-x", "x" * 41])
def test_the_name_prefix_must_make_valid_names(server: FakeApiServer, tmp_path: Path, prefix: str) -> None:
    api = config.new_client_from_config(config_file=str(server.kubeconfig(tmp_path / "k")), persist_config=False)
    with pytest.raises(ValueError, match="name prefix"):
        PolicyReportWriter(api, name_prefix=prefix)
