"""Restricted-level checks, one function per check version.

Windows pods (``spec.os.name: windows``) are exempt from the Linux-only restricted requirements
from policy v1.25. Where such a restricted check replaces a baseline one, the exempt pod still
answers to that baseline rule (reported under the restricted check's id): the API server refuses
Linux-only fields on Windows pods, so this changes no verdict for a valid pod, and it keeps
"allowed at restricted" implying "allowed at baseline" for the pods it would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from stockade.model.podspec import ContainerView, PodView, is_list, is_map
from stockade.pss._view import (
    Hits,
    containers_phrase,
    join_quote,
    malformed_context,
    setters_phrase,
)
from stockade.pss.baseline import (
    BOOL,
    LIST,
    OBJECT,
    SECCOMP_TYPES,
    STRING,
    capabilities_baseline_1_0,
    seccomp_profile_baseline_1_19,
)
from stockade.pss.model import CheckViolation

# --- restrictedVolumes --------------------------------------------------------------------------

VOLUME_TYPES_ALLOWED: Final = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "image",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)


def _volume_sources(vol: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The sources a volume sets that are not allowed, and the allowed ones that are not objects."""
    other: list[str] = []
    malformed: list[str] = []
    for key, value in vol.items():
        if key == "name" or value is None:
            continue
        if key not in VOLUME_TYPES_ALLOWED:
            other.append(str(key))
        elif not is_map(value):
            malformed.append(key)
    return other, malformed


def restricted_volumes_1_0(p: PodView) -> CheckViolation | None:
    volumes = p.spec.get("volumes")
    if volumes is None:
        return None
    if not is_list(volumes):
        whole = Hits()
        whole.bad("spec.volumes", "a list of objects", volumes)
        return whole.violation("restrictedVolumes", "restricted volume types", "")
    h: Hits | None = None
    names: list[str] = []
    types: set[str] = set()
    for i, vol in enumerate(volumes):
        if not is_map(vol):
            h = h or Hits()
            h.bad(f"spec.volumes[{i}]", OBJECT, vol)
            continue
        # A volume that names no source is defaulted to emptyDir by the API server. One that names
        # an allowed source and another one too (which the API rejects) is denied, not guessed at.
        other, malformed = _volume_sources(vol)
        if not (other or malformed):
            continue
        h = h or Hits()
        name = vol.get("name")
        if other:
            names.append(name if isinstance(name, str) else ("" if name is None else str(name)))
        for key in other:
            types.add(key)
            h.field(f"spec.volumes[{i}].{key}")
        for key in malformed:
            h.bad(f"spec.volumes[{i}].{key}", OBJECT, vol[key])
        if isinstance(name, str):
            h.patch.delete_volume(name)
    if h is None:
        return None

    def detail() -> str:
        if not names:
            return ""
        return (
            f"{'volume' if len(names) == 1 else 'volumes'} {join_quote(names)} "
            f"{'uses' if len(names) == 1 else 'use'} "
            f"{'restricted volume type' if len(types) == 1 else 'restricted volume types'} "
            f"{join_quote(sorted(types))}"
        )

    return h.violation("restrictedVolumes", "restricted volume types", detail)


# --- allowPrivilegeEscalation -------------------------------------------------------------------


def allow_privilege_escalation_1_8(p: PodView) -> CheckViolation | None:
    h: Hits | None = None
    names: list[str] = []
    for c in p.containers:
        if c.security_context_malformed:
            h = malformed_context(h, c, "allowPrivilegeEscalation", False)
            continue
        v = c.security_context.get("allowPrivilegeEscalation") if c.security_context is not None else None
        if v is False:
            continue
        h = h or Hits()
        h.ctr(c)
        path = c.field + ".securityContext.allowPrivilegeEscalation"
        if v is None or v is True:
            names.append(c.name)
            h.field(path)
        else:
            h.bad(path, BOOL, v)
        h.patch.ctr(c, ("securityContext", "allowPrivilegeEscalation"), False)
    if h is None:
        return None
    return h.violation(
        "allowPrivilegeEscalation",
        "allowPrivilegeEscalation != false",
        lambda: f"{containers_phrase(names)} must set securityContext.allowPrivilegeEscalation=false" if names else "",
    )


