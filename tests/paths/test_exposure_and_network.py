"""Entry points resolved to the containers that serve them, and east-west edges under NetworkPolicies."""

from __future__ import annotations

from typing import Any

import pytest

from stockade.paths import Attack, AttackGraph
from tests.paths.support import Raw, container, deployment, edges, graph_of, namespace, network_policy, service

NETWORK = "scope:network:*"


def entry_targets(*objects: Raw) -> dict[str, set[str]]:
    graph = graph_of([namespace("shop"), namespace("other"), *objects])
    found: dict[str, set[str]] = {}
    for node in graph.entries:
        if node.key.startswith(("Service/", "Ingress/", "HTTPRoute/", "VirtualService/", "hostNetwork:")):
            found[node.key] = {e.target for e in edges(graph, node.key, attack=Attack.EXPOSED)}
    return found


def test_a_public_load_balancer_reaches_the_selected_pods_and_names_np003() -> None:
    graph = graph_of([namespace("shop"), deployment("web"), service("web")])
    [edge] = edges(graph, "Service/shop/web", "Deployment/shop/web#app", Attack.EXPOSED)
    assert edge.fixes[0].rule_id == "NP-003" and edge.fixes[0].fingerprint
    assert graph.node("Service/shop/web").entry


def test_an_internal_load_balancer_and_a_cluster_ip_are_not_entry_points() -> None:
    internal = service("web", annotations={"networking.gke.io/load-balancer-type": "Internal"})
    assert entry_targets(deployment("web"), internal) == {}
    assert entry_targets(deployment("web"), service("web", kind="ClusterIP")) == {}


def test_node_port_is_an_entry_point() -> None:
    assert entry_targets(deployment("web"), service("web", kind="NodePort")) == {
        "Service/shop/web": {"Deployment/shop/web#app"}
    }


def test_a_selector_that_matches_nothing_exposes_nothing() -> None:
    assert entry_targets(deployment("web"), service("web", selector={"app": "api"})) == {}


def test_a_named_target_port_reaches_only_the_container_that_declares_it() -> None:
    pair = [container("app", ports=[(8080, "http")]), container("metrics", ports=[(9090, "metrics")])]
    assert entry_targets(deployment("web", containers=pair), service("web", target="http")) == {
        "Service/shop/web": {"Deployment/shop/web#app"}
    }
    assert entry_targets(deployment("web", containers=pair), service("web", target=9090)) == {
        "Service/shop/web": {"Deployment/shop/web#metrics"}
    }


def test_an_ingress_reaches_its_backend_services_pods() -> None:
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "front", "namespace": "shop"},
        "spec": {
            "rules": [
                {
                    "host": "shop.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ]
        },
    }
    found = entry_targets(deployment("web"), service("web", kind="ClusterIP"), ingress)
    assert found == {"Ingress/shop/front": {"Deployment/shop/web#app"}}


def route(backend_namespace: str | None = None) -> Raw:
    ref: dict[str, Any] = {"name": "web", "port": 80}
    if backend_namespace:
        ref["namespace"] = backend_namespace
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "front", "namespace": "other"},
        "spec": {"parentRefs": [{"name": "public"}], "rules": [{"backendRefs": [ref]}]},
    }


def test_a_gateway_route_into_another_namespace_needs_a_reference_grant() -> None:
    objects = [deployment("web"), service("web", kind="ClusterIP"), route("shop")]
    assert entry_targets(*objects) == {}
    grant = {
        "apiVersion": "gateway.networking.k8s.io/v1beta1",
        "kind": "ReferenceGrant",
        "metadata": {"name": "routes", "namespace": "shop"},
        "spec": {
            "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "other"}],
            "to": [{"group": "", "kind": "Service"}],
        },
    }
    assert entry_targets(*objects, grant) == {"HTTPRoute/other/front": {"Deployment/shop/web#app"}}


