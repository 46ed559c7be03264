"""The WL rules that overlap a Pod Security check agree with the evaluator: one truth.

Every upstream fixture of policy v1.33 (both levels, pass and fail, read in place) is scanned with
the overlapping WL rules and evaluated by the PSS evaluator at v1.33 and at ``latest``. Paths of a
bare Pod are the evaluator's dotted field paths, so most relations compare exact field sets.

Relations asserted (⇔ both ways, ⇒ one way; "fields" are the PSS violation's fields):

- WL-001 privileged-container     ⇔ privileged: same fields.
- WL-006/7/8 hostPID/IPC/Network  ⇔ hostNamespaces: WL-00x fires ⇔ ``spec.<field>`` is in its fields.
- WL-009 host-path-volume         ⇔ hostPathVolumes: same fields.
- WL-010 host-port                ⇔ hostPorts: same fields.
- WL-004 dangerous-capabilities   ⇒ capabilities_baseline: WL-004's paths are among its fields,
  and equal to the fields whose capability, upper-cased and without ``CAP_``, the baseline does
  not allow (WL-004 reads names as the runtime does); its grades hold nothing the baseline allows.
- WL-002 privilege-escalation     ⇔ allowPrivilegeEscalation (restricted): same containers.
- WL-003 runs-as-root             ⇒ runAsNonRoot or runAsUser (restricted) denies the pod; and a
  container the runAsUser check names is flagged by WL-003 as UID 0. WL-003 is narrower: a
  non-zero runAsUser satisfies it, while restricted wants runAsNonRoot itself.
- WL-012 seccomp-unconfined       ⇒ seccompProfile_restricted denies the pod (unset counts, as
  restricted counts it); a container that seccompProfile_baseline names (explicit Unconfined) is
  flagged by WL-012 as Unconfined.
- WL-013 apparmor-unconfined      : flagged as Unconfined ⇒ appArmorProfile denies the pod; a
  container appArmorProfile names is flagged by WL-013. (Unset is allowed by PSS, so WL-013's
  low-severity "no profile" finding has no PSS counterpart.)

A few hand-made pods cover what v1.33 fixtures cannot: user namespaces and Windows pods under the
newest policy, where the evaluator relaxes checks the WL rules must relax too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest

from stockade.engine.evaluate import evaluate
from stockade.model.finding import Severity, Status
from stockade.pss import PssResult, evaluate_pod, parse_version
from stockade.pss.baseline import CAPABILITIES_ALLOWED_1_0
from stockade.rules import load_rules
from stockade.rules.wl.wl004_dangerous_capabilities import CAPABILITY_SEVERITY
from tests.helpers import inventory_from_raw
from tests.pss.fixtures import discover

RULES = load_rules()
WL = [RULES[i] for i in ("WL-001", "WL-002", "WL-003", "WL-004", "WL-006", "WL-007", "WL-008", "WL-009", "WL-010")]
WL += [RULES["WL-012"], RULES["WL-013"]]
FIXTURES = [f for f in discover() if f.minor == 33]
VERSIONS = ("v1.33", "latest")


@dataclass(frozen=True)
class Hit:
    path: str
    container: str | None
    severity: Severity


def scan(pod: dict[str, Any]) -> dict[str, list[Hit]]:
    result = evaluate(inventory_from_raw([pod]), WL)
    assert not result.errors
    hits: dict[str, list[Hit]] = defaultdict(list)
    for finding in result.findings:
        assert finding.status is Status.FAIL, finding
        hits[finding.rule_id].append(Hit(finding.path, finding.container, finding.severity))
    return hits


def violation_of(result: PssResult, check: str) -> tuple[set[str], set[str]] | None:
    """(fields, containers) of ``check``'s violation, or None when it passes."""
    for violation in result.violations:
        if violation.check == check:
            return set(violation.fields), set(violation.containers)
    return None


def fields(result: PssResult, check: str) -> set[str]:
    found = violation_of(result, check)
    return found[0] if found else set()


def containers(result: PssResult, check: str) -> set[str]:
    found = violation_of(result, check)
    return found[1] if found else set()


def assert_agreement(pod: dict[str, Any], version: str) -> None:
    hits = scan(pod)
    metadata, spec = pod.get("metadata") or {}, pod["spec"]
    base = evaluate_pod(metadata, spec, "baseline", parse_version(version))
    strict = evaluate_pod(metadata, spec, "restricted", parse_version(version))

    def paths(rule_id: str) -> set[str]:
        return {h.path for h in hits[rule_id]}

    def names(rule_id: str, severity: Severity | None = None) -> set[str]:
        return {h.container or "" for h in hits[rule_id] if severity is None or h.severity is severity}

    # ⇔ on exact fields.
    assert paths("WL-001") == fields(base, "privileged")
    assert paths("WL-009") == fields(base, "hostPathVolumes")
    assert paths("WL-010") == fields(base, "hostPorts")
    for rule_id, key in (("WL-006", "hostPID"), ("WL-007", "hostIPC"), ("WL-008", "hostNetwork")):
        assert paths(rule_id) == {f"spec.{key}"} & fields(base, "hostNamespaces"), rule_id

    # WL-004 ⇒ capabilities_baseline, equal on the capabilities outside the baseline set.
    cap_fields = fields(base, "capabilities_baseline")
    assert paths("WL-004") <= cap_fields
    outside = {f for f in cap_fields if _capability_at(spec, f) not in (None, *CAPABILITIES_ALLOWED_1_0)}
    assert paths("WL-004") == outside

    # WL-002 ⇔ allowPrivilegeEscalation, per container.
    assert names("WL-002") == containers(strict, "allowPrivilegeEscalation")

    # WL-003 ⇒ runAsNonRoot ∨ runAsUser; runAsUser's containers ⊆ WL-003's UID-0 findings.
    if hits["WL-003"]:
        assert violation_of(strict, "runAsNonRoot") or violation_of(strict, "runAsUser")
    assert containers(strict, "runAsUser") <= names("WL-003", Severity.HIGH)

    # WL-012 ⇒ seccompProfile_restricted; explicit Unconfined containers ⊆ WL-012's Unconfined findings.
    if hits["WL-012"]:
        assert violation_of(strict, "seccompProfile_restricted")
    unconfined = _seccomp_unconfined_containers(spec)
    assert unconfined <= names("WL-012", Severity.HIGH)
    if violation_of(base, "seccompProfile_baseline"):
        assert unconfined or _pod_seccomp_unconfined(spec)

    # WL-013 (Unconfined) ⇒ appArmorProfile; its named containers ⊆ WL-013's findings.
    if names("WL-013", Severity.MEDIUM):
        assert violation_of(base, "appArmorProfile")
    if not _windows(spec):
        assert containers(base, "appArmorProfile") <= names("WL-013")


