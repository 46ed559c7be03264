"""NP rules: NetworkPolicy coverage, label selectors, NodePort / LoadBalancer exposure, Ingress TLS."""

from __future__ import annotations

from typing import Any

import pytest

from stockade.engine.evaluate import evaluate
from stockade.model.finding import Finding, Severity, Status
from stockade.model.result import ScanResult
from stockade.rules import load_rules
from tests.helpers import inventory_from_raw

RULES = load_rules()
IMAGE = "registry.example.com/shop/api:2.3.1"


def scan(rule_id: str, *objects: dict[str, Any]) -> ScanResult:
    result = evaluate(inventory_from_raw(objects), [RULES[rule_id]], include_passed=True)
    assert not [f for f in result.findings if f.status is Status.ERROR], result.findings
    assert result.errors == []
    return result


def failures(rule_id: str, *objects: dict[str, Any]) -> list[Finding]:
    return scan(rule_id, *objects).failed


def meta(name: str, namespace: str | None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, **extra}
    if namespace is not None:
        out["namespace"] = namespace
    return out


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def deployment(name: str, ns: str | None = "shop", labels: object = None) -> dict[str, Any]:
    labels = {"app": name} if labels is None else labels
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(name, ns),
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": IMAGE}]}},
        },
    }


def policy(
    name: str, ns: str | None = "shop", spec: object = None, api: str = "networking.k8s.io/v1"
) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": api, "kind": "NetworkPolicy", "metadata": meta(name, ns)}
    if spec is not None:
        obj["spec"] = spec
    return obj


def service(name: str = "web", annotations: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    extra = {"annotations": annotations} if annotations else {}
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(name, "shop", **extra), "spec": spec}


def ingress(spec: object) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta("web", "shop"), "spec": spec}


# -- NP-001 ---------------------------------------------------------------------------------------


def _by_namespace(result: ScanResult) -> dict[str, Status]:
    return {f.resource.name: f.status for f in result.findings}


def test_namespaces_with_and_without_policies() -> None:
    result = scan(
        "NP-001",
        namespace("shop"),
        namespace("billing"),
        deployment("api", "shop"),
        deployment("a", "billing"),
        deployment("b", "billing"),
        policy("deny", "shop", {"podSelector": {}}),
    )
    assert _by_namespace(result) == {"shop": Status.PASS, "billing": Status.FAIL}
    [finding] = result.failed
    assert (
        finding.message
        == 'namespace "billing" has no NetworkPolicy: its 2 workloads accept traffic from any pod in the cluster'
    )
    assert finding.resource.kind == "Namespace"
    assert '"name":"default-deny-ingress","namespace":"billing"' in finding.remediation


def test_namespace_known_only_from_its_objects_gets_a_synthetic_target() -> None:
    result = scan("NP-001", deployment("api", "shop"))
    [finding] = result.failed
    assert (finding.resource.kind, finding.resource.name, finding.resource.namespace) == ("Namespace", "shop", None)
    assert finding.location.file == "test.yaml"


def test_objects_without_namespace_count_for_default() -> None:
    [finding] = failures("NP-001", deployment("api", None))
    assert finding.resource.name == "default"


def test_empty_namespace_is_reported_for_future_pods() -> None:
    [finding] = failures("NP-001", namespace("empty"))
    assert "any pod created in it" in finding.message


def test_system_namespaces() -> None:
    result = scan("NP-001", namespace("kube-system"), namespace("kube-public"), namespace("kube-node-lease"))
    assert _by_namespace(result) == {"kube-system": Status.FAIL}
    with_pods = scan("NP-001", namespace("kube-public"), deployment("odd", "kube-public"))
    assert _by_namespace(with_pods) == {"kube-public": Status.FAIL}


@pytest.mark.parametrize(
    "obj",
    [
        policy("calico", "shop", {"selector": "app == 'web'"}, api="projectcalico.org/v3"),
        {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": meta("c", "shop"), "spec": {}},
        policy("legacy", "shop", {"podSelector": {}}, api="extensions/v1beta1"),
    ],
)
def test_other_policy_flavours_count(obj: dict[str, Any]) -> None:
    assert failures("NP-001", deployment("api", "shop"), obj) == []


def test_unrelated_crd_named_network_policy_does_not_count() -> None:
    other = policy("x", "shop", {"podSelector": {}}, api="example.com/v1")
    assert len(failures("NP-001", deployment("api", "shop"), other)) == 1


def test_cluster_scoped_only_inventory_has_no_namespaces() -> None:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "x"}}
    assert scan("NP-001", role).findings == []


# -- NP-002 ---------------------------------------------------------------------------------------


def test_node_port() -> None:
    [finding] = failures("NP-002", service(type="NodePort", ports=[{"port": 80, "nodePort": 30080}, {"port": 81}]))
    assert finding.path == "spec.type"
    assert "(ports 80→node 30080, 81)" in finding.message
    assert finding.remediation == 'kubectl patch service web -n shop -p \'{"spec":{"type":"ClusterIP"}}\''


