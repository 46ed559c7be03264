"""The scorecard's criteria, area by area: a minimal input that stops at each stage and one that
passes it. Objects are read as a live cluster would show them (``live=True``) unless a test is
about manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import stockade
from stockade.model.finding import Area
from stockade.posture import Met, Scorecard, scorecard

HARDENED_POD_SPEC: dict[str, Any] = {
    "serviceAccountName": "web",
    "automountServiceAccountToken": False,
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [
        {
            "name": "web",
            "image": "registry.example.com/web@sha256:" + "a" * 64,
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
                "runAsNonRoot": True,
            },
            "resources": {"limits": {"cpu": "1", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
        }
    ],
}


def deployment(name: str, namespace: str = "shop", spec: dict[str, Any] | None = None, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name, **labels}}, "spec": spec or HARDENED_POD_SPEC},
        },
    }


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def card(tmp_path: Path, objects: list[dict[str, Any]], live: bool = True) -> Scorecard:
    path = tmp_path / "objects.yaml"
    path.write_text(yaml.safe_dump_all(objects))
    result = stockade.scan([stockade.FileSource([str(path)])], stockade.ScanOptions(rules=["all"]))
    assert not result.errors
    return scorecard(result, live)


def area(found: Scorecard, which: Area) -> Any:
    return next(a for a in found.areas if a.area is which)


def test_container_privileges_stop_at_crawl_on_a_privileged_pod_and_need_admission_to_walk(tmp_path: Path) -> None:
    privileged = {
        **HARDENED_POD_SPEC,
        "containers": [{"name": "x", "image": "i:1", "securityContext": {"privileged": True}}],
    }
    bad = area(card(tmp_path, [namespace("shop"), deployment("web", spec=privileged)]), Area.CONTAINER_PRIVILEGES)
    assert bad.summary == "not crawling"
    crawl = bad.stages[0]
    assert crawl.met is Met.NOT_MET and any(f.rule_id == "WL-001" for f in crawl.criteria[0].blockers)
    good = area(card(tmp_path, [namespace("shop"), deployment("web")]), Area.CONTAINER_PRIVILEGES)
    # Hardened, but nothing enforces it at admission: crawl reached, walk not.
    assert good.summary == "crawl"
    walk = {c.criterion.text: c.met for c in good.stages[1].criteria}
    assert walk["an admission controller enforces them"] is Met.NOT_MET
    assert good.next_step.startswith("Enforce the restrictions at admission")


def deny_all(where: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": where},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }


def test_east_west_follows_the_mesh(tmp_path: Path) -> None:
    base = [namespace("shop"), deployment("web"), deny_all("shop")]
    unmeshed = area(card(tmp_path, base), Area.EAST_WEST)
    assert unmeshed.summary == "not crawling"
    assert unmeshed.stages[0].criteria[0].met is Met.NOT_MET  # no mesh installed
    meshed = [
        namespace("shop", **{"istio-injection": "enabled"}),
        deployment("web"),
        deployment("istiod", "istio-system"),
        deny_all("shop"),
        deny_all("istio-system"),
        {
            "apiVersion": "security.istio.io/v1",
            "kind": "PeerAuthentication",
            "metadata": {"name": "default", "namespace": "istio-system"},
            "spec": {"mtls": {"mode": "STRICT"}},
        },
    ]
    crawling = area(card(tmp_path, meshed), Area.EAST_WEST)
    assert crawling.summary == "crawl"
    assert crawling.next_step.startswith("Turn on the mesh's access logs")
    logs = {
        "apiVersion": "telemetry.istio.io/v1",
        "kind": "Telemetry",
        "metadata": {"name": "mesh", "namespace": "istio-system"},
        "spec": {"accessLogging": [{"providers": [{"name": "envoy"}]}]},
    }
    # No Service selects the workload: whether callers are restricted cannot be judged.
    assert area(card(tmp_path, [*meshed, logs]), Area.EAST_WEST).summary == "walk, then not assessed"
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    open_service = area(card(tmp_path, [*meshed, logs, service]), Area.EAST_WEST)
    assert open_service.summary == "walk"
    assert [f.rule_id for f in open_service.stages[2].criteria[0].blockers] == ["EW-005"]
    callers = {
        "apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy",
        "metadata": {"name": "web-callers", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "rules": [{"from": [{"source": {"principals": ["cluster.local/ns/shop/sa/frontend"]}}]}],
        },
    }
    assert area(card(tmp_path, [*meshed, logs, service, callers]), Area.EAST_WEST).summary == "run"


def test_secrets_run_needs_an_external_store(tmp_path: Path) -> None:
    store = {
        "apiVersion": "external-secrets.io/v1beta1",
        "kind": "ClusterSecretStore",
        "metadata": {"name": "vault"},
        "spec": {"provider": {"vault": {"server": "https://vault.example.com"}}},
    }
    without = area(card(tmp_path, [namespace("shop"), deployment("web")]), Area.SECRETS)
    assert without.stages[2].criteria[0].met is Met.NOT_MET
    with_store = area(card(tmp_path, [namespace("shop"), deployment("web"), store]), Area.SECRETS)
    assert with_store.stages[2].criteria[0].met is Met.MET
    assert "ClusterSecretStore/vault" in with_store.stages[2].criteria[0].evidence


def test_gitops_stages_helm_then_operator_then_no_hand_changes(tmp_path: Path) -> None:
    helm = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "helm.sh/release.v1",
        "metadata": {"name": "sh.helm.release.v1.web.v3", "namespace": "shop", "labels": {"owner": "helm"}},
    }
    app = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "shop", "namespace": "argocd"},
        "spec": {"destination": {"namespace": "shop"}},
    }
    assert area(card(tmp_path, [namespace("shop")]), Area.GITOPS).summary == "not crawling"
    assert area(card(tmp_path, [namespace("shop"), helm]), Area.GITOPS).summary == "crawl"
    by_hand = deployment("web")
    by_hand["metadata"]["managedFields"] = [
        {"manager": "kubectl-edit", "operation": "Update", "time": "2026-12-05T10:00:00Z"}
    ]
    edited = area(card(tmp_path, [namespace("shop"), helm, app, by_hand]), Area.GITOPS)
    assert edited.summary == "walk"
    assert [f.rule_id for f in edited.stages[2].criteria[0].blockers] == ["GO-001"]
    synced = deployment("web")
    synced["metadata"]["managedFields"] = [
        {"manager": "argocd-controller", "operation": "Apply", "time": "2026-12-05T10:00:00Z"}
    ]
    assert area(card(tmp_path, [namespace("shop"), helm, app, synced]), Area.GITOPS).summary == "run"


def test_monitoring_and_steps_outside_the_cluster(tmp_path: Path) -> None:
    falco = {**deployment("falco", "falco"), "kind": "DaemonSet"}
    monitored = area(card(tmp_path, [namespace("shop"), falco]), Area.MONITORING)
    # Tuning detections happens outside the objects: named, not counted, and walk is not assessed.
    assert monitored.summary == "crawl, then not assessed"
    assert monitored.stages[1].criteria[0].met is Met.NOT_ASSESSED


def test_what_manifests_cannot_show_is_not_assessed_never_passed(tmp_path: Path) -> None:
    from_files = card(tmp_path, [namespace("shop"), deployment("web")], live=False)
    assert area(from_files, Area.NODE_FILES).summary == "not assessed"
    assert area(from_files, Area.MONITORING).summary == "not assessed"  # no add-ons in manifests
    assert area(from_files, Area.CONTROL_PLANE).summary == "not assessed"
    assert not area(from_files, Area.NODE_FILES).assessed
    live = card(tmp_path, [namespace("shop"), deployment("web")], live=True)
    assert area(live, Area.MONITORING).summary == "not crawling"  # a live cluster without a detector


def test_every_area_has_three_stages_with_cited_criteria() -> None:
    from stockade.posture.criteria import AREA_CRITERIA

    assert set(AREA_CRITERIA) == set(Area)
    for stages in AREA_CRITERIA.values():
        assert [s.stage.value for s in stages] == ["crawl", "walk", "run"]
        for stage in stages:
            assert stage.criteria and stage.next_step
            assert all(c.guide.startswith(("G1 ", "G2 ", "G1/G2 ")) for c in stage.criteria)