def _capability_at(spec: dict[str, Any], dotted: str) -> str | None:
    # e.g. spec.containers[0].securityContext.capabilities.add[1]
    head, _, tail = dotted.partition(".securityContext.capabilities.add[")
    kind, _, index = head.removeprefix("spec.").partition("[")
    container = spec[kind][int(index.rstrip("]"))]
    cap = container["securityContext"]["capabilities"]["add"][int(tail.rstrip("]"))]
    return str(cap).upper().removeprefix("CAP_") if isinstance(cap, str) else None


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for kind in ("initContainers", "containers", "ephemeralContainers") for c in spec.get(kind) or []]


def _seccomp_unconfined_containers(spec: dict[str, Any]) -> set[str]:
    return {
        c["name"]
        for c in _containers(spec)
        if ((c.get("securityContext") or {}).get("seccompProfile") or {}).get("type") == "Unconfined"
    }


def _pod_seccomp_unconfined(spec: dict[str, Any]) -> bool:
    return ((spec.get("securityContext") or {}).get("seccompProfile") or {}).get("type") == "Unconfined"


def _windows(spec: dict[str, Any]) -> bool:
    return (spec.get("os") or {}).get("name") == "windows"


def test_the_v133_fixture_set_is_complete() -> None:
    assert len(FIXTURES) == 29 + 11 + 69 + 19


def test_graded_capabilities_are_all_outside_the_baseline_set() -> None:
    assert not set(CAPABILITY_SEVERITY) & CAPABILITIES_ALLOWED_1_0


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.id)
def test_wl_rules_agree_with_the_evaluator_on_fixtures(fixture: Any, version: str) -> None:
    assert_agreement(fixture.load(), version)


def _pod(spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}, "spec": spec}


_OPEN = {"name": "app", "image": "app:1"}
HAND_MADE = {
    # A user namespace: the newest policy allows root inside it, and so must WL-003.
    "user-namespace-root": _pod({"hostUsers": False, "containers": [dict(_OPEN)]}),
    "user-namespace-uid-0": _pod(
        {"hostUsers": False, "securityContext": {"runAsUser": 0}, "containers": [dict(_OPEN)]}
    ),
    # Windows pods: no Linux-only requirement (privilege escalation, seccomp) applies.
    "windows-bare": _pod({"os": {"name": "windows"}, "containers": [dict(_OPEN)]}),
    "windows-unconfined": _pod(
        {
            "os": {"name": "windows"},
            "containers": [{**_OPEN, "securityContext": {"seccompProfile": {"type": "Unconfined"}}}],
        }
    ),
    "linux-explicit": _pod({"os": {"name": "linux"}, "containers": [dict(_OPEN)]}),
    "empty-host-path": _pod({"containers": [dict(_OPEN)], "volumes": [{"name": "h", "hostPath": {}}]}),
    "many-capabilities": _pod(
        {
            "containers": [
                {**_OPEN, "securityContext": {"capabilities": {"add": ["SYS_ADMIN", "MKNOD", "NET_RAW", "SYS_NICE"]}}}
            ]
        }
    ),
    "pod-unconfined-container-override": _pod(
        {
            "securityContext": {"seccompProfile": {"type": "Unconfined"}},
            "containers": [{**_OPEN, "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}],
        }
    ),
}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", sorted(HAND_MADE))
def test_wl_rules_agree_with_the_evaluator_on_edge_pods(name: str, version: str) -> None:
    assert_agreement(HAND_MADE[name], version)


def test_user_namespace_root_is_flagged_only_before_the_policy_relaxed_it() -> None:
    pod = HAND_MADE["user-namespace-root"]
    assert [v.check for v in evaluate_pod({}, pod["spec"], "restricted", parse_version("latest")).violations] == [
        "allowPrivilegeEscalation",
        "seccompProfile_restricted",
        "capabilities_restricted",
    ]
    assert not scan(pod)["WL-003"]


def test_the_fixtures_exercise_every_rule_in_the_relations() -> None:
    fired: set[str] = set()
    for fixture in FIXTURES:
        fired |= {rule_id for rule_id, hits in scan(fixture.load()).items() if hits}
    assert fired == {rule.id for rule in WL}
