"""Version boundaries, above all the v1.34–v1.37 behaviour the shared fixtures do not cover."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stockade.pss import checks_for, evaluate_pod, parse_version
from tests.pss.pods import checks, evaluate, hardened, only


def _with(mutator: Any) -> dict[str, Any]:
    pod = hardened()
    mutator(pod["spec"])
    return pod


def test_hardened_pod_is_allowed_everywhere() -> None:
    pod = hardened()
    for minor in range(38):
        for level in ("baseline", "restricted"):
            assert evaluate(pod, level, f"v1.{minor}").allowed, (level, minor)


# --- hostProbesAndHostLifecycle (v1.34) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("container_patch", "field"),
    [
        ({"livenessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}}}, "livenessProbe.httpGet.host"),
        ({"readinessProbe": {"tcpSocket": {"host": "metadata", "port": 80}}}, "readinessProbe.tcpSocket.host"),
        ({"startupProbe": {"httpGet": {"host": "169.254.169.254", "port": 80}}}, "startupProbe.httpGet.host"),
        (
            {"lifecycle": {"postStart": {"httpGet": {"host": "a.example", "port": 1}}}},
            "lifecycle.postStart.httpGet.host",
        ),
        (
            {"lifecycle": {"preStop": {"tcpSocket": {"host": "b.example", "port": 1}}}},
            "lifecycle.preStop.tcpSocket.host",
        ),
    ],
)
def test_probe_and_lifecycle_hosts_are_denied_from_1_34(container_patch: dict[str, Any], field: str) -> None:
    pod = hardened()
    pod["spec"]["containers"][1].update(container_patch)
    for level in ("baseline", "restricted"):
        assert evaluate(pod, level, "v1.33").allowed
        violation = only(pod, level, "v1.34")
        assert violation.check == "hostProbesAndHostLifecycle"
        assert violation.containers == ("sidecar",)
        assert violation.fields == (f"spec.containers[1].{field}",)
        assert violation.message.startswith('probe or lifecycle host (container "sidecar" uses probe or lifecycle host')
        assert evaluate(pod, level, "latest").allowed is False


def test_probe_host_check_visits_init_and_ephemeral_containers_and_ignores_empty_hosts() -> None:
    pod = hardened()
    pod["spec"]["initContainers"][0]["startupProbe"] = {"httpGet": {"host": "x", "port": 1}}
    pod["spec"]["ephemeralContainers"] = [
        {
            "name": "debug",
            "image": "busybox",
            "readinessProbe": {"tcpSocket": {"host": "y", "port": 2}},
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        }
    ]
    pod["spec"]["containers"][0]["livenessProbe"] = {"httpGet": {"host": "", "port": 8080}}
    violation = only(pod, "baseline", "v1.34")
    assert violation.containers == ("init", "debug")
    assert violation.message == (
        'probe or lifecycle host (containers "init", "debug" use probe or lifecycle hosts "x", "y")'
    )


# --- hostUsers: false relaxations and procMount_restricted (v1.35) -------------------------------


def _userns(pod: dict[str, Any]) -> dict[str, Any]:
    pod = copy.deepcopy(pod)
    pod["spec"]["hostUsers"] = False
    return pod


def test_proc_mount_unmasked_baseline_relaxed_for_user_namespaces_from_1_35() -> None:
    pod = hardened()
    pod["spec"]["containers"][0]["securityContext"]["procMount"] = "Unmasked"
    assert checks(pod, "baseline", "v1.35") == ["procMount"]
    assert checks(_userns(pod), "baseline", "v1.34") == ["procMount"]
    for version in ("v1.35", "v1.36", "v1.37", "latest"):
        assert evaluate(_userns(pod), "baseline", version).allowed


def test_proc_mount_restricted_replaces_proc_mount_from_1_35_without_relaxation() -> None:
    pod = _userns(hardened())
    pod["spec"]["containers"][0]["securityContext"]["procMount"] = "Unmasked"
    assert checks(pod, "restricted", "v1.34") == ["procMount"]
    violation = only(pod, "restricted", "v1.35")
    assert violation.check == "procMount_restricted"
    assert violation.message == 'procMount (container "app" must not set securityContext.procMount to "Unmasked")'
    ids = [info.id for info in checks_for("restricted", parse_version("v1.35"))]
    assert "procMount_restricted" in ids
    assert "procMount" not in ids
    assert "procMount" in [info.id for info in checks_for("restricted", parse_version("v1.34"))]


@pytest.mark.parametrize("field", ["runAsNonRoot", "runAsUser"])
def test_run_as_root_relaxed_for_user_namespaces_from_1_35(field: str) -> None:
    pod = hardened()
    sc = pod["spec"]["containers"][0]["securityContext"]
    if field == "runAsNonRoot":
        sc["runAsNonRoot"] = False
    else:
        sc["runAsUser"] = 0
    assert checks(_userns(pod), "restricted", "v1.34") == [field]
    assert checks(pod, "restricted", "v1.35") == [field]
    assert evaluate(_userns(pod), "restricted", "v1.35").allowed
    assert evaluate(_userns(pod), "restricted", "latest").allowed


def test_host_users_relaxation_needs_a_real_false() -> None:
    pod = hardened()
    pod["spec"]["containers"][0]["securityContext"]["runAsUser"] = 0
    for not_false in ("false", 0, None, True):
        pod["spec"]["hostUsers"] = not_false
        assert checks(pod, "restricted", "v1.35") == ["runAsUser"], not_false


def test_user_namespaces_do_not_relax_other_checks() -> None:
    pod = _userns(hardened())
    pod["spec"]["containers"][0]["securityContext"]["capabilities"] = {"drop": ["ALL"], "add": ["SYS_ADMIN"]}
    assert checks(pod, "baseline", "latest") == ["capabilities_baseline"]
    assert checks(pod, "restricted", "latest") == ["capabilities_restricted"]


# --- sysctls (v1.27, v1.29, v1.32, v1.37) --------------------------------------------------------


@pytest.mark.parametrize(
    ("sysctl", "since"),
    [
        ("kernel.shm_rmid_forced", 0),
        ("net.ipv4.ip_unprivileged_port_start", 0),
        ("net.ipv4.ip_local_reserved_ports", 27),
        ("net.ipv4.tcp_keepalive_time", 29),
        ("net.ipv4.tcp_fin_timeout", 29),
        ("net.ipv4.tcp_keepalive_intvl", 29),
        ("net.ipv4.tcp_keepalive_probes", 29),
        ("net.ipv4.tcp_rmem", 32),
        ("net.ipv4.tcp_wmem", 32),
        ("net.ipv4.tcp_slow_start_after_idle", 37),
        ("net.ipv4.tcp_notsent_lowat", 37),
    ],
)
def test_sysctl_allow_list_grows_by_version(sysctl: str, since: int) -> None:
    pod = hardened()
    pod["spec"]["securityContext"]["sysctls"] = [{"name": sysctl, "value": "1"}]
    for minor in range(38):
        assert evaluate(pod, "baseline", f"v1.{minor}").allowed is (minor >= since), minor
    assert evaluate(pod, "restricted", "latest").allowed


def test_unsafe_sysctl_message() -> None:
    pod = hardened()
    pod["spec"]["securityContext"]["sysctls"] = [
        {"name": "kernel.msgmax", "value": "1"},
        {"name": "net.ipv4.tcp_syncookies", "value": "1"},
        {"name": "vm.swappiness", "value": "1"},
    ]
    violation = only(pod, "baseline", "latest")
    assert violation.message == "forbidden sysctls (kernel.msgmax, vm.swappiness)"
    assert violation.fields == ("spec.securityContext.sysctls[0].name", "spec.securityContext.sysctls[2].name")


# --- SELinux (v1.31), seccomp (v1.19), capabilities (v1.22), runAsUser (v1.23) -------------------


def test_selinux_container_engine_t_allowed_from_1_31() -> None:
    pod = _with(lambda s: s["securityContext"].update(seLinuxOptions={"type": "container_engine_t"}))
    assert checks(pod, "baseline", "v1.30") == ["seLinuxOptions"]
    assert evaluate(pod, "baseline", "v1.31").allowed


def test_selinux_user_and_role_are_forbidden() -> None:
    pod = _with(lambda s: s["containers"][0]["securityContext"].update(seLinuxOptions={"user": "u", "role": "r"}))
    violation = only(pod, "baseline")
    assert violation.message == (
        'seLinuxOptions (container "app" set forbidden securityContext.seLinuxOptions: '
        "user may not be set; role may not be set)"
    )


def test_seccomp_annotations_apply_before_1_19_and_fields_after() -> None:
    annotated = hardened()
    annotated["metadata"]["annotations"]["seccomp.security.alpha.kubernetes.io/pod"] = "unconfined"
    assert checks(annotated, "baseline", "v1.18") == ["seccompProfile_baseline"]
    assert checks(annotated, "restricted", "v1.18") == ["seccompProfile_baseline"]
    assert evaluate(annotated, "baseline", "v1.19").allowed
    fielded = _with(lambda s: s["containers"][0]["securityContext"].update(seccompProfile={"type": "Unconfined"}))
    assert evaluate(fielded, "baseline", "v1.18").allowed
    assert checks(fielded, "baseline", "v1.19") == ["seccompProfile_baseline"]
    assert checks(fielded, "restricted", "v1.19") == ["seccompProfile_restricted"]


def test_seccomp_container_annotation_counts_only_for_existing_containers() -> None:
    pod = hardened()
    annotations = pod["metadata"]["annotations"]
    annotations["container.seccomp.security.alpha.kubernetes.io/ghost"] = "unconfined"
    annotations["container.seccomp.security.alpha.kubernetes.io/app"] = "docker/default"
    assert evaluate(pod, "baseline", "v1.0").allowed
    annotations["container.seccomp.security.alpha.kubernetes.io/init"] = "unconfined"
    violation = only(pod, "baseline", "v1.0")
    assert violation.containers == ("init",)


def test_capabilities_restricted_starts_at_1_22_and_replaces_baseline() -> None:
    pod = _with(lambda s: s["containers"][0]["securityContext"].update(capabilities={"add": ["SYS_ADMIN"]}))
    assert checks(pod, "restricted", "v1.21") == ["capabilities_baseline"]
    assert checks(pod, "restricted", "v1.22") == ["capabilities_restricted"]
    chown = _with(
        lambda s: s["containers"][0]["securityContext"].update(capabilities={"drop": ["ALL"], "add": ["CHOWN"]})
    )
    assert evaluate(chown, "baseline", "latest").allowed
    assert checks(chown, "restricted", "latest") == ["capabilities_restricted"]


def test_run_as_user_zero_denied_from_1_23() -> None:
    pod = _with(lambda s: s["securityContext"].update(runAsUser=0))
    assert evaluate(pod, "restricted", "v1.22").allowed
    assert only(pod, "restricted", "v1.23").message == "runAsUser=0 (pod must not set runAsUser=0)"


def test_allow_privilege_escalation_starts_at_1_8() -> None:
    pod = _with(lambda s: s["containers"][0]["securityContext"].pop("allowPrivilegeEscalation"))
    assert evaluate(pod, "restricted", "v1.7").allowed
    assert checks(pod, "restricted", "v1.8") == ["allowPrivilegeEscalation"]


# --- Windows pods (v1.25) ------------------------------------------------------------------------


def _windows_pod() -> dict[str, Any]:
    return {
        "metadata": {},
        "spec": {
            "os": {"name": "windows"},
            "securityContext": {"runAsNonRoot": True},
            "containers": [{"name": "win", "image": "mcr.microsoft.com/windows/nanoserver"}],
        },
    }


def test_windows_pods_are_exempt_from_linux_only_restricted_checks_from_1_25() -> None:
    pod = _windows_pod()
    assert checks(pod, "restricted", "v1.24") == [
        "allowPrivilegeEscalation",
        "seccompProfile_restricted",
        "capabilities_restricted",
    ]
    assert evaluate(pod, "restricted", "v1.25").allowed
    pod["spec"]["os"]["name"] = "linux"
    assert not evaluate(pod, "restricted", "v1.25").allowed


def test_windows_exemption_keeps_the_baseline_rule_it_replaces() -> None:
    pod = _windows_pod()
    pod["spec"]["containers"][0]["securityContext"] = {
        "capabilities": {"add": ["SYS_ADMIN"]},
        "seccompProfile": {"type": "Unconfined"},
    }
    assert checks(pod, "baseline", "latest") == ["capabilities_baseline", "seccompProfile_baseline"]
    assert checks(pod, "restricted", "latest") == ["seccompProfile_restricted", "capabilities_restricted"]


def test_windows_pods_still_need_run_as_non_root() -> None:
    pod = _windows_pod()
    del pod["spec"]["securityContext"]
    assert checks(pod, "restricted", "latest") == ["runAsNonRoot"]


# --- AppArmor ------------------------------------------------------------------------------------


def test_apparmor_annotations_and_fields() -> None:
    pod = hardened()
    pod["metadata"]["annotations"]["container.apparmor.security.beta.kubernetes.io/app"] = "localhost/"
    assert evaluate(pod, "baseline", "v1.0").allowed
    pod["metadata"]["annotations"]["container.apparmor.security.beta.kubernetes.io/app"] = "unconfined"
    assert checks(pod, "baseline", "v1.0") == ["appArmorProfile"]
    field = _with(lambda s: s["securityContext"].update(appArmorProfile={"type": "Unconfined"}))
    # The field check was folded into the 1.0 revision upstream, so it applies at every version.
    for version in ("v1.0", "v1.29", "v1.30", "latest"):
        violation = only(field, "baseline", version)
        assert (
            violation.message == 'forbidden AppArmor profile (pod must not set AppArmor profile type to "Unconfined")'
        )
    localhost = _with(lambda s: s["containers"][0]["securityContext"].update(appArmorProfile={"type": "Localhost"}))
    assert evaluate(localhost, "restricted").allowed


# --- versions ------------------------------------------------------------------------------------


def test_latest_and_future_minors_evaluate_as_1_37() -> None:
    pod = hardened()
    pod["spec"]["securityContext"]["sysctls"] = [{"name": "net.ipv4.tcp_notsent_lowat", "value": "1"}]
    for version in ("latest", "v1.37", "1.37", "v1.40"):
        assert evaluate(pod, "baseline", version).allowed, version
    assert not evaluate(pod, "baseline", "v1.36").allowed
    assert checks_for("restricted", parse_version("latest")) == checks_for("restricted", parse_version("v1.99"))


def test_privileged_level_allows_anything() -> None:
    result = evaluate_pod({}, {"hostPID": True, "containers": [{"name": "x"}]}, "privileged", parse_version("v1.0"))
    assert result.allowed
    assert result.violations == ()
    assert checks_for("privileged", parse_version("latest")) == ()
