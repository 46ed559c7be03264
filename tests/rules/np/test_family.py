"""What the NP rules share: registration, the policy index built once per scan, scans with nothing to judge."""

from __future__ import annotations

from stockade.model.finding import Area
from stockade.rules import load_rules
from stockade.rules.base import RuleContext
from stockade.rules.np._index import policy_index
from tests.helpers import inventory_from_raw, scan_objects

NP_IDS = [f"NP-{n:03d}" for n in range(1, 8)]


def test_every_np_rule_is_registered_from_its_own_module() -> None:
    rules = [r for r in load_rules().values() if r.family == "NP"]
    assert [r.id for r in rules] == NP_IDS
    for found in rules:
        assert found.area is Area.EAST_WEST
        assert found.check.__module__ == f"stockade.rules.np.np{found.id[3:]}_{found.name.replace('-', '_')}"


def test_policy_index_is_built_once_per_scan_and_never_shared_between_scans() -> None:
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "all", "namespace": "shop"},
        "spec": {"podSelector": {}},
    }
    ctx = RuleContext.of(inventory_from_raw([policy]))
    assert ctx.analyses.get(policy_index) is ctx.analyses.get(policy_index)
    other = RuleContext.of(ctx.inventory)
    assert other.analyses.get(policy_index) is not ctx.analyses.get(policy_index)
    assert other.analyses.get(policy_index).namespaces_with_policy == frozenset({"shop"})


def test_scans_without_namespaces_give_no_np001_outcome() -> None:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "x"}}
    nameless = {"apiVersion": "v1", "kind": "Namespace", "metadata": {}}
    for objects in ([role], [nameless]):
        result = scan_objects(objects, ["NP-001"], include_passed=True)
        assert result.findings == []
        assert result.passes.by_rule == {}
