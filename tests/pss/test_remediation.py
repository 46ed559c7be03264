"""Remediation patches: applied to the pod, they clear the violation they belong to."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from stockade.pss import Level
from tests.pss.fixtures import discover
from tests.pss.pods import apply_patch, checks, evaluate, hardened, only, remediate

Mutator = Callable[[dict[str, Any]], object]


def _sc(index: int = 0) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda pod: pod["spec"]["containers"][index]["securityContext"]


CASES: list[tuple[str, Level, str, Mutator]] = [
    ("hostNamespaces", "baseline", "latest", lambda p: p["spec"].update(hostNetwork=True, hostPID=True)),
    ("privileged", "baseline", "latest", lambda p: _sc()(p).update(privileged=True)),
    (
        "capabilities_baseline",
        "baseline",
        "latest",
        lambda p: _sc()(p)["capabilities"].update(add=["NET_RAW", "CHOWN"]),
    ),
    (
        "hostPathVolumes",
        "baseline",
        "latest",
        lambda p: p["spec"]["volumes"].append({"name": "h", "hostPath": {"path": "/"}}),
    ),
    ("hostPorts", "baseline", "latest", lambda p: p["spec"]["containers"][0]["ports"][0].update(hostPort=80)),
    (
        "appArmorProfile",
        "baseline",
        "latest",
        lambda p: (
            p["metadata"]["annotations"].update({"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}),
            _sc(1)(p).update(appArmorProfile={"type": "Unconfined"}),
        ),
    ),
    (
        "seLinuxOptions",
        "baseline",
        "latest",
        lambda p: _sc()(p).update(seLinuxOptions={"type": "spc_t", "user": "system_u", "level": "s0:c1"}),
    ),
    ("procMount", "baseline", "latest", lambda p: _sc()(p).update(procMount="Unmasked")),
    (
        "seccompProfile_baseline",
        "baseline",
        "v1.0",
        lambda p: p["metadata"]["annotations"].update(
            {
                "seccomp.security.alpha.kubernetes.io/pod": "unconfined",
                "container.seccomp.security.alpha.kubernetes.io/app": "x",
            }
        ),
    ),
    ("seccompProfile_baseline", "baseline", "latest", lambda p: _sc()(p).update(seccompProfile={"type": "Unconfined"})),
    (
        "sysctls",
        "baseline",
        "latest",
        lambda p: p["spec"]["securityContext"].update(
            sysctls=[{"name": "kernel.msgmax", "value": "1"}, {"name": "kernel.shm_rmid_forced", "value": "1"}]
        ),
    ),
    (
        "windowsHostProcess",
        "baseline",
        "latest",
        lambda p: (
            p["spec"]["securityContext"].update(windowsOptions={"hostProcess": True}),
            _sc()(p).update(windowsOptions={"hostProcess": True}),
        ),
    ),
    (
        "hostProbesAndHostLifecycle",
        "baseline",
        "latest",
        lambda p: p["spec"]["containers"][0].update(
            livenessProbe={"httpGet": {"host": "10.0.0.1", "port": 80}},
            lifecycle={"preStop": {"tcpSocket": {"host": "a", "port": 1}}},
        ),
    ),
    (
        "restrictedVolumes",
        "restricted",
        "latest",
        lambda p: p["spec"]["volumes"].append({"name": "n", "nfs": {"server": "s", "path": "/"}}),
    ),
    ("allowPrivilegeEscalation", "restricted", "latest", lambda p: _sc()(p).pop("allowPrivilegeEscalation")),
    ("allowPrivilegeEscalation", "restricted", "latest", lambda p: _sc(1)(p).update(allowPrivilegeEscalation=True)),
    ("runAsNonRoot", "restricted", "latest", lambda p: p["spec"]["securityContext"].pop("runAsNonRoot")),
    (
        "runAsNonRoot",
        "restricted",
        "latest",
        lambda p: (p["spec"]["securityContext"].update(runAsNonRoot=False), _sc()(p).update(runAsNonRoot=False)),
    ),
    (
        "runAsUser",
        "restricted",
        "latest",
        lambda p: (p["spec"]["securityContext"].update(runAsUser=0), _sc()(p).update(runAsUser=0)),
    ),
    ("seccompProfile_restricted", "restricted", "latest", lambda p: p["spec"]["securityContext"].pop("seccompProfile")),
    (
        "seccompProfile_restricted",
        "restricted",
        "latest",
        lambda p: (
            p["spec"]["securityContext"].update(seccompProfile={"type": "Localhost", "localhostProfile": "x.json"}),
            _sc()(p).update(seccompProfile={"type": "Unconfined"}),
        ),
    ),
    (
        "capabilities_restricted",
        "restricted",
        "latest",
        lambda p: _sc()(p)["capabilities"].update(drop=["NET_RAW"], add=["NET_BIND_SERVICE", "CHOWN"]),
    ),
    ("capabilities_restricted", "restricted", "latest", lambda p: _sc(1)(p).pop("capabilities")),
    (
        "procMount_restricted",
        "restricted",
        "latest",
        lambda p: (p["spec"].update(hostUsers=False), _sc()(p).update(procMount="Unmasked")),
    ),
]


@pytest.mark.parametrize(
    ("check", "level", "version", "mutate"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_patch_clears_the_violation(check: str, level: Level, version: str, mutate: Mutator) -> None:
    pod = hardened()
    mutate(pod)
    violation = only(pod, level, version)
    assert violation.check == check
    assert violation.remediation.startswith("{")
    fixed = remediate(pod, violation)
    assert checks(fixed, level, version) == []
    # The fix introduces nothing new at the stricter level.
    assert set(checks(fixed, "restricted", version)) <= set(checks(pod, "restricted", version))


def test_privileged_patch_is_the_documented_shape() -> None:
    pod = hardened()
    pod["spec"]["containers"][0]["name"] = "x"
    pod["spec"]["containers"][0]["securityContext"]["privileged"] = True
    violation = only(pod, "baseline")
    assert violation.message == 'privileged (container "x" must not set securityContext.privileged=true)'
    assert violation.fields == ("spec.containers[0].securityContext.privileged",)
    assert violation.remediation == '{"spec":{"containers":[{"name":"x","securityContext":{"privileged":false}}]}}'


def test_volume_patch_deletes_by_name_and_keeps_others() -> None:
    pod = hardened()
    pod["spec"]["volumes"].append({"name": "root", "hostPath": {"path": "/"}})
    violation = only(pod, "baseline")
    assert json.loads(violation.remediation) == {"spec": {"volumes": [{"name": "root", "$patch": "delete"}]}}
    assert remediate(pod, violation)["spec"]["volumes"] == [{"name": "cache", "emptyDir": {}}]


def test_init_and_ephemeral_containers_are_patched_in_their_own_lists() -> None:
    pod = hardened()
    pod["spec"]["initContainers"][0]["securityContext"]["privileged"] = True
    pod["spec"]["ephemeralContainers"] = [{"name": "debug", "securityContext": {"privileged": True}}]
    violation = only(pod, "baseline")
    assert violation.containers == ("init", "debug")
    assert violation.fields == (
        "spec.initContainers[0].securityContext.privileged",
        "spec.ephemeralContainers[0].securityContext.privileged",
    )
    assert evaluate(remediate(pod, violation), "baseline").allowed


FAIL_FIXTURES = [f for f in discover() if f.verdict == "fail" and f.minor in (0, 8, 19, 22, 25, 33)]


@pytest.mark.parametrize("fixture", FAIL_FIXTURES, ids=lambda f: f.id)
def test_every_fail_fixture_is_fixed_by_its_remediations(fixture: Any) -> None:
    pod = fixture.load()
    for _ in range(3):
        result = evaluate(pod, fixture.level, fixture.version)
        if result.allowed:
            return
        for violation in result.violations:
            pod = apply_patch(pod, json.loads(violation.remediation))
    pytest.fail(f"still denied after remediation: {[v.message for v in result.violations]}")