def allow_privilege_escalation_1_25(p: PodView) -> CheckViolation | None:
    return None if p.windows else allow_privilege_escalation_1_8(p)


# --- runAsNonRoot -------------------------------------------------------------------------------


def run_as_non_root_1_0(p: PodView) -> CheckViolation | None:
    h: Hits | None = None
    pod_false = False
    pod_true = False
    if p.security_context_malformed:
        h = Hits()
        h.bad("spec.securityContext", OBJECT)
    else:
        v = p.security_context.get("runAsNonRoot")
        if v is True:
            pod_true = True
        elif v is not None:
            h = Hits()
            if v is False:
                pod_false = True
                h.field("spec.securityContext.runAsNonRoot")
            else:
                h.bad("spec.securityContext.runAsNonRoot", BOOL, v)
    explicit: list[str] = []
    implicit: list[str] = []
    for c in p.containers:
        if c.security_context_malformed:
            h = malformed_context(h, c, "runAsNonRoot", True)
            continue
        v = c.security_context.get("runAsNonRoot") if c.security_context is not None else None
        if v is True:
            continue
        path = c.field + ".securityContext.runAsNonRoot"
        if v is None:
            if pod_true:
                continue
            h = h or Hits()
            implicit.append(c.name)
        else:
            h = h or Hits()
            if v is False:
                explicit.append(c.name)
            else:
                h.bad(path, BOOL, v)
            h.patch.ctr(c, ("securityContext", "runAsNonRoot"), True)
        h.ctr(c)
        h.field(path)
    if h is None:
        return None
    if not pod_true:
        # One pod-level setting covers every container that leaves the field unset.
        h.patch.spec(("securityContext", "runAsNonRoot"), True)

    def detail() -> str:
        details: list[str] = []
        if pod_false or explicit:
            details.append(f"{setters_phrase(pod_false, explicit)} must not set securityContext.runAsNonRoot=false")
        if implicit:
            details.append(f"pod or {containers_phrase(implicit)} must set securityContext.runAsNonRoot=true")
        return "; ".join(details)

    return h.violation("runAsNonRoot", "runAsNonRoot != true", detail)


def run_as_non_root_1_35(p: PodView) -> CheckViolation | None:
    # A pod in a user namespace runs as root only inside it (KEP-127).
    return None if p.user_namespace else run_as_non_root_1_0(p)


# --- runAsUser ----------------------------------------------------------------------------------


def _run_as_user(h: Hits | None, owner: Mapping[str, Any], path: str) -> tuple[Hits | None, int]:
    """0 = fine, 1 = runAsUser 0, 2 = malformed."""
    v = owner.get("runAsUser")
    if v is None or (type(v) is int and v != 0):
        return h, 0
    h = h or Hits()
    if type(v) is int:
        h.field(path)
        return h, 1
    h.bad(path, "an integer", v)
    return h, 2


def run_as_user_1_23(p: PodView) -> CheckViolation | None:
    h: Hits | None = None
    pod_zero = False
    if p.security_context_malformed:
        h = Hits()
        h.bad("spec.securityContext", OBJECT)
        h.patch.spec(("securityContext",), {})
    else:
        h, state = _run_as_user(h, p.security_context, "spec.securityContext.runAsUser")
        if state:
            pod_zero = state == 1
            assert h is not None
            h.patch.spec(("securityContext", "runAsUser"), None)
    names: list[str] = []
    for c in p.containers:
        if c.security_context_malformed:
            h = malformed_context(h, c, "runAsUser", None)
            continue
        if c.security_context is None:
            continue
        h, state = _run_as_user(h, c.security_context, c.field + ".securityContext.runAsUser")
        if state:
            assert h is not None
            h.ctr(c)
            if state == 1:
                names.append(c.name)
            h.patch.ctr(c, ("securityContext", "runAsUser"), None)
    if h is None:
        return None
    return h.violation(
        "runAsUser",
        "runAsUser=0",
        lambda: f"{setters_phrase(pod_zero, names)} must not set runAsUser=0" if (pod_zero or names) else "",
    )


