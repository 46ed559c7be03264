"""Where an object lands: built-in kinds by the kinds table, custom kinds by their CRD or the
well-known cluster-scoped CRDs; no namespace is invented for a kind of unknown scope."""

from __future__ import annotations

from typing import Any

import pytest

from stockade.model.finding import Status
from stockade.model.inventory import Inventory
from stockade.model.resource import Origin, Resource, resource_from_raw
from tests.helpers import scan_objects


def _object(api_version: str, kind: str, namespace: str | None = None) -> Resource:
    metadata: dict[str, Any] = {"name": "x"} | ({"namespace": namespace} if namespace else {})
    made = resource_from_raw({"apiVersion": api_version, "kind": kind, "metadata": metadata}, Origin("t.yaml"))
    assert isinstance(made, Resource)
    return made


def _crd(group: str, kind: str, scope: str) -> Resource:
    made = resource_from_raw(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{kind.lower()}s.{group}"},
            "spec": {"group": group, "scope": scope, "names": {"kind": kind, "plural": f"{kind.lower()}s"}},
        },
        Origin("crd.yaml"),
    )
    assert isinstance(made, Resource)
    return made


CLUSTER_SCOPED = [
    ("cilium.io/v2", "CiliumClusterwideNetworkPolicy"),
    ("crd.projectcalico.org/v1", "GlobalNetworkPolicy"),
    ("projectcalico.org/v3", "GlobalNetworkPolicy"),
    ("cert-manager.io/v1", "ClusterIssuer"),
    ("storage.k8s.io/v1", "VolumeAttributesClass"),
    ("networking.k8s.io/v1", "ServiceCIDR"),
    ("networking.k8s.io/v1", "IPAddress"),
    ("certificates.k8s.io/v1beta1", "ClusterTrustBundle"),
    ("resource.k8s.io/v1", "DeviceClass"),
    ("resource.k8s.io/v1", "ResourceSlice"),
    ("constraints.gatekeeper.sh/v1beta1", "K8sRequiredLabels"),
]


@pytest.mark.parametrize(("api_version", "kind"), CLUSTER_SCOPED, ids=[kind for _, kind in CLUSTER_SCOPED])
def test_known_cluster_scoped_kinds_land_in_no_namespace(api_version: str, kind: str) -> None:
    made = _object(api_version, kind)
    inventory = Inventory([made])
    assert inventory.effective_namespace(made) is None
    assert inventory.namespaces == frozenset()


def test_a_custom_kind_of_unknown_scope_lands_only_where_it_says() -> None:
    bare, placed = _object("example.com/v1", "Widget"), _object("example.com/v1", "Widget", "shop")
    inventory = Inventory([bare, placed])
    assert inventory.effective_namespace(bare) is None
    assert inventory.effective_namespace(placed) == "shop"
    assert inventory.namespaces == {"shop"}


def test_a_crd_in_the_scan_says_the_scope_of_its_kind() -> None:
    widget, gadget = _object("example.com/v1", "Widget"), _object("example.com/v1", "Gadget", "shop")
    inventory = Inventory(
        [widget, gadget, _crd("example.com", "Widget", "Namespaced"), _crd("example.com", "Gadget", "Cluster")]
    )
    assert inventory.effective_namespace(widget) == "default"
    assert inventory.effective_namespace(gadget) is None


def test_a_custom_kind_that_carries_pods_is_namespaced() -> None:
    rollout = _object("argoproj.io/v1alpha1", "Rollout")
    assert Inventory([rollout]).effective_namespace(rollout) == "default"


def test_a_built_in_namespaced_kind_still_lands_in_default() -> None:
    claim = _object("resource.k8s.io/v1", "ResourceClaim")
    assert Inventory([claim]).effective_namespace(claim) == "default"


def test_cluster_scoped_objects_do_not_make_default_a_namespace_without_network_policy() -> None:
    # (Cluster-wide network policies are left out: a select-all one covers every namespace anyway.)
    raws = [
        {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, "spec": {}}
        for api_version, kind in CLUSTER_SCOPED
        if "NetworkPolicy" not in kind
    ]
    result = scan_objects(raws, ["NP-001"])
    assert [f for f in result.findings if f.status is Status.FAIL] == []
