"""Mesh discovery (rules/ew/_mesh.py) and what the EW family promises."""

from __future__ import annotations

from typing import Any

import pytest

from stockade.model.finding import Area, Status
from stockade.rules.ew._mesh import istio_membership, linkerd_membership, mesh_scan
from tests.helpers import inventory_from_raw, scan_objects
from tests.rules.family import assert_family

EW = [f"EW-{n:03d}" for n in range(1, 7)]


def _namespace(name: str, labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None) -> Any:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": labels or {}, "annotations": annotations or {}},
    }


def _deployment(name: str, namespace: str, labels: dict[str, str] | None = None, **annotations: str) -> Any:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name, **(labels or {})}, "annotations": annotations},
                "spec": {"containers": [{"name": name, "image": f"registry.example.com/{name}:1"}]},
            },
        },
    }


def _service(name: str, namespace: str) -> Any:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80}]},
    }


def test_the_family_is_registered_in_the_east_west_area() -> None:
    assert_family("EW", EW, Area.EAST_WEST)


def test_without_a_mesh_no_ew_rule_judges_anything() -> None:
    objects = [_namespace("shop"), _deployment("cart", "shop"), _service("cart", "shop")]
    result = scan_objects(objects, EW)
    assert result.errors == []
    assert [f for f in result.findings if f.rule_id in EW] == []
    assert not any(result.passes.by_rule.get(rule) for rule in EW)
    assert not mesh_scan(inventory_from_raw(objects))


@pytest.mark.parametrize(
    ("ns_labels", "pod_labels", "pod_annotations", "meshed", "mode"),
    [
        ({"istio-injection": "enabled"}, {}, {}, True, "sidecar"),
        ({"istio.io/rev": "canary"}, {}, {}, True, "sidecar"),
        ({}, {"sidecar.istio.io/inject": "true"}, {}, True, "sidecar"),
        ({}, {"istio.io/rev": "canary"}, {}, True, "sidecar"),
        ({"istio-injection": "enabled"}, {"sidecar.istio.io/inject": "false"}, {}, False, ""),
        ({"istio-injection": "enabled"}, {}, {"sidecar.istio.io/inject": "false"}, False, ""),
        # The label wins over the older annotation.
        (
            {"istio-injection": "enabled"},
            {"sidecar.istio.io/inject": "true"},
            {"sidecar.istio.io/inject": "false"},
            True,
            "sidecar",
        ),
        # A disabled namespace wins over the pod's "true" and over a revision label.
        ({"istio-injection": "disabled"}, {"sidecar.istio.io/inject": "true"}, {}, False, ""),
        ({"istio-injection": "disabled", "istio.io/rev": "canary"}, {}, {}, False, ""),
        ({}, {}, {}, False, ""),
        # Ambient: the namespace (or the pod) asks, the pod may say none; sidecar opt-outs do not apply.
        ({"istio.io/dataplane-mode": "ambient"}, {}, {}, True, "ambient"),
        ({"istio.io/dataplane-mode": "ambient"}, {"sidecar.istio.io/inject": "false"}, {}, True, "ambient"),
        ({"istio.io/dataplane-mode": "ambient"}, {"istio.io/dataplane-mode": "none"}, {}, False, ""),
        ({}, {"istio.io/dataplane-mode": "ambient"}, {}, True, "ambient"),
        # A sidecar namespace that is also ambient: the sidecar wins.
        ({"istio-injection": "enabled", "istio.io/dataplane-mode": "ambient"}, {}, {}, True, "sidecar"),
    ],
)
def test_istio_membership_follows_the_injector(
    ns_labels: dict[str, str], pod_labels: dict[str, str], pod_annotations: dict[str, str], meshed: bool, mode: str
) -> None:
    found = istio_membership(ns_labels, pod_labels, pod_annotations)
    assert (found.mesh == "istio", found.mode) == (meshed, mode)


@pytest.mark.parametrize(
    ("ns_annotations", "pod_annotations", "meshed"),
    [
        ({"linkerd.io/inject": "enabled"}, {}, True),
        ({"linkerd.io/inject": "enabled"}, {"linkerd.io/inject": "disabled"}, False),
        ({}, {"linkerd.io/inject": "enabled"}, True),
        ({}, {"linkerd.io/inject": "ingress"}, True),
        ({"linkerd.io/inject": "disabled"}, {}, False),
        ({}, {}, False),
    ],
)
def test_linkerd_membership_the_pod_annotation_wins(
    ns_annotations: dict[str, str], pod_annotations: dict[str, str], meshed: bool
) -> None:
    assert (linkerd_membership(ns_annotations, pod_annotations).mesh == "linkerd") is meshed