@pytest.mark.parametrize("kind", ["ClusterIP", "LoadBalancer", "ExternalName", None, ["NodePort"], "nodeport"])
def test_not_node_port(kind: object) -> None:
    assert failures("NP-002", service(type=kind, ports="80")) == []


def test_service_without_spec_does_not_error() -> None:
    obj = {"apiVersion": "v1", "kind": "Service", "metadata": meta("x", "shop"), "spec": "NodePort"}
    assert failures("NP-002", obj) == []
    assert failures("NP-003", obj) == []


# -- NP-003 ---------------------------------------------------------------------------------------


def test_public_load_balancer() -> None:
    [finding] = failures("NP-003", service(type="LoadBalancer"))
    assert finding.severity is Severity.HIGH
    assert "no internal-load-balancer annotation and no source ranges" in finding.message
    assert "loadBalancerSourceRanges" in finding.remediation


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("service.beta.kubernetes.io/aws-load-balancer-internal", "true"),
        ("service.beta.kubernetes.io/aws-load-balancer-internal", "0.0.0.0/0"),
        ("service.beta.kubernetes.io/aws-load-balancer-scheme", "internal"),
        ("networking.gke.io/load-balancer-type", "Internal"),
        ("cloud.google.com/load-balancer-type", "internal"),
        ("service.beta.kubernetes.io/azure-load-balancer-internal", "true"),
        ("service.beta.kubernetes.io/azure-load-balancer-internal", True),
        ("service.beta.kubernetes.io/oci-load-balancer-internal", "true"),
        ("service.beta.kubernetes.io/openstack-internal-load-balancer", "true"),
        ("service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type", "intranet"),
        ("service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type", "private"),
    ],
)
def test_internal_annotations(key: str, value: object) -> None:
    assert failures("NP-003", service(type="LoadBalancer", annotations={key: value})) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("service.beta.kubernetes.io/aws-load-balancer-internal", "false"),
        ("service.beta.kubernetes.io/aws-load-balancer-scheme", "internet-facing"),
        ("networking.gke.io/load-balancer-type", "External"),
        ("service.beta.kubernetes.io/azure-load-balancer-internal", "false"),
        ("service.beta.kubernetes.io/azure-load-balancer-internal", ["true"]),
    ],
)
def test_external_annotations(key: str, value: object) -> None:
    assert len(failures("NP-003", service(type="LoadBalancer", annotations={key: value}))) == 1


def test_source_ranges() -> None:
    assert failures("NP-003", service(type="LoadBalancer", loadBalancerSourceRanges=["203.0.113.0/24"])) == []
    [open_v4] = failures("NP-003", service(type="LoadBalancer", loadBalancerSourceRanges=["10.0.0.0/8", "0.0.0.0/0"]))
    assert open_v4.path == "spec.loadBalancerSourceRanges"
    assert "allows 0.0.0.0/0" in open_v4.message
    [open_v6] = failures("NP-003", service(type="LoadBalancer", loadBalancerSourceRanges=["::/0"]))
    assert "::/0" in open_v6.message


def test_source_ranges_annotation() -> None:
    key = "service.beta.kubernetes.io/load-balancer-source-ranges"
    assert failures("NP-003", service(type="LoadBalancer", annotations={key: "203.0.113.0/24, 198.51.100.7/32"})) == []
    [finding] = failures("NP-003", service(type="LoadBalancer", annotations={key: "0.0.0.0/0"}))
    assert finding.path == "metadata.annotations"


@pytest.mark.parametrize(("ranges", "note"), [("203.0.113.0/24", True), (["not-a-cidr", 7], False), ([], False)])
def test_malformed_source_ranges_read_as_none(ranges: object, note: bool) -> None:
    [finding] = failures("NP-003", service(type="LoadBalancer", loadBalancerSourceRanges=ranges))
    assert ("is not a list" in finding.message) is note


def test_other_service_types_pass() -> None:
    assert failures("NP-003", service(type="ClusterIP"), service("np", type="NodePort")) == []


# -- NP-004 ---------------------------------------------------------------------------------------


def _rules(*hosts: str | None) -> list[dict[str, Any]]:
    return [{"host": h} if h else {"http": {"paths": []}} for h in hosts]


def test_ingress_without_tls() -> None:
    [finding] = failures("NP-004", ingress({"rules": _rules("shop.example.com")}))
    assert finding.path == "spec"
    assert "no spec.tls" in finding.message


def test_ingress_partial_tls() -> None:
    spec = {
        "tls": [{"hosts": ["shop.example.com", "*.api.example.com"], "secretName": "tls"}],
        "rules": _rules("shop.example.com", "v1.api.example.com", "admin.example.com", "a.b.api.example.com", None),
    }
    found = failures("NP-004", ingress(spec))
    assert sorted(f.path for f in found) == ["spec.rules[2].host", "spec.rules[3].host"]
    assert any('serves host "admin.example.com" without TLS' in f.message for f in found)


def test_tls_entry_without_hosts_covers_everything() -> None:
    assert failures("NP-004", ingress({"tls": [{"secretName": "tls"}], "rules": _rules("a.example.com")})) == []


