"""The versioned check registry and the evaluator.

Each check lists the policy versions at which its behaviour changed. For a (level, version) the
plan is: every baseline check at the newest revision not newer than the version; for restricted,
minus the baseline checks that a restricted check active at that version overrides, plus the
restricted checks active at that version. Plans are computed once and cached.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Final

from stockade.model.podspec import PodView, is_map
from stockade.pss import baseline as b
from stockade.pss import restricted as r
from stockade.pss.model import (
    LEVELS,
    CheckInfo,
    CheckViolation,
    Level,
    Malformed,
    PolicyVersion,
    PssResult,
    parse_version,
)

CheckFn = Callable[[PodView], "CheckViolation | None"]


@dataclass(frozen=True, slots=True)
class Revision:
    """The behaviour of one check from ``since`` (a 1.x minor) until the next revision."""

    since: int
    fn: CheckFn
    description: str
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CheckDef:
    id: str
    level: Level
    title: str
    revisions: tuple[Revision, ...]

    def at(self, minor: int) -> Revision | None:
        found = None
        for rev in self.revisions:
            if rev.since <= minor:
                found = rev
        return found


def _sysctl_text(allowed: frozenset[str]) -> str:
    return (
        "Only namespaced, isolated sysctls may be set in spec.securityContext.sysctls: "
        + ", ".join(sorted(allowed))
        + "."
    )


def _selinux_text(allowed: frozenset[str]) -> str:
    types = ", ".join(sorted(t for t in allowed if t))
    return (
        f"seLinuxOptions.type (pod and containers) may be unset, empty or one of {types}; "
        "seLinuxOptions.user and .role must not be set."
    )


_PROC_MOUNT_TEXT = "Containers may not set securityContext.procMount to anything but Default"

CHECKS: Final[tuple[CheckDef, ...]] = (
    CheckDef(
        "hostNamespaces",
        "baseline",
        "Host namespaces",
        (Revision(0, b.host_namespaces_1_0, "spec.hostNetwork, hostPID and hostIPC must be unset or false."),),
    ),
    CheckDef(
        "privileged",
        "baseline",
        "Privileged containers",
        (Revision(0, b.privileged_1_0, "No container may set securityContext.privileged=true."),),
    ),
    CheckDef(
        "capabilities_baseline",
        "baseline",
        "Capabilities",
        (
            Revision(
                0,
                b.capabilities_baseline_1_0,
                "securityContext.capabilities.add may only hold the container runtime's default set: "
                + ", ".join(sorted(b.CAPABILITIES_ALLOWED_1_0))
                + ".",
            ),
        ),
    ),
    CheckDef(
        "hostPathVolumes",
        "baseline",
        "HostPath volumes",
        (Revision(0, b.host_path_volumes_1_0, "No volume may be a hostPath volume."),),
    ),
    CheckDef(
        "hostPorts",
        "baseline",
        "Host ports",
        (Revision(0, b.host_ports_1_0, "Every container port's hostPort must be unset or 0."),),
    ),
    CheckDef(
        "appArmorProfile",
        "baseline",
        "AppArmor",
        (
            Revision(
                0,
                b.app_armor_profile_1_0,
                "securityContext.appArmorProfile.type (pod and containers) must be RuntimeDefault or "
                "Localhost, "
                "and container.apparmor.security.beta.kubernetes.io/* annotations must be runtime/default, "
                "localhost/* or empty.",
            ),
        ),
    ),
    CheckDef(
        "seLinuxOptions",
        "baseline",
        "SELinux",
        (
            Revision(0, b.make_selinux_options(b.SELINUX_TYPES_1_0), _selinux_text(b.SELINUX_TYPES_1_0)),
            Revision(31, b.make_selinux_options(b.SELINUX_TYPES_1_31), _selinux_text(b.SELINUX_TYPES_1_31)),
        ),
    ),
    CheckDef(
        "procMount",
        "baseline",
        "/proc mount type",
        (
            Revision(0, b.make_proc_mount("procMount", False), _PROC_MOUNT_TEXT + "."),
            Revision(
                35,
                b.make_proc_mount("procMount", True),
                _PROC_MOUNT_TEXT + ", unless the pod runs in a user namespace (spec.hostUsers: false).",
            ),
        ),
    ),
    CheckDef(
        "seccompProfile_baseline",
        "baseline",
        "Seccomp",
        (
            Revision(
                0,
                b.seccomp_profile_baseline_1_0,
                "The seccomp.security.alpha.kubernetes.io/pod and "
                "container.seccomp.security.alpha.kubernetes.io/* "
                "annotations must be runtime/default, docker/default or localhost/*.",
            ),
            Revision(
                19,
                b.seccomp_profile_baseline_1_19,
                "securityContext.seccompProfile.type (pod and containers), when set, must be RuntimeDefault "
                "or Localhost.",
            ),
        ),
    ),
    CheckDef(
        "sysctls",
        "baseline",
        "Sysctls",
        tuple(
            Revision(since, b.make_sysctls(allowed), _sysctl_text(allowed))
            for since, allowed in (
                (0, b.SYSCTLS_1_0),
                (27, b.SYSCTLS_1_27),
                (29, b.SYSCTLS_1_29),
                (32, b.SYSCTLS_1_32),
                (37, b.SYSCTLS_1_37),
            )
        ),
    ),
    CheckDef(
        "windowsHostProcess",
        "baseline",
        "HostProcess",
        (
            Revision(
                0,
                b.windows_host_process_1_0,
                "securityContext.windowsOptions.hostProcess (pod and containers) must be unset or false.",
            ),
        ),
    ),
    CheckDef(
        "hostProbesAndHostLifecycle",
        "baseline",
        "Host probes and lifecycle hooks",
        (
            Revision(
                34,
                b.host_probes_and_host_lifecycle_1_34,
                "Probes (liveness, readiness, startup) and lifecycle hooks (postStart, preStop) must not set "
                "httpGet.host or tcpSocket.host.",
            ),
        ),
    ),
    CheckDef(
        "restrictedVolumes",
        "restricted",
        "Volume types",
        (
            Revision(
                0,
                r.restricted_volumes_1_0,
                "Volumes may only be " + ", ".join(sorted(r.VOLUME_TYPES_ALLOWED)) + ".",
                ("hostPathVolumes",),
            ),
        ),
    ),
    CheckDef(
        "allowPrivilegeEscalation",
        "restricted",
        "Privilege escalation",
        (
            Revision(
                8,
                r.allow_privilege_escalation_1_8,
                "Every container must set securityContext.allowPrivilegeEscalation=false.",
            ),
            Revision(
                25,
                r.allow_privilege_escalation_1_25,
                "Every container must set securityContext.allowPrivilegeEscalation=false (Windows pods exempt).",
            ),
        ),
    ),
    CheckDef(
        "runAsNonRoot",
        "restricted",
        "Running as non-root",
        (
            Revision(
                0,
                r.run_as_non_root_1_0,
                "securityContext.runAsNonRoot must be true on the pod or on every container, and false nowhere.",
            ),
            Revision(
                35,
                r.run_as_non_root_1_35,
                "securityContext.runAsNonRoot must be true on the pod or on every container, "
                "and false nowhere, "
                "unless the pod runs in a user namespace (spec.hostUsers: false).",
            ),
        ),
    ),
    CheckDef(
        "runAsUser",
        "restricted",
        "Running as non-root user",
        (
            Revision(23, r.run_as_user_1_23, "securityContext.runAsUser (pod and containers) must not be 0."),
            Revision(
                35,
                r.run_as_user_1_35,
                "securityContext.runAsUser (pod and containers) must not be 0, unless the pod runs in a user "
                "namespace (spec.hostUsers: false).",
            ),
        ),
    ),
    CheckDef(
        "seccompProfile_restricted",
        "restricted",
        "Seccomp",
        (
            Revision(
                19,
                r.seccomp_profile_restricted_1_19,
                "securityContext.seccompProfile.type must be RuntimeDefault or Localhost on the pod "
                "or on every "
                "container, and nothing else anywhere.",
                ("seccompProfile_baseline",),
            ),
            Revision(
                25,
                r.seccomp_profile_restricted_1_25,
                "securityContext.seccompProfile.type must be RuntimeDefault or Localhost on the pod "
                "or on every "
                "container, and nothing else anywhere (Windows pods exempt).",
                ("seccompProfile_baseline",),
            ),
        ),
    ),
    CheckDef(
        "capabilities_restricted",
        "restricted",
        "Capabilities",
        (
            Revision(
                22,
                r.capabilities_restricted_1_22,
                'Every container must drop ["ALL"] capabilities and may add back only NET_BIND_SERVICE.',
                ("capabilities_baseline",),
            ),
            Revision(
                25,
                r.capabilities_restricted_1_25,
                'Every container must drop ["ALL"] capabilities and may add back only NET_BIND_SERVICE '
                "(Windows pods exempt).",
                ("capabilities_baseline",),
            ),
        ),
    ),
    CheckDef(
        "procMount_restricted",
        "restricted",
        "/proc mount type",
        (
            Revision(
                35,
                b.make_proc_mount("procMount_restricted", False),
                _PROC_MOUNT_TEXT + ", even in a user namespace.",
                ("procMount",),
            ),
        ),
    ),
)

_Plan = tuple[tuple[str, CheckFn], ...]
_PLANS: dict[tuple[str, int], _Plan] = {}
_INFOS: dict[tuple[str, int], tuple[CheckInfo, ...]] = {}
_ALLOWED: Final = PssResult(True, ())


def _active(level: str, minor: int) -> list[tuple[CheckDef, Revision]]:
    if level not in LEVELS:
        raise ValueError(f"invalid Pod Security Standards level {level!r}: expected one of {', '.join(LEVELS)}")
    if level == "privileged":
        return []
    active = [(c, rev) for c in CHECKS if c.level == "baseline" and (rev := c.at(minor)) is not None]
    if level == "restricted":
        strict = [(c, rev) for c in CHECKS if c.level == "restricted" and (rev := c.at(minor)) is not None]
        overridden = {o for _, rev in strict for o in rev.overrides}
        active = [(c, rev) for c, rev in active if c.id not in overridden] + strict
    return active


def _plan(level: str, minor: int) -> _Plan:
    key = (level, minor)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = tuple((c.id, rev.fn) for c, rev in _active(level, minor))
    return plan


def _as_version(version: PolicyVersion | str) -> PolicyVersion:
    return version if isinstance(version, PolicyVersion) else parse_version(version)


def checks_for(level: Level, version: PolicyVersion | str) -> tuple[CheckInfo, ...]:
    """The checks that apply at ``level`` and ``version``, in evaluation order."""
    minor = _as_version(version).effective_minor
    key = (level, minor)
    infos = _INFOS.get(key)
    if infos is None:
        infos = _INFOS[key] = tuple(
            CheckInfo(id=c.id, level=c.level, title=c.title, description=rev.description)
            for c, rev in _active(level, minor)
        )
    return infos


def _malformed_spec(check_id: str, spec: object) -> CheckViolation:
    problem = Malformed("spec", "an object", type(spec).__name__)
    return CheckViolation(
        check=check_id,
        message=f"{check_id} (malformed: {problem})",
        containers=(),
        fields=("spec",),
        remediation="",
        malformed=(problem,),
    )


def evaluate_pod(
    metadata: Mapping[str, Any], spec: Mapping[str, Any], level: Level, version: PolicyVersion | str
) -> PssResult:
    """Evaluate one pod (or pod template) against the Pod Security Standards.

    ``metadata`` and ``spec`` are the raw pod metadata and spec as a YAML/JSON loader returns
    them. Never raises on malformed input: a check that cannot read its fields denies the pod.
    Raises :class:`ValueError` only for an unknown level or an unparsable version string.
    """
    if level == "privileged":
        return _ALLOWED
    if not is_map(spec):
        ver = version if type(version) is PolicyVersion else _as_version(version)
        plan = _PLANS.get((level, ver.effective_minor)) or _plan(level, ver.effective_minor)
        return PssResult(False, tuple(_malformed_spec(cid, spec) for cid, _ in plan))
    return evaluate_view(PodView(metadata, spec), level, version)


# One pod's check results at one policy version, by check id (None: the check allows the pod). A
# check's result does not depend on the level, so both levels, and single-check callers, share them.
CheckResults = MutableMapping[str, "CheckViolation | None"]


def evaluate_view(
    view: PodView, level: Level, version: PolicyVersion | str, results: CheckResults | None = None
) -> PssResult:
    """:func:`evaluate_pod` for a pod already read into its typed view (scans read each pod once).

    ``results``, when given, holds this pod's check results at ``version``: checks found there are
    not run again, and the ones that run are added.
    """
    if level == "privileged":
        return _ALLOWED
    ver = version if type(version) is PolicyVersion else _as_version(version)
    plan = _PLANS.get((level, ver.effective_minor)) or _plan(level, ver.effective_minor)
    found: list[CheckViolation] | None = None
    for check_id, fn in plan:
        if results is None:
            violation = fn(view)
        elif check_id in results:
            violation = results[check_id]
        else:
            violation = results[check_id] = fn(view)
        if violation is not None:
            if found is None:
                found = [violation]
            else:
                found.append(violation)
    if found is None:
        return _ALLOWED
    return PssResult(False, tuple(found))


_BY_ID: Final[Mapping[str, CheckDef]] = {check.id: check for check in CHECKS}


def evaluate_check(
    view: PodView, check_id: str, version: PolicyVersion | str, results: CheckResults | None = None
) -> CheckViolation | None:
    """One check on a pod's view: its violation, or None when it allows the pod or is not active at
    ``version`` yet. ``results`` as for :func:`evaluate_view`. Raises :class:`ValueError` for an
    unknown check id or an unparsable version."""
    if results is not None and check_id in results:
        return results[check_id]
    check = _BY_ID.get(check_id)
    if check is None:
        raise ValueError(f"unknown Pod Security check {check_id!r}")
    ver = version if type(version) is PolicyVersion else _as_version(version)
    revision = check.at(ver.effective_minor)
    violation = None if revision is None else revision.fn(view)
    if results is not None:
        results[check_id] = violation
    return violation
