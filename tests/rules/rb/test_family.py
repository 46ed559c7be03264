"""What the RB rules share: registration, the one analysis per scan, waivers, one finding per copy of cluster-admin."""

from __future__ import annotations

from stockade.model.finding import Area, Status
from stockade.rules import load_rules
from stockade.rules.base import RuleContext
from stockade.rules.rb._scan import rbac_scan
from tests.helpers import inventory_from_raw, scan_objects
from tests.rbac.builders import cluster_role_binding, group, local_grant, rule, sa

RB_IDS = [f"RB-{n:03d}" for n in range(1, 19)]


def test_every_rb_rule_is_registered_with_rbac_metadata() -> None:
    rules = [r for r in load_rules().values() if r.family == "RB"]
    assert [r.id for r in rules] == RB_IDS
    for found in rules:
        assert found.area is Area.RBAC
        assert found.check.__module__ == f"stockade.rules.rb.rb{found.id[3:]}_{found.name.replace('-', '_')}"
        assert "mitre-attack" in found.frameworks and "owasp-k8s-2022" in found.frameworks


def test_the_analysis_is_built_once_per_scan_and_never_shared_between_scans() -> None:
    inventory = inventory_from_raw(local_grant(rule(["get"], ["secrets"])))
    ctx = RuleContext.of(inventory)
    assert rbac_scan(ctx) is rbac_scan(ctx)
    assert rbac_scan(RuleContext.of(inventory)) is not rbac_scan(ctx)


def test_each_rule_reports_a_cluster_admin_binding_whatever_else_is_selected() -> None:
    raws = [cluster_role_binding("ci", "cluster-admin", sa("ci", "tools"))]
    together = scan_objects(raws, RB_IDS)
    failed = sorted(f.rule_id for f in together.findings if f.status is Status.FAIL)
    # RB-001 and RB-003..RB-012 each see a danger of cluster-admin on the binding (RB-002 judges roles
    # only); RB-017 the ServiceAccount.
    assert failed == [*(f"RB-{n:03d}" for n in (1, *range(3, 13))), "RB-017"]
    for rule_id in ("RB-004", "RB-009"):
        alone = scan_objects(raws, [rule_id])
        assert [f.rule_id for f in alone.findings if f.status is Status.FAIL] == [rule_id]


def test_kubernetes_own_binding_is_neither_failed_nor_passed() -> None:
    stock = [cluster_role_binding("cluster-admin", "cluster-admin", group("system:masters"))]
    result = scan_objects(stock, RB_IDS)
    assert [f for f in result.findings if f.status is not Status.PASS] == []
    assert result.passes.by_rule == {}


def test_a_waiver_annotation_on_the_role_excepts_its_finding() -> None:
    raws = local_grant(rule(["get"], ["secrets"]))
    raws[0]["metadata"]["annotations"] = {
        "stockade.io/ignore": "read-secrets",
        "stockade.io/ignore-reason": "break-glass reader, reviewed",
    }
    result = scan_objects(raws, ["RB-003"])
    assert [(f.status, f.resource.display) for f in result.findings] == [(Status.EXCEPTED, "Role/dev/r")]
