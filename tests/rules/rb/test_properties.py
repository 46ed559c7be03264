"""Properties of the RB rules: against a naive authorizer on random roles, and on the benchmark's generated cluster."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchmarks.gen_rbac_cluster import generate
from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.model.finding import Severity, Status
from stockade.rbac import Request
from tests.helpers import scan_objects
from tests.rbac import oracle
from tests.rbac.builders import cluster_role, cluster_role_binding, role, role_binding, user

Raw = dict[str, Any]
RB_IDS = [f"RB-{n:03d}" for n in range(1, 19)]


@dataclass(frozen=True)
class Probe:
    """Requests that a rule's docstring calls the danger. ``named``: a rule limited to named objects
    still grants it (where the request carries a name at all: never for top-level create, list, watch)."""

    verbs: tuple[str, ...]
    resource: str
    subresource: str = ""
    group: str = ""
    named: bool = False
    cluster_only: bool = False


WRITE = ("create", "update", "patch")
WORKLOADS = [
    Probe(WRITE, "replicationcontrollers", named=True),
    *(Probe(WRITE, r, group="apps", named=True) for r in ("deployments", "daemonsets", "statefulsets", "replicasets")),
    *(Probe(WRITE, r, group="batch", named=True) for r in ("jobs", "cronjobs")),
]
PROBES: dict[str, list[Probe]] = {
    "RB-003": [Probe(("get", "list", "watch"), "secrets")],
    "RB-004": [
        Probe(("create", "get"), "pods", "exec"),
        Probe(("create", "get"), "pods", "attach"),
        Probe(("create",), "pods", "portforward"),
        Probe(("update", "patch"), "pods", "ephemeralcontainers"),
    ],
    "RB-005": [
        Probe(("create",), "pods"),
        Probe(("update", "patch"), "pods", named=True),  # replacing a running pod's image
        *WORKLOADS,
    ],
    "RB-008": [Probe(("create",), "serviceaccounts", "token", named=True)],
    "RB-009": [Probe(("get", "create"), "nodes", "proxy", named=True, cluster_only=True)],
    "RB-012": [Probe(("create",), "persistentvolumes", cluster_only=True)],
}

policy_rules = st.builds(
    lambda verbs, groups, resources, names: {
        "verbs": verbs,
        "apiGroups": groups,
        "resources": resources,
        **({"resourceNames": names} if names else {}),
    },
    st.lists(
        st.sampled_from(["get", "list", "watch", "create", "update", "patch", "delete", "*"]), min_size=1, max_size=3
    ),
    st.lists(st.sampled_from(["", "apps", "batch", "*"]), min_size=1, max_size=2),
    st.lists(
        st.sampled_from(
            [
                "secrets",
                "pods",
                "pods/exec",
                "pods/attach",
                "pods/portforward",
                "pods/ephemeralcontainers",
                "pods/*",
                "*/exec",
                "deployments",
                "daemonsets",
                "cronjobs",
                "serviceaccounts/token",
                "*/token",
                "nodes/proxy",
                "persistentvolumes",
                "*",
            ]
        ),
        min_size=1,
        max_size=3,
    ),
    st.lists(st.sampled_from(["a", "b"]), max_size=1),
)


def _allows(rule: Raw, probe: Probe, namespace: str | None) -> bool:
    for verb in probe.verbs:
        names = [""]
        if probe.named and (probe.subresource or verb not in ("create", "list", "watch")):
            names += rule.get("resourceNames") or []
        if any(
            oracle.rule_ok(rule, Request(verb, probe.resource, probe.subresource, probe.group, name, namespace))
            for name in names
        ):
            return True
    return False


@settings(max_examples=150, deadline=None)
@given(st.lists(policy_rules, min_size=1, max_size=3), st.booleans())
def test_danger_rules_report_exactly_the_rules_the_authorizer_reads_as_the_danger(
    rules: list[Raw], cluster_wide: bool
) -> None:
    alice = user("alice")
    namespace = None if cluster_wide else "dev"
    if cluster_wide:
        raws, target = [cluster_role("r", *rules), cluster_role_binding("b", "r", alice)], "ClusterRole/r"
    else:
        raws, target = [role("r", "dev", *rules), role_binding("b", "dev", "Role", "r", alice)], "Role/dev/r"
    result = scan_objects(raws, list(PROBES))
    assert result.errors == []
    for rule_id, probes in PROBES.items():
        found = {f.path for f in result.findings if f.rule_id == rule_id and f.status is Status.FAIL}
        assert all(
            f.resource.display == target and f.severity is not Severity.LOW
            for f in result.findings
            if f.rule_id == rule_id
        ), rule_id
        expected = {
            f"rules[{i}]"
            for i, rule in enumerate(rules)
            if any(_allows(rule, p, namespace) for p in probes if cluster_wide or not p.cluster_only)
        }
        assert found == expected, (rule_id, rules)


def test_the_generated_cluster_scans_without_errors_findings_on_kubernetes_objects_or_drift() -> None:
    raws = generate(namespaces=30, cluster_roles=80, cluster_role_bindings=60)
    by_display = {
        "/".join(filter(None, (r["kind"], r["metadata"].get("namespace"), r["metadata"]["name"]))): r for r in raws
    }
    first = scan_objects(raws, RB_IDS)
    assert first.errors == [] and [f for f in first.findings if f.status is Status.ERROR] == []
    failed = [f for f in first.findings if f.status is Status.FAIL]
    assert {f.rule_id for f in failed} >= {"RB-001", "RB-003", "RB-004", "RB-005", "RB-006", "RB-017"}
    assert set(first.passes.by_rule) == set(RB_IDS)
    for finding in failed:
        name = finding.resource.name
        assert not name.startswith("system:") and name not in ("cluster-admin", "admin", "edit", "view"), finding
        if finding.path.startswith("rules["):
            position = int(finding.path.removeprefix("rules[").removesuffix("]"))
            assert isinstance(by_display[finding.resource.display]["rules"][position], dict), finding
    again = scan_objects(raws, RB_IDS)
    assert [f.fingerprint for f in again.findings] == [f.fingerprint for f in first.findings]
