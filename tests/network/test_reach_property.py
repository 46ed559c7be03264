"""Random clusters: the bit-set engine against a plain pair-by-pair reading of the raw objects, and
what adding a policy may and may not change.

The reference below reads the YAML dictionaries directly (not Stockade's policy model), one pair
and one port at a time, as the NetworkPolicy documentation states the rules. The literal claim
"adding a policy never increases what is reachable" is false in Kubernetes: a policy that allows
more to a pod another policy already isolates adds connections. What holds, and is tested: adding
a policy without rules never adds a connection, and adding any policy changes only connections of
the pods it selects.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockade.model.inventory import Inventory
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.network import Reachability

NAMESPACES = ("a", "b", "c")
APPS = ("web", "api", "db")
TIERS = ("front", "back")
PORTS = ((80, "http"), (443, "https"), (5432, "pg"))

labels = st.fixed_dictionaries({"app": st.sampled_from(APPS)}, optional={"tier": st.sampled_from(TIERS)})
selector = st.one_of(
    st.just({}),
    st.builds(lambda key, value: {"matchLabels": {key: value}}, st.just("app"), st.sampled_from(APPS)),
    st.builds(lambda value: {"matchLabels": {"tier": value}}, st.sampled_from(TIERS)),
)
namespace_selector = st.one_of(
    st.just({}), st.builds(lambda v: {"matchLabels": {"zone": v}}, st.sampled_from(("x", "y")))
)
peer = st.one_of(
    st.builds(lambda s: {"podSelector": s}, selector),
    st.builds(lambda n: {"namespaceSelector": n}, namespace_selector),
    st.builds(lambda s, n: {"podSelector": s, "namespaceSelector": n}, selector, namespace_selector),
    st.just({"ipBlock": {"cidr": "0.0.0.0/0"}}),
)
policy_port = st.one_of(
    st.builds(lambda p: {"port": p[0]}, st.sampled_from(PORTS)),
    st.builds(lambda p: {"port": p[1]}, st.sampled_from(PORTS)),
    st.builds(
        lambda start, width: {"port": start, "endPort": start + width},
        st.sampled_from((80, 400, 5000)),
        st.sampled_from((0, 100, 1000)),
    ),
)
rule = st.fixed_dictionaries(
    {}, optional={"peers": st.lists(peer, max_size=2), "ports": st.lists(policy_port, max_size=2)}
)
policy_spec = st.fixed_dictionaries(
    {"podSelector": selector},
    optional={
        "ingress": st.lists(rule, max_size=2),
        "egress": st.lists(rule, max_size=2),
        "policyTypes": st.sampled_from((["Ingress"], ["Egress"], ["Ingress", "Egress"])),
    },
)
workload = st.tuples(st.sampled_from(NAMESPACES), labels, st.lists(st.sampled_from(PORTS), max_size=2, unique=True))


def _raw_policy(name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    raw_spec: dict[str, Any] = {"podSelector": spec["podSelector"]}
    for direction, key in (("ingress", "from"), ("egress", "to")):
        if direction in spec:
            raw_spec[direction] = [
                {**({key: r["peers"]} if "peers" in r else {}), **({"ports": r["ports"]} if "ports" in r else {})}
                for r in spec[direction]
            ]
    if "policyTypes" in spec:
        raw_spec["policyTypes"] = spec["policyTypes"]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": raw_spec,
    }


def _cluster(workloads: list[Any], policies: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns, "labels": {"zone": "x" if ns != "c" else "y"}},
        }
        for ns in NAMESPACES
    ]
    for i, (ns, pod_labels, ports) in enumerate(workloads):
        container = {"name": "c", "image": "i", "ports": [{"containerPort": n, "name": name} for n, name in ports]}
        objects.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": f"w{i}", "namespace": ns},
                "spec": {"template": {"metadata": {"labels": pod_labels}, "spec": {"containers": [container]}}},
            }
        )
    objects.extend(_raw_policy(f"p{i}", ns, spec) for i, (ns, spec) in enumerate(policies))
    return objects


# -- the reference: raw dictionaries, one pair at a time --------------------------------------------
def _matches(sel: dict[str, Any], found: dict[str, Any]) -> bool:
    return all(found.get(k) == v for k, v in sel.get("matchLabels", {}).items())


def _peer_has(
    peer: dict[str, Any], policy_ns: str, ns: str, pod_labels: dict[str, Any], ns_labels: dict[str, dict[str, Any]]
) -> bool:
    if "podSelector" not in peer and "namespaceSelector" not in peer:
        return False  # ipBlock
    if "namespaceSelector" in peer:
        if not _matches(peer["namespaceSelector"], ns_labels[ns]):
            return False
    elif ns != policy_ns:
        return False
    return "podSelector" not in peer or _matches(peer["podSelector"], pod_labels)


def _port_ok(rule: dict[str, Any], number: int | None, name: str) -> bool:
    ports = rule.get("ports")
    if not ports:
        return True
    if number is None:
        return True  # a target with no declared port: any port it may listen on
    for p in ports:
        if isinstance(p["port"], str):
            if p["port"] == name:
                return True
        elif p["port"] <= number <= p.get("endPort", p["port"]):
            return True
    return False


def _types(spec: dict[str, Any]) -> tuple[bool, bool]:
    if spec.get("policyTypes"):
        return "Ingress" in spec["policyTypes"], "Egress" in spec["policyTypes"]
    return True, "egress" in spec


def reference(
    objects: list[dict[str, Any]], source: dict[str, Any], target: dict[str, Any], number: int | None, name: str
) -> bool:
    ns_labels = {
        o["metadata"]["name"]: {**o["metadata"]["labels"], "kubernetes.io/metadata.name": o["metadata"]["name"]}
        for o in objects
        if o["kind"] == "Namespace"
    }
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]

    def side(subject: dict[str, Any], other: dict[str, Any], direction: str, key: str) -> bool:
        subject_ns, subject_labels = subject["metadata"]["namespace"], subject["spec"]["template"]["metadata"]["labels"]
        other_ns, other_labels = other["metadata"]["namespace"], other["spec"]["template"]["metadata"]["labels"]
        selecting = [
            p
            for p in policies
            if p["metadata"]["namespace"] == subject_ns
            and _matches(p["spec"]["podSelector"], subject_labels)
            and _types(p["spec"])[0 if direction == "ingress" else 1]
        ]
        if not selecting:
            return True
        for p in selecting:
            for r in p["spec"].get(direction, []):
                peers = r.get(key)
                if peers and not any(
                    _peer_has(x, p["metadata"]["namespace"], other_ns, other_labels, ns_labels) for x in peers
                ):
                    continue
                if _port_ok(r, number, name):
                    return True
        return False

    return side(target, source, "ingress", "from") and side(source, target, "egress", "to")


def _reach(objects: list[dict[str, Any]]) -> Reachability:
    resources = []
    for raw in objects:
        made = resource_from_raw(raw, Origin("generated"))
        assert isinstance(made, Resource)
        resources.append(made)
    return Reachability(Inventory(resources))


def _pairs(reach: Reachability) -> set[tuple[str, str, str]]:
    found = set()
    for target in range(len(reach.endpoints)):
        for port in reach.ports_of(target):
            for source in reach.names(reach.sources(target, port)):
                found.add((source, reach.endpoints[target].key, port.label() if port else "any"))
    return found


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    st.lists(workload, min_size=1, max_size=6),
    st.lists(st.tuples(st.sampled_from(NAMESPACES), policy_spec), max_size=5),
)
def test_the_engine_agrees_with_a_pair_by_pair_reading(workloads: list[Any], policies: list[Any]) -> None:
    objects = _cluster(workloads, policies)
    reach = _reach(objects)
    deployments = {
        f"Deployment/{o['metadata']['namespace']}/{o['metadata']['name']}": o
        for o in objects
        if o["kind"] == "Deployment"
    }
    assert len(reach.endpoints) == len(deployments)
    expected = set()
    for target_key, target in deployments.items():
        declared = target["spec"]["template"]["spec"]["containers"][0]["ports"]
        for number, name in [(p["containerPort"], p["name"]) for p in declared] or [(None, "")]:
            for source_key, source in deployments.items():
                if reference(objects, source, target, number, name):
                    expected.add((source_key, target_key, str(number) if number is not None else "any"))
    assert _pairs(reach) == expected


@SETTINGS
@given(
    st.lists(workload, min_size=1, max_size=6),
    st.lists(st.tuples(st.sampled_from(NAMESPACES), policy_spec), max_size=4),
    st.sampled_from(NAMESPACES),
    selector,
    st.sampled_from((["Ingress"], ["Egress"], ["Ingress", "Egress"])),
)
def test_a_policy_without_rules_never_adds_a_connection(
    workloads: list[Any], policies: list[Any], namespace: str, pods: dict[str, Any], types: list[str]
) -> None:
    before = _pairs(_reach(_cluster(workloads, policies)))
    after = _pairs(_reach(_cluster(workloads, [*policies, (namespace, {"podSelector": pods, "policyTypes": types})])))
    assert after <= before


@SETTINGS
@given(
    st.lists(workload, min_size=1, max_size=6),
    st.lists(st.tuples(st.sampled_from(NAMESPACES), policy_spec), max_size=4),
    st.tuples(st.sampled_from(NAMESPACES), policy_spec),
)
def test_a_new_policy_changes_only_connections_of_the_pods_it_selects(
    workloads: list[Any], policies: list[Any], added: tuple[str, dict[str, Any]]
) -> None:
    before = _pairs(_reach(_cluster(workloads, policies)))
    reach = _reach(_cluster(workloads, [*policies, added]))
    after = _pairs(reach)
    namespace, spec = added
    selected = {
        e.key for e in reach.endpoints if e.namespace == namespace and _matches(spec["podSelector"], dict(e.labels))
    }
    for source, target, _ in before ^ after:
        assert source in selected or target in selected
