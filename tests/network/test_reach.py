"""Reachability over a hand-built cluster whose answers are known (tests/data/network/classic.yaml):
the classic NetworkPolicy mistakes, each next to the case it is mistaken for."""

from __future__ import annotations

from pathlib import Path

import pytest

import stockade
from stockade.model.netpol import Port
from stockade.network import Reachability, egress_allowed, egress_destinations
from stockade.network.reach import Destination

CLASSIC = Path(__file__).resolve().parents[1] / "data" / "network" / "classic.yaml"
WEB, API, DB = "Deployment/shop/web", "Deployment/shop/api", "StatefulSet/shop/db"
PAYMENTS, WORKER = "Deployment/billing/payments", "Deployment/billing/worker"
PROMETHEUS, VAULT = "Deployment/monitoring/prometheus", "Deployment/locked/vault"


@pytest.fixture(scope="module")
def reach() -> Reachability:
    result = stockade.scan([stockade.FileSource([str(CLASSIC)])], stockade.ScanOptions(run_rules=False))
    assert result.inventory is not None and not result.errors
    return Reachability(result.inventory)


def _sources(reach: Reachability, target: str, port: int | None = None) -> set[str]:
    index = reach.find(target)
    ports = [p for p in reach.ports_of(index) if port is None or (p is not None and p.number == port)]
    assert ports, (target, port)
    found: set[str] = set()
    for p in ports:
        found |= set(reach.names(reach.sources(index, p)))
    return found


def test_named_port_and_pod_selector_in_the_policy_namespace(reach: Reachability) -> None:
    assert _sources(reach, DB, 5432) == {API}
    verdict = reach.verdict(reach.find(API), reach.find(DB), Port(5432, "pg", "TCP"))
    assert verdict.allowed
    assert verdict.ingress.reason == "allowed by NetworkPolicy/shop/db-from-api ingress rule 1"
    denied = reach.verdict(reach.find(WEB), reach.find(DB), Port(5432, "pg", "TCP"))
    assert not denied.allowed and denied.egress.allowed
    assert denied.ingress.reason == (
        "NetworkPolicy/shop/db-from-api isolates StatefulSet/shop/db for ingress; "
        "no rule allows Deployment/shop/web on port 5432"
    )
    # The same number under another name does not match a named policy port.
    assert not reach.verdict(reach.find(API), reach.find(DB), Port(5432, "postgres", "TCP")).allowed


def test_end_port_ranges(reach: Reachability) -> None:
    assert _sources(reach, API, 9000) == {WEB, PROMETHEUS}
    assert _sources(reach, API, 9100) == {PROMETHEUS}  # 9000-9100 includes its end


def test_one_peer_with_both_selectors_is_and_two_peers_are_or(reach: Reachability) -> None:
    assert _sources(reach, PAYMENTS) == {API}
    # The worker's own egress is restricted to ipBlocks, so not even it reaches itself.
    assert _sources(reach, WORKER) == {WEB, API, DB, PAYMENTS}


def test_an_empty_rule_allows_everyone_and_no_rules_deny_everyone(reach: Reachability) -> None:
    everyone_but_worker = {e.key for e in reach.endpoints} - {WORKER}
    assert _sources(reach, PROMETHEUS) == everyone_but_worker
    assert _sources(reach, VAULT) == set()
    verdict = reach.verdict(reach.find(WEB), reach.find(VAULT), Port(8200, "", "TCP"))
    assert verdict.ingress.reason.startswith("NetworkPolicy/locked/deny-all isolates Deployment/locked/vault")


def test_ip_blocks_do_not_match_pods_and_except_holes_are_honoured(reach: Reachability) -> None:
    worker = reach.find(WORKER)
    verdict = reach.verdict(worker, reach.find(PROMETHEUS), Port(9090, "", "TCP"))
    assert not verdict.allowed and verdict.ingress.allowed
    assert "NetworkPolicy/billing/worker-egress isolates Deployment/billing/worker for egress" in verdict.egress.reason
    internet, metadata, api_server = egress_destinations_of(reach)
    assert egress_allowed(reach, worker, internet).allowed
    assert not egress_allowed(reach, worker, metadata).allowed
    assert not egress_allowed(reach, worker, api_server).allowed  # 10.0.0.1 is inside the 10.0.0.0/8 hole
    web = reach.find(WEB)
    assert all(egress_allowed(reach, web, d).allowed for d in (internet, metadata, api_server))


def egress_destinations_of(reach: Reachability) -> tuple[Destination, ...]:
    result = stockade.scan([stockade.FileSource([str(CLASSIC)])], stockade.ScanOptions(run_rules=False))
    assert result.inventory is not None
    destinations = egress_destinations(result.inventory)
    assert destinations[2].name == "API server (10.0.0.1)"
    return destinations


def test_pods_without_policies_accept_everyone(reach: Reachability) -> None:
    assert _sources(reach, WEB) == {e.key for e in reach.endpoints} - {WORKER}
    assert reach.verdict(reach.find(DB), reach.find(WEB), None).ingress.reason == (
        "no NetworkPolicy isolates Deployment/shop/web for ingress: default allow"
    )


def test_an_empty_from_list_is_no_from_at_all(tmp_path: Path) -> None:
    """`from: []` and a rule without `from` both mean every source; only no rules means none."""
    extra = tmp_path / "empty-from.yaml"
    extra.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: vault-from-empty, namespace: locked}\n"
        "spec:\n  podSelector: {}\n  ingress: [{from: [], ports: [{port: 8200}]}]\n"
    )
    result = stockade.scan([stockade.FileSource([str(CLASSIC), str(extra)])], stockade.ScanOptions(run_rules=False))
    assert result.inventory is not None
    reach = Reachability(result.inventory)
    assert _sources(reach, VAULT) == {e.key for e in reach.endpoints} - {WORKER}
