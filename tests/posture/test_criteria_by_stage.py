"""One criterion at a time, for the areas not walked through in test_scorecard.py: a minimal input
where the criterion is not met and one where it is (objects read as a live cluster shows them)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from stockade.model.finding import Area
from stockade.posture import Met
from tests.posture.test_scorecard import HARDENED_POD_SPEC, area, card, deployment, namespace

SHOP = namespace("shop")


def _with_spec(**changes: Any) -> dict[str, Any]:
    spec = copy.deepcopy(HARDENED_POD_SPEC)
    spec["containers"][0].update(changes)
    return deployment("web", spec=spec)


def _role_binding(role: str, subject: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": f"to-{role}"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [subject],
    }


OPS = {"kind": "Group", "name": "ops", "apiGroup": "rbac.authorization.k8s.io"}
WEBHOOK = {
    "apiVersion": "admissionregistration.k8s.io/v1",
    "kind": "ValidatingWebhookConfiguration",
    "metadata": {"name": "policy"},
    "webhooks": [],
}
CASES = [
    # (area, stage index, criterion index, failing objects, passing objects)
    pytest.param(
        Area.SECRETS,
        0,
        0,
        [SHOP, _with_spec(env=[{"name": "DB_PASSWORD", "value": "hunter2-but-longer-Xy9"}])],
        [SHOP, deployment("web")],
        id="secrets-crawl-literal-credential",
    ),
    pytest.param(
        Area.SECRETS,
        1,
        0,
        [SHOP, _with_spec(env=[{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}])],
        [SHOP, _with_spec(volumeMounts=[{"name": "s", "mountPath": "/s", "readOnly": True}])],
        id="secrets-walk-secret-in-env",
    ),
    pytest.param(
        Area.SERVICE_ACCOUNTS,
        0,
        0,
        [SHOP, deployment("web", spec={k: v for k, v in HARDENED_POD_SPEC.items() if k != "serviceAccountName"})],
        [SHOP, deployment("web")],
        id="service-accounts-crawl-default-account",
    ),
    pytest.param(
        Area.NAMESPACES,
        0,
        0,
        [deployment("web", "default")],
        [SHOP, deployment("web")],
        id="namespaces-crawl-default-namespace",
    ),
    pytest.param(
        Area.NAMESPACES,
        1,
        0,
        [SHOP, deployment("web")],
        [SHOP, deployment("web"), WEBHOOK],
        id="namespaces-walk-admission",
    ),
    pytest.param(
        Area.REGISTRIES,
        0,
        0,
        [SHOP, _with_spec(image="registry.example.com/web:latest")],
        [SHOP, deployment("web")],
        id="registries-crawl-latest-tag",
    ),
    pytest.param(
        Area.RBAC,
        0,
        0,
        [SHOP, _role_binding("cluster-admin", {"kind": "User", "name": "alice@example.com"})],
        [SHOP, _role_binding("view", OPS)],
        id="rbac-crawl-cluster-admin-binding",
    ),
    pytest.param(
        Area.ADMISSION, 0, 0, [SHOP, deployment("web")], [SHOP, deployment("web"), WEBHOOK], id="admission-crawl"
    ),
    pytest.param(
        Area.ADMISSION,
        1,
        0,
        [SHOP, deployment("web")],
        [namespace("shop", **{"pod-security.kubernetes.io/enforce": "restricted"}), deployment("web")],
        id="admission-walk-pod-security-enforced",
    ),
    pytest.param(
        Area.LOGGING,
        1,
        1,
        [SHOP, deployment("web")],
        [SHOP, deployment("web"), {**deployment("fluent-bit", "logging"), "kind": "DaemonSet"}],
        id="logging-walk-agent",
    ),
    pytest.param(
        Area.MONITORING,
        2,
        0,
        [SHOP, deployment("web")],
        [SHOP, deployment("web"), deployment("stockade-watch", "stockade-system")],
        id="monitoring-run-watcher",
    ),
    pytest.param(
        Area.NODE_FILES,
        2,
        0,
        [SHOP, deployment("web")],
        [SHOP, {**deployment("stockade-node-agent", "stockade-system"), "kind": "DaemonSet"}],
        id="node-files-run-agent",
    ),
    pytest.param(
        Area.REGISTRIES,
        1,
        1,
        [SHOP, deployment("web")],
        [
            SHOP,
            deployment("web"),
            {"apiVersion": "policy.sigstore.dev/v1beta1", "kind": "ClusterImagePolicy", "metadata": {"name": "signed"}},
        ],
        id="registries-walk-signatures",
    ),
]


@pytest.mark.parametrize(("which", "stage", "index", "failing", "passing"), CASES)
def test_criterion(
    tmp_path: Path, which: Area, stage: int, index: int, failing: list[dict[str, Any]], passing: list[dict[str, Any]]
) -> None:
    bad = area(card(tmp_path, failing), which).stages[stage].criteria[index]
    good = area(card(tmp_path, passing), which).stages[stage].criteria[index]
    assert bad.met is Met.NOT_MET, bad.evidence
    assert good.met is Met.MET, good.evidence


def test_the_cases_cover_every_area() -> None:
    covered = {case.values[0] for case in CASES}
    walked_through = {Area.CONTAINER_PRIVILEGES, Area.EAST_WEST, Area.GITOPS}  # test_scorecard.py
    # Control plane and authentication rules judge static pods, cloud descriptions and kubeconfigs,
    # which tests/rules/CP-* and AU-* fixtures cover; their criteria are "the rules pass".
    by_rules_only = {Area.CONTROL_PLANE, Area.AUTHENTICATION}
    assert covered | walked_through | by_rules_only == set(Area)