@pytest.mark.parametrize(
    ("obj", "mesh"),
    [
        (
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "istiod", "namespace": "istio-system"},
            },
            "istio",
        ),
        (
            {
                "apiVersion": "install.istio.io/v1alpha1",
                "kind": "IstioOperator",
                "metadata": {"name": "cp", "namespace": "istio-system"},
            },
            "istio",
        ),
        (
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": "peerauthentications.security.istio.io"},
            },
            "istio",
        ),
        (
            {
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "MutatingWebhookConfiguration",
                "metadata": {"name": "istio-sidecar-injector-canary"},
            },
            "istio",
        ),
        (
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "linkerd-destination", "namespace": "linkerd"},
            },
            "linkerd",
        ),
        (
            {
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "MutatingWebhookConfiguration",
                "metadata": {"name": "linkerd-proxy-injector-webhook-config"},
            },
            "linkerd",
        ),
        (
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": "servers.policy.linkerd.io"},
            },
            "linkerd",
        ),
    ],
)
def test_a_control_plane_object_shows_its_mesh(obj: Any, mesh: str) -> None:
    found = mesh_scan(inventory_from_raw([obj]))
    assert set(found.installed) == {mesh}
    assert all(found.evidence is not None for found in found.installed.values())


def test_the_root_namespace_comes_from_the_mesh_config() -> None:
    operator = {
        "apiVersion": "install.istio.io/v1alpha1",
        "kind": "IstioOperator",
        "metadata": {"name": "cp", "namespace": "mesh-control"},
        "spec": {"meshConfig": {"rootNamespace": "mesh-root"}},
    }
    mesh_wide = {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": "mesh-root"},
        "spec": {"mtls": {"mode": "STRICT"}},
    }
    not_mesh_wide = {**mesh_wide, "metadata": {"name": "default", "namespace": "istio-system"}}
    shop = [_namespace("shop", {"istio-injection": "enabled"}), _deployment("cart", "shop")]
    assert mesh_scan(inventory_from_raw([operator])).root_namespace == "mesh-root"

    def failed(objects: list[Any]) -> list[str]:
        result = scan_objects(objects, ["EW-002"])
        return sorted(f.resource.display for f in result.findings if f.status is Status.FAIL)

    assert failed([operator, mesh_wide, *shop]) == []
    assert failed([operator, not_mesh_wide, *shop]) == ["Namespace/shop"]


def test_istiod_namespace_is_the_root_without_a_mesh_config() -> None:
    istiod = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "istiod", "namespace": "istio-cp"}}
    assert mesh_scan(inventory_from_raw([istiod])).root_namespace == "istio-cp"
    assert (
        mesh_scan(inventory_from_raw([_namespace("shop", {"istio-injection": "enabled"})])).root_namespace
        == "istio-system"
    )


def test_a_workload_policy_that_turns_strict_off_fails_only_for_its_workloads() -> None:
    # Mesh STRICT; the namespace's PERMISSIVE policy decides for web, cart's own STRICT policy wins for cart.
    objects = [
        _namespace("shop", {"istio-injection": "enabled"}),
        _deployment("cart", "shop"),
        _deployment("web", "shop"),
        {
            "apiVersion": "security.istio.io/v1",
            "kind": "PeerAuthentication",
            "metadata": {"name": "default", "namespace": "shop"},
            "spec": {"mtls": {"mode": "PERMISSIVE"}},
        },
        {
            "apiVersion": "security.istio.io/v1",
            "kind": "PeerAuthentication",
            "metadata": {"name": "cart", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "cart"}}, "mtls": {"mode": "STRICT"}},
        },
    ]
    result = scan_objects(objects, ["EW-002"])
    (finding,) = [f for f in result.findings if f.status is Status.FAIL]
    assert finding.resource.display == "PeerAuthentication/shop/default"
    assert "Deployment/shop/web" in finding.message
    assert "cart" not in finding.message