def run_as_user_1_35(p: PodView) -> CheckViolation | None:
    return None if p.user_namespace else run_as_user_1_23(p)


# --- seccompProfile_restricted ------------------------------------------------------------------


def _seccomp_state(prof: object) -> int:
    """0 = unset, 1 = allowed type, 2 = wrong type string, 3 = malformed."""
    if prof is None:
        return 0
    if not is_map(prof):
        return 3
    t = prof.get("type")
    if t is None or isinstance(t, str):
        return 1 if t in SECCOMP_TYPES else 2
    return 3


def _seccomp_fix(prof: object) -> dict[str, Any]:
    fixed: dict[str, Any] = {"type": "RuntimeDefault"}
    if is_map(prof) and prof.get("localhostProfile") is not None:
        fixed["localhostProfile"] = None
    return fixed


def seccomp_profile_restricted_1_19(p: PodView) -> CheckViolation | None:
    h: Hits | None = None
    bad_values: set[str] = set()
    pod_bad = False
    pod_set = False
    if p.security_context_malformed:
        h = Hits()
        h.bad("spec.securityContext", OBJECT)
    else:
        prof = p.security_context.get("seccompProfile")
        state = _seccomp_state(prof)
        pod_set = state == 1
        if state >= 2:
            h = Hits()
            path = "spec.securityContext.seccompProfile"
            if state == 2:
                pod_bad = True
                bad_values.add(prof.get("type") or "")  # type: ignore[union-attr]
                h.field(path + ".type")
            else:
                h.bad(path, "an object with a string type", prof)
    explicit: list[str] = []
    implicit: list[str] = []
    for c in p.containers:
        if c.security_context_malformed:
            h = malformed_context(h, c, "seccompProfile", {"type": "RuntimeDefault"})
            continue
        prof = c.security_context.get("seccompProfile") if c.security_context is not None else None
        state = _seccomp_state(prof)
        if state == 1:
            continue
        path = c.field + ".securityContext.seccompProfile"
        if state == 0:
            if pod_set:
                continue
            h = h or Hits()
            implicit.append(c.name)
            h.field(path)
        else:
            h = h or Hits()
            if state == 2:
                explicit.append(c.name)
                bad_values.add(prof.get("type") or "")  # type: ignore[union-attr]
                h.field(path + ".type")
            else:
                h.bad(path, "an object with a string type", prof)
            h.patch.ctr(c, ("securityContext", "seccompProfile"), _seccomp_fix(prof))
        h.ctr(c)
    if h is None:
        return None
    if not pod_set:
        h.patch.spec(("securityContext", "seccompProfile"), _seccomp_fix(p.security_context.get("seccompProfile")))

    def detail() -> str:
        details: list[str] = []
        if pod_bad or explicit:
            details.append(
                f"{setters_phrase(pod_bad, explicit)} must not set securityContext.seccompProfile.type to "
                f"{join_quote(sorted(bad_values))}"
            )
        if implicit:
            details.append(
                f"pod or {containers_phrase(implicit)} must set securityContext.seccompProfile.type to "
                '"RuntimeDefault" or "Localhost"'
            )
        return "; ".join(details)

    return h.violation("seccompProfile_restricted", "seccompProfile", detail)


def _as(check: str, violation: CheckViolation | None) -> CheckViolation | None:
    return None if violation is None else violation.renamed(check)


