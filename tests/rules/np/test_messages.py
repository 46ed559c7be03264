"""What NP findings say and the fixes they offer (the fixtures check where they point)."""

from __future__ import annotations

from typing import Any

from stockade.model.finding import Finding, Severity, Status
from tests.helpers import scan_objects

IMAGE = "registry.example.com/shop/api:2.3.1"


def failures(rule_id: str, *objects: dict[str, Any]) -> list[Finding]:
    result = scan_objects(objects, [rule_id])
    assert result.errors == []
    assert [f for f in result.findings if f.status is Status.ERROR] == []
    return [f for f in result.findings if f.status is Status.FAIL]


def pod(name: str, namespace: str = "shop", labels: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels is not None:
        metadata["labels"] = labels
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"containers": [{"name": "c", "image": IMAGE}]},
    }


def policy(name: str, spec: object, namespace: str = "shop", api: str = "networking.k8s.io/v1") -> dict[str, Any]:
    return {
        "apiVersion": api,
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def service(name: str = "web", annotations: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": "shop"}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}


def ingress(spec: object) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": spec,
    }


# -- NP-001 ---------------------------------------------------------------------------------------


def test_np001_counts_workloads_and_offers_a_default_deny() -> None:
    [finding] = failures("NP-001", pod("a", "billing"), pod("b", "billing"))
    assert finding.message == (
        'namespace "billing" has no NetworkPolicy: its 2 workloads accept traffic from any pod in the cluster'
    )
    assert '"name":"default-deny-ingress","namespace":"billing"' in finding.remediation
    assert finding.remediation.endswith("| kubectl apply -f -")


def test_np001_speaks_of_future_pods_in_an_empty_namespace() -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "empty"}}
    [finding] = failures("NP-001", namespace)
    assert "any pod created in it will accept traffic" in finding.message


def test_np001_synthetic_namespace_is_located_at_its_first_object() -> None:
    result = scan_objects([pod("api")], ["NP-001"])
    [finding] = [f for f in result.findings if f.status is Status.FAIL]
    assert (finding.resource.kind, finding.resource.name, finding.resource.namespace) == ("Namespace", "shop", None)
    assert finding.location.line is not None and finding.location.line > 0


# -- NP-002 / NP-003 ------------------------------------------------------------------------------


def test_np002_lists_ports_and_patches_to_cluster_ip() -> None:
    [finding] = failures("NP-002", service(type="NodePort", ports=[{"port": 80, "nodePort": 30080}, {"port": 81}]))
    assert "(ports 80→node 30080, 81)" in finding.message
    assert finding.remediation == 'kubectl patch service web -n shop -p \'{"spec":{"type":"ClusterIP"}}\''


def test_np003_messages() -> None:
    [bare] = failures("NP-003", service(type="LoadBalancer"))
    assert "no internal-load-balancer annotation and no source ranges" in bare.message
    assert "is not a list" not in bare.message
    assert bare.remediation.startswith("kubectl patch service web -n shop")
    assert "loadBalancerSourceRanges" in bare.remediation
    [not_a_list] = failures("NP-003", service(type="LoadBalancer", loadBalancerSourceRanges="203.0.113.0/24"))
    assert "(loadBalancerSourceRanges is not a list)" in not_a_list.message
    [open_ranges] = failures("NP-003", service(type="LoadBalancer", loadBalancerSourceRanges=["10.0.0.0/8", "::/0"]))
    assert open_ranges.message.endswith("spec.loadBalancerSourceRanges allows ::/0")


# -- NP-004 ---------------------------------------------------------------------------------------


def test_np004_messages() -> None:
    [missing] = failures("NP-004", ingress({"rules": [{"host": "shop.example.com"}]}))
    assert "no spec.tls" in missing.message
    spec = {"tls": [{"hosts": ["shop.example.com"]}], "rules": [{"host": "admin.example.com"}]}
    [uncovered] = failures("NP-004", ingress(spec))
    assert 'serves host "admin.example.com" without TLS' in uncovered.message


# -- NP-005 ---------------------------------------------------------------------------------------


def test_np005_says_why_no_policy_selects_the_pod() -> None:
    selects_api = {"podSelector": {"matchLabels": {"app": "api"}}}
    [none] = failures("NP-005", pod("web", labels={"app": "web"}))
    assert 'namespace "shop" has no NetworkPolicy' in none.message
    [one] = failures("NP-005", policy("api", selects_api), pod("web", labels={"app": "web"}))
    assert 'the only NetworkPolicy in namespace "shop" does not select it' in one.message
    [two] = failures("NP-005", policy("a", selects_api), policy("b", selects_api), pod("web", labels={"app": "web"}))
    assert 'none of the 2 NetworkPolicies in namespace "shop" selects it' in two.message
    assert "(pod labels: app=web)" in two.message


def test_np005_remediation_selects_the_pod_by_its_labels() -> None:
    [finding] = failures("NP-005", pod("web", labels={"app": "web", "tier": "front"}))
    assert '"podSelector":{"matchLabels":{"app":"web","tier":"front"}}' in finding.remediation
    assert '"name":"web-traffic","namespace":"shop"' in finding.remediation


def test_np005_names_unevaluated_calico_policies_and_missing_labels() -> None:
    calico = policy("c", {"selector": "app == 'a'"}, api="projectcalico.org/v3")
    [finding] = failures("NP-005", calico, pod("a"))
    assert finding.message.startswith("whether a NetworkPolicy selects this pod is unknown: 1 policy that Stockade")
    assert finding.severity is Severity.INFO
    assert "(pod labels: none)" in finding.message