def test_host_matching_ignores_case() -> None:
    spec = {"tls": [{"hosts": ["Shop.Example.com"]}], "rules": _rules("shop.example.COM")}
    assert failures("NP-004", ingress(spec)) == []


@pytest.mark.parametrize("spec", ["tls", {"tls": "shop-tls"}, {"tls": []}, None])
def test_malformed_tls_is_no_tls(spec: object) -> None:
    assert len(failures("NP-004", ingress(spec))) == 1


def test_malformed_rules_do_not_error() -> None:
    spec = {"tls": [{"hosts": ["a.example.com", 3]}], "rules": ["x", {"host": 7}, {"host": "b.example.com"}]}
    [finding] = failures("NP-004", ingress(spec))
    assert finding.path == "spec.rules[2].host"


# -- NP-005 ---------------------------------------------------------------------------------------


def test_pod_selection_by_labels_and_expressions() -> None:
    tiers = [
        {"key": "tier", "operator": "In", "values": ["back"]},
        {"key": "legacy", "operator": "DoesNotExist"},
    ]
    objects = [
        policy("api", "shop", {"podSelector": {"matchLabels": {"app": "api"}}}),
        policy("tiers", "shop", {"podSelector": {"matchExpressions": tiers}}),
        deployment("api", "shop"),
        deployment("worker", "shop", {"app": "worker", "tier": "back"}),
        deployment("old", "shop", {"app": "old", "tier": "back", "legacy": "yes"}),
        deployment("web", "shop"),
    ]
    failed = {f.resource.name: f for f in failures("NP-005", *objects)}
    assert sorted(failed) == ["old", "web"]
    assert 'none of the 2 NetworkPolicies in namespace "shop" selects it' in failed["web"].message
    assert "pod labels: app=web" in failed["web"].message
    assert failed["web"].path == "spec.template.metadata.labels"
    assert '"podSelector":{"matchLabels":{"app":"web"}}' in failed["web"].remediation


def test_empty_or_missing_pod_selector_selects_all() -> None:
    assert failures("NP-005", policy("all", "shop", {"podSelector": {}}), deployment("a", "shop")) == []
    assert failures("NP-005", policy("all", "shop", {"policyTypes": ["Egress"]}), deployment("a", "shop")) == []


def test_policy_in_other_namespace_does_not_select() -> None:
    [finding] = failures("NP-005", policy("all", "tools", {"podSelector": {}}), deployment("a", "shop"))
    assert 'namespace "shop" has no NetworkPolicy' in finding.message


def test_unset_namespaces_meet_in_default() -> None:
    assert failures("NP-005", policy("all", None, {"podSelector": {}}), deployment("a", None)) == []


@pytest.mark.parametrize("spec", ["deny-all", {"podSelector": "all"}, {"podSelector": {"matchLabels": ["x"]}}])
def test_malformed_policy_selects_nothing(spec: object) -> None:
    [finding] = failures("NP-005", policy("odd", "shop", spec), deployment("a", "shop"))
    assert 'the only NetworkPolicy in namespace "shop" does not select it' in finding.message


def test_calico_and_cilium() -> None:
    calico_all = policy("c", "shop", {"selector": "all()"}, api="projectcalico.org/v3")
    assert failures("NP-005", calico_all, deployment("a", "shop")) == []
    calico_expr = policy("c", "shop", {"selector": "app == 'a'"}, api="projectcalico.org/v3")
    [finding] = failures("NP-005", calico_expr, deployment("a", "shop"))
    assert "(1 Calico policy not evaluated)" in finding.message
    cilium = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": meta("c", "shop"),
        "specs": [{"endpointSelector": {"matchLabels": {"k8s:app": "a"}}}, "junk"],
    }
    result = scan("NP-005", cilium, deployment("a", "shop"), deployment("b", "shop"))
    assert [f.resource.name for f in result.failed] == ["b"]


def test_pod_without_labels() -> None:
    bare = {"apiVersion": "v1", "kind": "Pod", "metadata": meta("p", "shop"), "spec": {"containers": []}}
    [finding] = failures("NP-005", policy("api", "shop", {"podSelector": {"matchLabels": {"app": "api"}}}), bare)
    assert "pod labels: none" in finding.message
    assert finding.path == "spec"
    not_a_map = deployment("odd", "shop", labels=["app"])
    assert len(failures("NP-005", not_a_map)) == 1


def test_policy_index_is_built_once_per_inventory() -> None:
    from stockade.rules.base import RuleContext
    from stockade.rules.np._index import policy_index

    ctx = RuleContext.of(inventory_from_raw([policy("all", "shop", {"podSelector": {}}), deployment("a", "shop")]))
    assert ctx.analyses.get(policy_index) is ctx.analyses.get(policy_index)
    other = RuleContext.of(ctx.inventory)
    assert other.analyses.get(policy_index) is not ctx.analyses.get(policy_index)
    assert other.analyses.get(policy_index).namespaces_with_policy == frozenset({"shop"})


def test_namespace_without_a_name_is_ignored() -> None:
    nameless = {"apiVersion": "v1", "kind": "Namespace", "metadata": {}}
    assert scan("NP-001", nameless).findings == []
