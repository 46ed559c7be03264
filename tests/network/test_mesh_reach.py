"""Istio authorization on top of NetworkPolicies (tests/data/network/mesh.yaml): who the mesh lets in."""

from __future__ import annotations

from pathlib import Path

import pytest

import stockade
from stockade.model.netpol import Port
from stockade.network import Reachability

MESH = Path(__file__).resolve().parents[1] / "data" / "network" / "mesh.yaml"
FRONTEND, CART, PAYMENTS = "Deployment/shop/frontend", "Deployment/shop/cart", "Deployment/shop/payments"
DEBUG, BATCH = "Deployment/shop/debug", "Deployment/legacy/batch"


@pytest.fixture(scope="module")
def reach() -> Reachability:
    result = stockade.scan([stockade.FileSource([str(MESH)])], stockade.ScanOptions(run_rules=False))
    assert result.inventory is not None and not result.errors
    return Reachability(result.inventory)


def _sources(reach: Reachability, target: str, port: int) -> set[str]:
    return set(reach.names(reach.sources(reach.find(target), Port(port, "", "TCP"))))


def test_an_open_policy_overrides_the_mesh_wide_allow_nothing(reach: Reachability) -> None:
    everyone = {e.key for e in reach.endpoints}
    assert _sources(reach, FRONTEND, 8080) == everyone
    verdict = reach.verdict(reach.find(BATCH), reach.find(FRONTEND), Port(8080, "", "TCP"))
    assert verdict.mesh is not None and verdict.mesh.reason == "allowed by AuthorizationPolicy/shop/frontend-open"


def test_namespaces_need_a_mesh_identity_and_deny_comes_first(reach: Reachability) -> None:
    # Meshed shop workloads only: debug is opted out (no identity), batch is outside the mesh.
    assert _sources(reach, CART, 7070) == {FRONTEND, CART, PAYMENTS}
    assert _sources(reach, CART, 9090) == {CART, PAYMENTS}
    denied = reach.verdict(reach.find(FRONTEND), reach.find(CART), Port(9090, "", "TCP"))
    assert not denied.allowed and denied.ingress.allowed and denied.egress.allowed
    assert (
        denied.mesh is not None and denied.mesh.reason == "denied by AuthorizationPolicy/shop/cart-metrics-not-frontend"
    )
    outside = reach.verdict(reach.find(DEBUG), reach.find(CART), Port(7070, "", "TCP"))
    assert outside.mesh is not None and outside.mesh.reason == (
        "AuthorizationPolicy/istio-system/allow-nothing, AuthorizationPolicy/shop/cart-from-shop apply to "
        "Deployment/shop/cart and none allows a caller outside the mesh (no mTLS identity)"
    )


def test_l7_limits_are_named_not_judged(reach: Reachability) -> None:
    assert _sources(reach, PAYMENTS, 8443) == {FRONTEND, CART, PAYMENTS}
    verdict = reach.verdict(reach.find(CART), reach.find(PAYMENTS), Port(8443, "", "TCP"))
    assert verdict.allowed and verdict.mesh is not None
    assert verdict.mesh.reason == (
        "allowed by AuthorizationPolicy/shop/payments-reads (only some requests (methods) not evaluated)"
    )


def test_a_workload_outside_the_mesh_has_no_mesh_answer(reach: Reachability) -> None:
    assert _sources(reach, DEBUG, 2222) == {e.key for e in reach.endpoints}
    assert reach.verdict(reach.find(CART), reach.find(DEBUG), Port(2222, "", "TCP")).mesh is None
    assert reach.verdict(reach.find(CART), reach.find(BATCH), None).mesh is None


def test_the_command_shows_the_mesh_side(capsys: pytest.CaptureFixture[str]) -> None:
    from stockade.cli.main import main

    assert main(["network", "reach", str(MESH), "--from", "frontend", "--to", "cart", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "Deployment/shop/frontend → Deployment/shop/cart port 9090: denied\n" in out
    assert "  mesh:    denied by AuthorizationPolicy/shop/cart-metrics-not-frontend\n" in out


def test_linkerd_servers_make_the_pods_they_select_unknown(tmp_path: Path) -> None:
    server = tmp_path / "server.yaml"
    server.write_text(
        "apiVersion: policy.linkerd.io/v1beta3\nkind: Server\nmetadata: {name: cart-grpc, namespace: shop}\n"
        "spec: {podSelector: {matchLabels: {app: cart}}, port: 7070}\n"
    )
    result = stockade.scan([stockade.FileSource([str(MESH), str(server)])], stockade.ScanOptions(run_rules=False))
    assert result.inventory is not None
    reach = Reachability(result.inventory)
    cart = reach.verdict(reach.find(FRONTEND), reach.find(CART), Port(7070, "", "TCP"))
    assert cart.unknown == ("Server.policy.linkerd.io/shop/cart-grpc",)
    assert reach.verdict(reach.find(CART), reach.find(PAYMENTS), None).unknown == (
        "Server.policy.linkerd.io/shop/cart-grpc",
    )
    assert reach.verdict(reach.find(FRONTEND), reach.find(PAYMENTS), None).unknown == ()