def seccomp_profile_restricted_1_25(p: PodView) -> CheckViolation | None:
    if p.windows:
        return _as("seccompProfile_restricted", seccomp_profile_baseline_1_19(p))
    return seccomp_profile_restricted_1_19(p)


# --- capabilities_restricted --------------------------------------------------------------------


def _restricted_caps(
    h: Hits | None, c: ContainerView, missing: list[str], adding: list[str], added: set[str]
) -> Hits | None:
    sc = c.security_context
    caps = sc.get("capabilities") if sc is not None else None
    base = c.field + ".securityContext.capabilities"
    if caps is not None and not is_map(caps):
        h = h or Hits()
        h.ctr(c)
        h.bad(base, OBJECT, caps)
        h.patch.ctr(c, ("securityContext", "capabilities"), {"drop": ["ALL"]})
        return h
    caps = caps or {}
    drop = caps.get("drop")
    drop_ok = False
    kept_drop: list[str] = []
    if drop is not None and not is_list(drop):
        h = h or Hits()
        h.bad(base + ".drop", LIST, drop)
    elif drop is not None:
        for i, item in enumerate(drop):
            if not isinstance(item, str):
                h = h or Hits()
                h.bad(f"{base}.drop[{i}]", STRING, item)
                continue
            kept_drop.append(item)
            drop_ok = drop_ok or item == "ALL"
    if not drop_ok:
        h = h or Hits()
        h.ctr(c)
        h.field(base + ".drop")
        if c.name not in missing:
            missing.append(c.name)
        if "ALL" not in kept_drop:
            kept_drop.append("ALL")
        h.patch.ctr(c, ("securityContext", "capabilities", "drop"), kept_drop)
    elif len(kept_drop) != (len(drop) if is_list(drop) else 0):
        assert h is not None
        h.ctr(c)
        h.patch.ctr(c, ("securityContext", "capabilities", "drop"), kept_drop)
    add = caps.get("add")
    if add is None:
        return h
    if not is_list(add):
        h = h or Hits()
        h.ctr(c)
        h.bad(base + ".add", LIST, add)
        h.patch.ctr(c, ("securityContext", "capabilities", "add"), None)
        return h
    named = malformed = False
    for i, cap in enumerate(add):
        if not isinstance(cap, str):
            malformed = True
            h = h or Hits()
            h.bad(f"{base}.add[{i}]", STRING, cap)
        elif cap != "NET_BIND_SERVICE":
            named = True
            added.add(cap)
            h = h or Hits()
            h.field(f"{base}.add[{i}]")
    if named or malformed:
        assert h is not None
        h.ctr(c)
        if named:
            adding.append(c.name)
        kept = [x for x in add if x == "NET_BIND_SERVICE"]
        h.patch.ctr(c, ("securityContext", "capabilities", "add"), kept or None)
    return h


def capabilities_restricted_1_22(p: PodView) -> CheckViolation | None:
    h: Hits | None = None
    missing: list[str] = []
    adding: list[str] = []
    added: set[str] = set()
    for c in p.containers:
        if c.security_context_malformed:
            h = malformed_context(h, c, "capabilities", {"drop": ["ALL"]})
            continue
        h = _restricted_caps(h, c, missing, adding, added)
    if h is None:
        return None

    def detail() -> str:
        details: list[str] = []
        if missing:
            details.append(f'{containers_phrase(missing)} must set securityContext.capabilities.drop=["ALL"]')
        if adding:
            details.append(
                f"{containers_phrase(adding)} must not include {join_quote(sorted(added))} "
                "in securityContext.capabilities.add"
            )
        return "; ".join(details)

    return h.violation("capabilities_restricted", "unrestricted capabilities", detail)


def capabilities_restricted_1_25(p: PodView) -> CheckViolation | None:
    if p.windows:
        return _as("capabilities_restricted", capabilities_baseline_1_0(p))
    return capabilities_restricted_1_22(p)
