"""A stock kubeadm cluster scans clean under every RB rule; a team's mistake on it and the demo's planted ones are found."""

from __future__ import annotations

from pathlib import Path

import stockade
from stockade.model.finding import Status
from tests.helpers import scan_objects
from tests.rbac.builders import cluster_role_binding, group
from tests.rbac.stock import stock_kubeadm_cluster

RB_IDS = [f"RB-{n:03d}" for n in range(1, 19)]
DEMO = Path(__file__).resolve().parents[3] / "examples" / "demo"


def test_a_stock_cluster_has_no_rbac_findings() -> None:
    result = scan_objects(stock_kubeadm_cluster(), RB_IDS)
    assert result.errors == []
    assert [f.message for f in result.findings if f.status is not Status.PASS] == []
    # Its ServiceAccounts are judged (and pass): the rules did look at the cluster.
    assert result.passes.by_rule["RB-017"] == 5


def test_one_team_mistake_on_a_stock_cluster_is_found() -> None:
    raws = [
        *stock_kubeadm_cluster(),
        cluster_role_binding("everyone-reads", "system:node", group("system:authenticated")),
    ]
    result = scan_objects(raws, RB_IDS)
    failed = sorted({(f.rule_id, f.resource.display) for f in result.findings if f.status is Status.FAIL})
    # Everyone now reads Secrets and creates pods through a Kubernetes role: reported on the binding.
    binding = "ClusterRoleBinding/everyone-reads"
    assert failed == [("RB-003", binding), ("RB-005", binding), ("RB-014", binding)]


def test_the_demo_set_shows_its_planted_rbac_mistakes() -> None:
    result = stockade.scan([stockade.FileSource([str(DEMO)])], stockade.ScanOptions(rules=RB_IDS))
    failed = {(f.rule_id, f.resource.display) for f in result.findings if f.status is Status.FAIL}
    # The cluster-admin binding grants every danger; each danger rule says so on its own (RB-002 judges roles only).
    admin = "ClusterRoleBinding/payments-deployer-admin"
    assert failed == {
        *((f"RB-{n:03d}", admin) for n in (1, *range(3, 13))),
        ("RB-003", "Role/payments/secret-reader"),
        ("RB-017", "ServiceAccount/payments/deployer"),
    }
