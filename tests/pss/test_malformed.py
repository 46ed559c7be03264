"""Malformed input: never an exception, never an allowed pod by accident."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.pss import LEVELS, checks_for, evaluate_pod, parse_version
from tests.pss.pods import evaluate, hardened


def _mutated(path: tuple[Any, ...], value: object) -> dict[str, Any]:
    pod = hardened()
    target: Any = pod
    for key in path[:-1]:
        target = target.setdefault(key, {}) if isinstance(target, dict) else target[key]
    target[path[-1]] = value
    return pod


CTR = ("spec", "containers", 0)
SC = (*CTR, "securityContext")
POD_SC = ("spec", "securityContext")

# (path, malformed value, level, version, check that must deny)
CASES: list[tuple[tuple[Any, ...], object, str, str, str]] = [
    (("spec", "containers"), "nginx", "baseline", "latest", "privileged"),
    (CTR, "nginx", "baseline", "latest", "hostPorts"),
    (SC, ["privileged"], "baseline", "latest", "privileged"),
    ((*SC, "privileged"), "true", "baseline", "latest", "privileged"),
    ((*SC, "privileged"), 1, "baseline", "latest", "privileged"),
    ((*SC, "capabilities"), "ALL", "baseline", "latest", "capabilities_baseline"),
    ((*SC, "capabilities", "add"), "SYS_ADMIN", "baseline", "latest", "capabilities_baseline"),
    ((*SC, "capabilities", "add"), [["SYS_ADMIN"]], "baseline", "latest", "capabilities_baseline"),
    ((*SC, "capabilities", "drop"), "ALL", "restricted", "latest", "capabilities_restricted"),
    ((*SC, "capabilities", "drop"), ["ALL", 3], "restricted", "latest", "capabilities_restricted"),
    ((*CTR, "ports"), {"hostPort": 80}, "baseline", "latest", "hostPorts"),
    ((*CTR, "ports", 0, "hostPort"), "80", "baseline", "latest", "hostPorts"),
    ((*CTR, "ports", 0, "hostPort"), True, "baseline", "latest", "hostPorts"),
    (("spec", "hostNetwork"), "yes", "baseline", "latest", "hostNamespaces"),
    (("spec", "volumes"), {"name": "x", "hostPath": {}}, "baseline", "latest", "hostPathVolumes"),
    (("spec", "volumes", 0), "hostPath", "restricted", "latest", "restrictedVolumes"),
    (("spec", "volumes", 0, "emptyDir"), "yes", "restricted", "latest", "restrictedVolumes"),
    (
        ("metadata", "annotations"),
        ["container.apparmor.security.beta.kubernetes.io/app"],
        "baseline",
        "latest",
        "appArmorProfile",
    ),
    (
        ("metadata", "annotations", "container.apparmor.security.beta.kubernetes.io/app"),
        5,
        "baseline",
        "latest",
        "appArmorProfile",
    ),
    (
        ("metadata", "annotations", "seccomp.security.alpha.kubernetes.io/pod"),
        None,
        "baseline",
        "v1.0",
        "seccompProfile_baseline",
    ),
    ((*SC, "appArmorProfile"), "Unconfined", "baseline", "latest", "appArmorProfile"),
    ((*SC, "appArmorProfile", "type"), ["Unconfined"], "baseline", "latest", "appArmorProfile"),
    ((*SC, "seLinuxOptions"), "spc_t", "baseline", "latest", "seLinuxOptions"),
    ((*SC, "seLinuxOptions", "user"), 7, "baseline", "latest", "seLinuxOptions"),
    ((*SC, "procMount"), 0, "baseline", "latest", "procMount"),
    ((*SC, "seccompProfile"), "RuntimeDefault", "baseline", "latest", "seccompProfile_baseline"),
    ((*SC, "seccompProfile", "type"), 1, "restricted", "latest", "seccompProfile_restricted"),
    (POD_SC, "restricted", "baseline", "latest", "sysctls"),
    ((*POD_SC, "sysctls"), {"kernel.msgmax": "1"}, "baseline", "latest", "sysctls"),
    ((*POD_SC, "sysctls"), ["kernel.msgmax"], "baseline", "latest", "sysctls"),
    ((*POD_SC, "windowsOptions"), "hostProcess", "baseline", "latest", "windowsHostProcess"),
    ((*SC, "windowsOptions", "hostProcess"), "true", "baseline", "latest", "windowsHostProcess"),
    ((*CTR, "livenessProbe"), "http://10.0.0.1/", "baseline", "latest", "hostProbesAndHostLifecycle"),
    ((*CTR, "lifecycle"), ["preStop"], "baseline", "latest", "hostProbesAndHostLifecycle"),
    ((*CTR, "readinessProbe"), {"httpGet": {"host": 10}}, "baseline", "latest", "hostProbesAndHostLifecycle"),
    ((*SC, "allowPrivilegeEscalation"), "false", "restricted", "latest", "allowPrivilegeEscalation"),
    ((*POD_SC, "runAsNonRoot"), "true", "restricted", "latest", "runAsNonRoot"),
    ((*SC, "runAsUser"), "0", "restricted", "latest", "runAsUser"),
    ((*SC, "runAsUser"), False, "restricted", "latest", "runAsUser"),
]


@pytest.mark.parametrize(
    ("path", "value", "level", "version", "check"), CASES, ids=[f"{c[4]}-{i}" for i, c in enumerate(CASES)]
)
def test_malformed_field_denies_through_the_check_that_reads_it(
    path: tuple[Any, ...], value: object, level: Any, version: str, check: str
) -> None:
    pod = _mutated(path, value)
    if value is None:  # a non-string annotation value needs a real value to be malformed
        pod = _mutated(path, {"profile": "unconfined"})
    result = evaluate(pod, level, version)
    assert not result.allowed
    found = [v for v in result.violations if v.check == check]
    assert found, [v.message for v in result.violations]
    assert "malformed" in found[0].message


@pytest.mark.parametrize("spec", ["nginx", None, 3, ["containers"]])
def test_spec_that_is_not_an_object_is_denied_by_every_check(spec: Any) -> None:
    version = parse_version("latest")
    result = evaluate_pod({}, spec, "restricted", version)
    assert not result.allowed
    assert [v.check for v in result.violations] == [c.id for c in checks_for("restricted", version)]
    assert all("spec must be an object" in v.message for v in result.violations)
    assert evaluate_pod({}, spec, "privileged", version).allowed


@pytest.mark.parametrize(
    ("metadata", "allowed"),
    [(None, True), ({"annotations": None}, True), ("web", False), (7, False), ({"annotations": "x"}, False)],
)
def test_odd_metadata_never_raises_and_unreadable_annotations_deny(metadata: Any, allowed: bool) -> None:
    result = evaluate_pod(metadata, hardened()["spec"], "restricted", parse_version("v1.10"))
    assert result.allowed is allowed
    if not allowed:
        assert [v.check for v in result.violations] == ["appArmorProfile", "seccompProfile_baseline"]


def test_container_without_name_is_still_checked() -> None:
    result = evaluate_pod(
        {}, {"containers": [{"securityContext": {"privileged": True}}]}, "baseline", parse_version("latest")
    )
    assert [v.check for v in result.violations] == ["privileged"]
    assert result.violations[0].containers == ("",)


def test_malformed_message_names_the_path_and_value() -> None:
    pod = _mutated((*SC, "privileged"), "yes")
    (violation,) = evaluate(pod, "baseline").violations
    assert violation.message == (
        "privileged (malformed: spec.containers[0].securityContext.privileged must be a boolean, not 'yes')"
    )
    assert violation.fields == ("spec.containers[0].securityContext.privileged",)


def test_bad_level_and_version_raise_value_error() -> None:
    with pytest.raises(ValueError, match="invalid Pod Security Standards level 'strict'"):
        evaluate_pod({}, {}, "strict", parse_version("latest"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"invalid Pod Security Standards version 'v2\.1'"):
        evaluate_pod({}, {}, "baseline", "v2.1")


# Any JSON-like value, anywhere in a realistic pod, must never raise.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _paths(value: object, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.extend(_paths(item, (*prefix, index)))
    return out


_FUZZ_BASE = hardened()
_FUZZ_BASE["spec"]["containers"][0].update(
    livenessProbe={"httpGet": {"host": "", "port": 1}},
    lifecycle={"preStop": {"tcpSocket": {"host": "", "port": 1}}},
)
_FUZZ_BASE["spec"]["securityContext"].update(
    sysctls=[{"name": "kernel.shm_rmid_forced", "value": "1"}],
    seLinuxOptions={"type": "container_t"},
    windowsOptions={"hostProcess": False},
    appArmorProfile={"type": "RuntimeDefault"},
)
_FUZZ_BASE["metadata"]["annotations"]["container.apparmor.security.beta.kubernetes.io/app"] = "runtime/default"
_FUZZ_BASE["metadata"]["annotations"]["seccomp.security.alpha.kubernetes.io/pod"] = "runtime/default"
_FUZZ_PATHS = _paths(_FUZZ_BASE)


@settings(max_examples=400, deadline=None)
@given(
    path=st.sampled_from(_FUZZ_PATHS),
    value=JSON,
    level=st.sampled_from(LEVELS),
    minor=st.integers(0, 40),
)
def test_any_value_anywhere_never_raises(path: tuple[Any, ...], value: object, level: Any, minor: int) -> None:
    pod = copy.deepcopy(_FUZZ_BASE)
    target: Any = pod
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    result = evaluate_pod(pod["metadata"], pod["spec"], level, parse_version(f"v1.{minor}"))
    assert result.allowed is (not result.violations)
    for violation in result.violations:
        assert violation.message.startswith(violation.check) or "(" in violation.message