def virtual_service(gateways: list[str], host: str = "web") -> Raw:
    return {
        "apiVersion": "networking.istio.io/v1beta1",
        "kind": "VirtualService",
        "metadata": {"name": "front", "namespace": "other"},
        "spec": {
            "hosts": ["*"],
            "gateways": gateways,
            "http": [{"route": [{"destination": {"host": host, "port": {"number": 80}}}]}],
        },
    }


@pytest.mark.parametrize("host", ["web.shop", "web.shop.svc.cluster.local"])
def test_an_istio_virtual_service_bound_to_a_gateway_reaches_the_service_it_routes_to(host: str) -> None:
    objects = [deployment("web"), service("web", kind="ClusterIP")]
    assert entry_targets(*objects, virtual_service(["istio-system/public"], host)) == {
        "VirtualService/other/front": {"Deployment/shop/web#app"}
    }
    # Bound to the mesh only, or naming a Service of its own namespace that does not exist: no entry.
    assert entry_targets(*objects, virtual_service(["mesh"], host)) == {}
    assert entry_targets(*objects, virtual_service([], host)) == {}
    assert entry_targets(*objects, virtual_service(["public"], "web")) == {}


def test_host_network_pods_are_entry_points_fixed_by_wl008() -> None:
    graph = graph_of([namespace("shop"), deployment("web", hostNetwork=True)])
    [edge] = edges(graph, "hostNetwork:Deployment/shop/web", "Deployment/shop/web#app")
    assert edge.fixes[0].rule_id == "WL-008"


# -- east-west -------------------------------------------------------------------------------------
def lateral(*objects: Raw) -> set[str]:
    """Workloads whose container app can be reached from shop/client's pods."""
    graph = graph_of([namespace("shop", team="shop"), namespace("other", team="other"), *objects])
    return reachable_from(graph, "Deployment/shop/client#app")


def reachable_from(graph: AttackGraph, start: str) -> set[str]:
    hops = {e.target for e in edges(graph, start) if e.attack is Attack.SCOPE}
    found = set()
    for hop in hops:
        found |= {e.target.split("#")[0] for e in edges(graph, hop, attack=Attack.LATERAL)}
    return found - {start.split("#")[0]}


CLIENT = deployment("client", labels={"app": "client", "role": "frontend"})
DB = deployment("db", containers=[container(ports=[(5432, "postgres")])])


def test_without_policies_every_pod_reaches_every_pod() -> None:
    assert lateral(CLIENT, DB) == {"Deployment/shop/db"}


def test_a_default_deny_ingress_policy_blocks_the_step() -> None:
    assert lateral(CLIENT, DB, network_policy("deny", policyTypes=["Ingress"])) == set()


def test_an_allowing_policy_names_the_pod_selector_peer() -> None:
    allow = network_policy(
        "db-from-frontend",
        selector={"matchLabels": {"app": "db"}},
        ingress=[{"from": [{"podSelector": {"matchLabels": {"role": "frontend"}}}]}],
    )
    assert lateral(CLIENT, DB, allow) == {"Deployment/shop/db"}
    other = network_policy(
        "db-from-backend",
        selector={"matchLabels": {"app": "db"}},
        ingress=[{"from": [{"podSelector": {"matchLabels": {"role": "backend"}}}]}],
    )
    assert lateral(CLIENT, DB, other) == set()


@pytest.mark.parametrize(
    ("peers", "reached"),
    [
        # one peer with both selectors: pods matching AND in a matching namespace
        (
            [
                {
                    "namespaceSelector": {"matchLabels": {"team": "other"}},
                    "podSelector": {"matchLabels": {"role": "frontend"}},
                }
            ],
            False,
        ),
        # two peers: a namespace OR a pod (in the policy's namespace)
        (
            [
                {"namespaceSelector": {"matchLabels": {"team": "other"}}},
                {"podSelector": {"matchLabels": {"role": "frontend"}}},
            ],
            True,
        ),
        ([{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}}], True),
        ([{"ipBlock": {"cidr": "0.0.0.0/0"}}], False),
    ],
)
def test_peers_combine_as_kubernetes_says(peers: list[Raw], reached: bool) -> None:
    allow = network_policy("db", selector={"matchLabels": {"app": "db"}}, ingress=[{"from": peers}])
    assert (lateral(CLIENT, DB, allow) == {"Deployment/shop/db"}) is reached


