"""Known attack paths end to end, the remediation set checked by fixing the objects, determinism."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable

from stockade.paths import Attack, Fix
from stockade.paths.builder import ANY_NODE, CLUSTER_ADMIN
from stockade.report.paths import analysis_data
from tests.paths.support import (
    Raw,
    analysis_of,
    container,
    deployment,
    grant,
    namespace,
    network_policy,
    rule,
    sa_subject,
    service,
    service_account,
)


def takeover_cluster(shop_labels: dict[str, str] | None = None) -> list[Raw]:
    """An internet-facing web pod whose ServiceAccount may create pods in its namespace."""
    return [
        namespace("shop", **(shop_labels or {})),
        service_account("web"),
        deployment("web", account="web"),
        service("web"),
        *grant("deployer", [rule(["create"], ["pods"])], sa_subject("web")),
    ]


def test_internet_to_cluster_admin_through_pod_creation() -> None:
    analysis = analysis_of(takeover_cluster())
    [path] = [p for p in analysis.paths if p.start == "Service/shop/web" and p.goal == CLUSTER_ADMIN]
    steps = [e.attack for e in path.edges if not e.structural]
    assert steps == [
        Attack.EXPOSED,
        Attack.TOKEN_MOUNT,
        Attack.POD_CREATE,
        Attack.PRIVILEGED_POD,
        Attack.CONTROL_PLANE,
    ]
    assert path.steps == 5
    rules = {f.rule_id for f in path.fixes}
    assert {"NP-003", "SA-002", "RB-005", "PSS-020"} <= rules
    blast = analysis.blast_radius("Deployment/shop/web")
    assert {p.goal for p in blast.paths} >= {CLUSTER_ADMIN, ANY_NODE}
    reachers = analysis.reachers(CLUSTER_ADMIN)
    assert "ServiceAccount/shop/web" in {p.start for p in reachers.paths}


def test_pod_security_enforcement_cuts_the_privileged_pod_step() -> None:
    analysis = analysis_of(takeover_cluster({"pod-security.kubernetes.io/enforce": "baseline"}))
    assert not [p for p in analysis.paths if p.goal == CLUSTER_ADMIN]


def privileged_agent() -> list[Raw]:
    agent = deployment("agent", "infra", kind="DaemonSet", containers=[container(securityContext={"privileged": True})])
    return [namespace("infra"), agent]


def lateral_cluster(*extra: Raw) -> list[Raw]:
    return [namespace("shop"), deployment("web"), service("web"), *privileged_agent(), *extra]


def test_a_network_policy_that_blocks_the_lateral_step_removes_the_path() -> None:
    open_analysis = analysis_of(lateral_cluster())
    [path] = [p for p in open_analysis.paths if p.start == "Service/shop/web" and p.goal == ANY_NODE]
    assert [e.attack for e in path.edges if not e.structural] == [Attack.EXPOSED, Attack.LATERAL, Attack.PRIVILEGED]
    closed = analysis_of(lateral_cluster(network_policy("deny", "infra", policyTypes=["Ingress"])))
    assert not [p for p in closed.paths if p.start == "Service/shop/web"]


# -- the remediation set -------------------------------------------------------------------------------
def _workload(objects: list[Raw], resource: str) -> Raw:
    kind, namespace_name, name = resource.split("/")
    return next(
        o
        for o in objects
        if o["kind"] == kind and o["metadata"]["name"] == name and o["metadata"].get("namespace") == namespace_name
    )


def _no_privileged(objects: list[Raw], fix: Fix) -> None:
    for item in _workload(objects, fix.resource)["spec"]["template"]["spec"]["containers"]:
        item.setdefault("securityContext", {})["privileged"] = False


def _cluster_ip(objects: list[Raw], fix: Fix) -> None:
    _, _ns, name = fix.resource.split("/")
    target = next(o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == name)
    target["spec"]["type"] = "ClusterIP"


def _no_token(objects: list[Raw], fix: Fix) -> None:
    _workload(objects, fix.resource)["spec"]["template"]["spec"]["automountServiceAccountToken"] = False


def _no_role_rule(objects: list[Raw], fix: Fix) -> None:
    kind, _ns, name = fix.resource.split("/")
    target = next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)
    target["rules"] = []


def _enforce_baseline(objects: list[Raw], fix: Fix) -> None:
    name = fix.resource.split("/")[1]
    target = next(o for o in objects if o["kind"] == "Namespace" and o["metadata"]["name"] == name)
    target["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "baseline"


def _isolate(objects: list[Raw], fix: Fix) -> None:
    _kind, ns, name = fix.resource.split("/")
    labels = _workload(objects, fix.resource)["spec"]["template"]["metadata"]["labels"]
    objects.append(network_policy(f"isolate-{name}", ns, selector={"matchLabels": labels}, policyTypes=["Ingress"]))


APPLY: dict[str, Callable[[list[Raw], Fix], None]] = {
    "WL-001": _no_privileged,
    "NP-003": _cluster_ip,
    "SA-002": _no_token,
    "RB-005": _no_role_rule,
    "PSS-020": _enforce_baseline,
    "NP-005": _isolate,
}


def mixed_cluster() -> list[Raw]:
    api = [service_account("api"), deployment("api", account="api"), service("api")]
    return [*takeover_cluster(), *privileged_agent(), *api]


def ingress_to(name: str) -> Raw:
    backend = {"service": {"name": name, "port": {"number": 80}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"defaultBackend": backend},
    }


def ingress_cluster() -> list[Raw]:
    """The same workloads behind Ingresses: the exposure is intended, so fixes must go deeper."""
    objects = [o for o in mixed_cluster() if o["kind"] != "Service"]
    for name in ("web", "api"):
        objects += [service(name, kind="ClusterIP"), ingress_to(name)]
    return objects


def test_the_remediation_set_cuts_what_it_claims_when_the_objects_are_fixed() -> None:
    check_remediation(mixed_cluster())


def test_behind_ingresses_the_fixes_go_deeper_and_still_cut_what_they_claim() -> None:
    rules = check_remediation(ingress_cluster())
    assert not rules & {"NP-002", "NP-003"}
    assert len(rules) >= 2


def check_remediation(objects: list[Raw]) -> set[str]:
    analysis = analysis_of(objects)
    remediation = analysis.remediation()
    assert remediation.pairs_before == len(analysis.pairs) > 0
    assert remediation.fixes, "the mixed cluster has paths a finding can cut"
    assert list(remediation.remaining_after) == sorted(remediation.remaining_after, reverse=True)
    fixed = copy.deepcopy(objects)
    for fix, claimed in zip(remediation.fixes, remediation.remaining_after, strict=True):
        assert fix.rule_id in APPLY, f"no test fixer for {fix}"
        APPLY[fix.rule_id](fixed, fix)
        assert len(analysis_of(fixed).pairs) == claimed, f"after fixing {fix}"
    assert remediation.pairs_after == 0  # every path here goes through a finding
    return {f.rule_id for f in remediation.fixes}


def test_same_input_same_output_whatever_the_order() -> None:
    objects = mixed_cluster()
    first = analysis_of(objects)
    shuffled = list(objects)
    random.Random(7).shuffle(shuffled)
    second = analysis_of(shuffled)
    assert json.dumps(analysis_data(first, 50, 10)) == json.dumps(analysis_data(second, 50, 10))
    assert [e.source + e.target for e in first.graph.edges] == [e.source + e.target for e in second.graph.edges]


def test_every_finding_a_step_names_comes_from_a_rule_the_paths_command_runs() -> None:
    from stockade.paths import PATH_RULES

    objects = [*mixed_cluster(), deployment("tools-ui", "infra"), service("tools-ui", "infra", kind="NodePort")]
    objects.append(
        deployment(
            "tools",
            "infra",
            hostNetwork=True,
            hostPID=True,
            containers=[
                container(
                    securityContext={"capabilities": {"add": ["SYS_MODULE", "SYS_PTRACE"]}, "runAsUser": 0},
                    volumeMounts=[{"name": "proc", "mountPath": "/host/proc"}],
                )
            ],
            volumes=[{"name": "proc", "hostPath": {"path": "/proc"}}],
        )
    )
    objects += grant("everything", [rule(["*"], ["*"], ["*"])], sa_subject("web"), None)
    cited = {f.rule_id for edge in analysis_of(objects).graph.edges for f in edge.fixes}
    assert {"WL-001", "WL-003", "WL-004", "WL-006", "WL-008", "WL-009", "SA-002", "NP-002", "NP-003"} <= cited
    assert {"NP-005", "PSS-020", "RB-002", "RB-005"} <= cited
    assert cited <= set(PATH_RULES)


def test_crown_jewels_marked_by_label_annotation_or_flag() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "payments-key", "namespace": "shop", "labels": {"stockade.io/crown-jewel": "true"}},
    }
    unmarked = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "other", "namespace": "shop"}}
    reader = grant("keys", [rule(["get"], ["secrets"], names=["payments-key"])], sa_subject("web"))
    objects = [*lateral_cluster(), service_account("web"), secret, unmarked, *reader]
    analysis = analysis_of(objects, jewels=["Deployment/infra/nope", "DaemonSet/infra/agent"])
    jewels = {n.key: n.jewel for n in analysis.graph.jewels}
    assert jewels["Secret/shop/payments-key"] == "marked stockade.io/crown-jewel"
    assert jewels["DaemonSet/infra/agent"] == "named with --jewel"
    assert "Secret/shop/other" not in jewels
    assert "--jewel Deployment/infra/nope: no such node in the graph" in analysis.graph.notes
    assert {p.goal for p in analysis.paths if p.start == "Service/shop/web"} >= {"DaemonSet/infra/agent", ANY_NODE}
    # a read limited to the Secret by name is least privilege, and still a step to that jewel
    reachers = {p.start for p in analysis.reachers("Secret/shop/payments-key").paths}
    assert "ServiceAccount/shop/web" in reachers
