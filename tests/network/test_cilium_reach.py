"""Cilium policies evaluated alongside NetworkPolicies, with Cilium's own meanings: an empty rule
denies, a rule with only ports allows anyone on them, cluster-wide selectors span namespaces, the
pod's namespace label narrows them, entities. Anything else makes the answer unknown, not guessed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import stockade
from stockade.model.netpol import Port
from stockade.network import Reachability, egress_allowed
from stockade.network.reach import Destination

CLASSIC = Path(__file__).resolve().parents[1] / "data" / "network" / "classic.yaml"
WEB, API, DB = "Deployment/shop/web", "Deployment/shop/api", "StatefulSet/shop/db"
PAYMENTS, PROMETHEUS, VAULT = (
    "Deployment/billing/payments",
    "Deployment/monitoring/prometheus",
    "Deployment/locked/vault",
)


def _reach(tmp_path: Path, *policies: dict[str, Any]) -> Reachability:
    extra = tmp_path / "cilium.yaml"
    extra.write_text(yaml.safe_dump_all(policies))
    result = stockade.scan([stockade.FileSource([str(CLASSIC), str(extra)])], stockade.ScanOptions(run_rules=False))
    assert result.inventory is not None and not result.errors
    return Reachability(result.inventory)


def _cnp(name: str, namespace: str | None, spec: dict[str, Any]) -> dict[str, Any]:
    kind = "CiliumNetworkPolicy" if namespace else "CiliumClusterwideNetworkPolicy"
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": "cilium.io/v2", "kind": kind, "metadata": metadata, "spec": spec}


def _sources(reach: Reachability, target: str, port: int) -> set[str]:
    index = reach.find(target)
    [chosen] = [p for p in reach.ports_of(index) if p is not None and p.number == port]
    return set(reach.names(reach.sources(index, chosen)))


def test_an_empty_cilium_rule_denies_and_a_ports_only_rule_allows_anyone(tmp_path: Path) -> None:
    deny = _cnp("web-deny", "shop", {"endpointSelector": {"matchLabels": {"app": "web"}}, "ingress": [{}]})
    reach = _reach(tmp_path, deny)
    assert _sources(reach, WEB, 8080) == set()
    verdict = reach.verdict(reach.find(API), reach.find(WEB), Port(8080, "http", "TCP"))
    assert verdict.ingress.reason.startswith("CiliumNetworkPolicy/shop/web-deny isolates Deployment/shop/web")
    assert verdict.unknown == ()
    open_port = _cnp(
        "web-http",
        "shop",
        {
            "endpointSelector": {"matchLabels": {"app": "web"}},
            "ingress": [{"toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}]}]}],
        },
    )
    reach = _reach(tmp_path, deny, open_port)
    everyone_but_worker = {e.key for e in reach.endpoints} - {"Deployment/billing/worker"}
    assert _sources(reach, WEB, 8080) == everyone_but_worker


def test_namespaced_selectors_stay_home_unless_they_name_a_namespace(tmp_path: Path) -> None:
    def vault_from(selector: dict[str, Any]) -> dict[str, Any]:
        return _cnp(
            "vault-callers",
            "locked",
            {"endpointSelector": {"matchLabels": {"app": "vault"}}, "ingress": [{"fromEndpoints": [selector]}]},
        )

    # The vault's namespace has no pod labelled api: a namespaced selector does not reach shop's.
    assert _sources(_reach(tmp_path, vault_from({"matchLabels": {"app": "api"}})), VAULT, 8200) == set()
    shop_api = {"matchLabels": {"app": "api", "k8s:io.kubernetes.pod.namespace": "shop"}}
    assert _sources(_reach(tmp_path, vault_from(shop_api)), VAULT, 8200) == {API}
    labelled = {"matchLabels": {"k8s:io.cilium.k8s.namespace.labels.team": "ops"}}
    assert _sources(_reach(tmp_path, vault_from(labelled)), VAULT, 8200) == {PROMETHEUS}
    named = _cnp(
        "db-from-monitoring",
        "shop",
        {
            "endpointSelector": {"matchLabels": {"app": "db"}},
            "ingress": [{"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "monitoring"}}]}],
        },
    )
    # ...unless it names the namespace: the union with the NetworkPolicy's allow.
    assert _sources(_reach(tmp_path, named), DB, 5432) == {API, PROMETHEUS}


def test_cluster_wide_selectors_span_namespaces_and_entities(tmp_path: Path) -> None:
    lock_all = _cnp("everything-locked", None, {"endpointSelector": {}, "ingress": [{"fromEntities": ["cluster"]}]})
    reach = _reach(tmp_path, lock_all)
    # Every pod is now isolated; "cluster" lets every pod in, so only the NetworkPolicies' denials remain.
    assert _sources(reach, WEB, 8080) == {e.key for e in reach.endpoints} - {"Deployment/billing/worker"}
    assert _sources(reach, VAULT, 8200) == {e.key for e in reach.endpoints} - {"Deployment/billing/worker"}
    world_only = _cnp(
        "vault-world",
        None,
        {
            "endpointSelector": {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "locked"}},
            "egress": [{"toEntities": ["world"]}],
        },
    )
    reach = _reach(tmp_path, world_only)
    vault = reach.find(VAULT)
    assert egress_allowed(reach, vault, Destination("internet", reach_address("8.8.8.8"), (443,))).allowed
    assert not reach.verdict(vault, reach.find(WEB), Port(8080, "http", "TCP")).egress.allowed


def reach_address(text: str) -> Any:
    import ipaddress

    return ipaddress.ip_address(text)


def test_what_is_not_evaluated_is_unknown_and_changes_nothing(tmp_path: Path) -> None:
    l7 = _cnp(
        "web-l7",
        "shop",
        {
            "endpointSelector": {"matchLabels": {"app": "web"}},
            "ingress": [{"toPorts": [{"ports": [{"port": "8080"}], "rules": {"http": [{"method": "GET"}]}}]}],
        },
    )
    deny = _cnp("web-deny-rule", "shop", {"endpointSelector": {"matchLabels": {"app": "web"}}, "ingressDeny": [{}]})
    reach = _reach(tmp_path, l7, deny)
    assert _sources(reach, WEB, 8080) == {e.key for e in reach.endpoints} - {"Deployment/billing/worker"}
    verdict = reach.verdict(reach.find(API), reach.find(WEB), Port(8080, "http", "TCP"))
    assert verdict.unknown == ("CiliumNetworkPolicy/shop/web-deny-rule", "CiliumNetworkPolicy/shop/web-l7")