@pytest.mark.parametrize(
    ("ports", "reached"),
    [
        ([{"port": 5432}], True),
        ([{"port": "postgres"}], True),
        ([{"port": "http"}], False),
        ([{"port": 5000, "endPort": 6000}], True),
        ([{"port": 6000, "endPort": 7000}], False),
        ([{"port": 5432, "protocol": "UDP"}], False),
    ],
)
def test_ports_by_number_name_and_range(ports: list[Raw], reached: bool) -> None:
    allow = network_policy("db", selector={"matchLabels": {"app": "db"}}, ingress=[{"ports": ports}])
    assert (lateral(CLIENT, DB, allow) == {"Deployment/shop/db"}) is reached


def test_egress_isolation_of_the_source_blocks_it_too() -> None:
    deny_out = network_policy("client-out", selector={"matchLabels": {"app": "client"}}, policyTypes=["Egress"])
    assert lateral(CLIENT, DB, deny_out) == set()
    to_db = network_policy(
        "client-out",
        selector={"matchLabels": {"app": "client"}},
        egress=[{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}]}],
    )
    assert lateral(CLIENT, DB, to_db) == {"Deployment/shop/db"}


def test_network_policies_decide_whether_outside_traffic_gets_in() -> None:
    deny = network_policy("deny", policyTypes=["Ingress"])
    assert entry_targets(deployment("web"), service("web"), deny) == {}
    from_anywhere = network_policy(
        "web", ingress=[{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 8080}]}]
    )
    assert entry_targets(deployment("web"), service("web"), deny, from_anywhere) == {
        "Service/shop/web": {"Deployment/shop/web#app"}
    }
    other_port = network_policy(
        "web", ingress=[{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 9090}]}]
    )
    assert entry_targets(deployment("web"), service("web"), deny, other_port) == {}


def test_an_ingress_controller_elsewhere_counts_as_a_namespace_peer() -> None:
    backend = {"service": {"name": "web", "port": {"number": 80}}}
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "front", "namespace": "shop"},
        "spec": {"defaultBackend": backend},
    }
    deny = network_policy("deny", policyTypes=["Ingress"])
    objects = [deployment("web"), service("web", kind="ClusterIP"), ingress, deny]
    assert entry_targets(*objects) == {}
    from_controller = network_policy(
        "from-ingress", ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"name": "ingress-nginx"}}}]}]
    )
    assert entry_targets(*objects, from_controller) == {"Ingress/shop/front": {"Deployment/shop/web#app"}}
    # a load balancer's clients are not an ingress controller: a namespace peer does not let them in
    assert entry_targets(deployment("web"), service("web"), deny, from_controller) == {}


def test_the_microservices_demo_istio_gateway_is_an_entry_point_to_the_frontend() -> None:
    """The vendored microservices-demo, with its Istio manifests: a real case."""
    import stockade
    from stockade.paths import PATH_RULES, analyse
    from tests.vendored import vendored

    demo = vendored("corpus", "real-world", "microservices-demo")
    result = stockade.scan([stockade.FileSource([str(demo)])], stockade.ScanOptions(rules=PATH_RULES))
    graph = analyse(result).graph
    assert {n.key for n in graph.entries} == {
        "Service/default/frontend-external",
        "VirtualService/default/frontend-ingress",
    }
    reached = {e.target for e in edges(graph, "VirtualService/default/frontend-ingress", attack=Attack.EXPOSED)}
    assert reached == {"Deployment/default/frontend#server"}
