"""Baseline-level checks, one function per check version (as the upstream policy registers them).

Each function reads a :class:`PodView` and returns ``None`` (allowed) or one
:class:`CheckViolation`. Allow-lists that grow by version are built by small factories.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from stockade.model.podspec import ContainerView, PodView, is_list, is_map
from stockade.pss._view import (
    Hits,
    containers_phrase,
    join_quote,
    malformed_context,
    pluralize,
    setters_phrase,
)
from stockade.pss.model import CheckViolation

CheckFn = Callable[[PodView], "CheckViolation | None"]

BOOL: Final = "a boolean"
OBJECT: Final = "an object"
STRING: Final = "a string"
LIST: Final = "a list"


# --- windowsHostProcess -------------------------------------------------------------------------


def _host_process(owner: Mapping[str, Any]) -> object:
    opts = owner.get("windowsOptions")
    if opts is None:
        return None
    if not is_map(opts):
        return opts  # malformed: reported as such
    return opts.get("hostProcess")


def windows_host_process_1_0(p: PodView) -> CheckViolation | None:
    h: Hits | None = None
    pod_bad = False
    names: list[str] = []
    if p.security_context_malformed:
        h = h or Hits()
        h.bad("spec.securityContext", OBJECT)
        h.patch.spec(("securityContext",), {})
    else:
        v = _host_process(p.security_context)
        if not (v is None or v is False):
            h = h or Hits()
            path = "spec.securityContext.windowsOptions.hostProcess"
            if v is True:
                pod_bad = True
                h.field(path)
            else:
                h.bad(path, BOOL, v)
            h.patch.spec(("securityContext", "windowsOptions", "hostProcess"), False)
    for c in p.containers:
        if c.security_context_malformed:
            h = h or Hits()
            h.ctr(c)
            h.bad(*c.security_context_problem())
            h.patch.ctr(c, ("securityContext", "windowsOptions", "hostProcess"), False)
            continue
        if c.security_context is None:
            continue
        v = _host_process(c.security_context)
        if v is None or v is False:
            continue
        h = h or Hits()
        h.ctr(c)
        path = c.field + ".securityContext.windowsOptions.hostProcess"
        if v is True:
            names.append(c.name)
            h.field(path)
        else:
            h.bad(path, BOOL, v)
        h.patch.ctr(c, ("securityContext", "windowsOptions", "hostProcess"), False)
    if h is None:
        return None

    def detail() -> str:
        if not (pod_bad or names):
            return ""
        return f"{setters_phrase(pod_bad, names)} must not set securityContext.windowsOptions.hostProcess=true"

    return h.violation("windowsHostProcess", "hostProcess", detail)


# --- hostNamespaces -----------------------------------------------------------------------------


def host_namespaces_1_0(p: PodView) -> CheckViolation | None:
    h: Hits | None = None
    found: list[str] = []
    spec = p.spec
    for key in ("hostIPC", "hostNetwork", "hostPID"):
        v = spec.get(key)
        if v is None or v is False:
            continue
        h = h or Hits()
        if v is True:
            found.append(key)
            h.field("spec." + key)
        else:
            h.bad("spec." + key, BOOL, v)
        h.patch.spec((key,), False)
    if h is None:
        return None
    return h.violation("hostNamespaces", "host namespaces", lambda: ", ".join(found))


# --- privileged ---------------------------------------------------------------------------------


def privileged_1_0(p: PodView) -> CheckViolation | None:
    h: Hits | None = None
    names: list[str] = []
    for c in p.containers:
        if c.security_context_malformed:
            h = malformed_context(h, c, "privileged", False)
            continue
        sc = c.security_context
        if sc is None:
            continue
        v = sc.get("privileged")
        if v is None or v is False:
            continue
        h = h or Hits()
        h.ctr(c)
        path = c.field + ".securityContext.privileged"
        if v is True:
            names.append(c.name)
            h.field(path)
        else:
            h.bad(path, BOOL, v)
        h.patch.ctr(c, ("securityContext", "privileged"), False)
    if h is None:
        return None
    return h.violation(
        "privileged",
        "privileged",
        lambda: f"{containers_phrase(names)} must not set securityContext.privileged=true" if names else "",
    )


# --- capabilities_baseline ----------------------------------------------------------------------

CAPABILITIES_ALLOWED_1_0: Final = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)


def capabilities_baseline_1_0(p: PodView) -> CheckViolation | None:
    h: Hits | None = None
    names: list[str] = []
    forbidden: set[str] = set()
    for c in p.containers:
        if c.security_context_malformed:
            h = malformed_context(h, c, "capabilities", None)
            continue
        sc = c.security_context
        if sc is None:
            continue
        caps = sc.get("capabilities")
        if caps is None:
            continue
        base = c.field + ".securityContext.capabilities"
        if not is_map(caps):
            h = h or Hits()
            h.ctr(c)
            h.bad(base, OBJECT, caps)
            h.patch.ctr(c, ("securityContext", "capabilities"), None)
            continue
        add = caps.get("add")
        if add is None:
            continue
        if not is_list(add):
            h = h or Hits()
            h.ctr(c)
            h.bad(base + ".add", LIST, add)
            h.patch.ctr(c, ("securityContext", "capabilities", "add"), None)
            continue
        named = malformed = False
        for i, cap in enumerate(add):
            if not isinstance(cap, str):
                malformed = True
                h = h or Hits()
                h.bad(f"{base}.add[{i}]", STRING, cap)
            elif cap not in CAPABILITIES_ALLOWED_1_0:
                named = True
                forbidden.add(cap)
                h = h or Hits()
                h.field(f"{base}.add[{i}]")
        if named or malformed:
            assert h is not None
            h.ctr(c)
            if named:
                names.append(c.name)
            kept = [x for x in add if isinstance(x, str) and x in CAPABILITIES_ALLOWED_1_0]
            h.patch.ctr(c, ("securityContext", "capabilities", "add"), kept or None)
    if h is None:
        return None

    def detail() -> str:
        if not names:
            return ""
        return (
            f"{containers_phrase(names)} must not include {join_quote(sorted(forbidden))} "
            "in securityContext.capabilities.add"
        )

    return h.violation("capabilities_baseline", "non-default capabilities", detail)


# --- hostPathVolumes ----------------------------------------------------------------------------


def _volume_name(vol: Mapping[str, Any]) -> str:
    name = vol.get("name")
    return name if isinstance(name, str) else ("" if name is None else str(name))


def host_path_volumes_1_0(p: PodView) -> CheckViolation | None:
    volumes = p.spec.get("volumes")
    if volumes is None:
        return None
    h: Hits | None = None
    names: list[str] = []
    if not is_list(volumes):
        h = Hits()
        h.bad("spec.volumes", "a list of objects", volumes)
        return h.violation("hostPathVolumes", "hostPath volumes", "")
    for i, vol in enumerate(volumes):
        if not is_map(vol):
            h = h or Hits()
            h.bad(f"spec.volumes[{i}]", OBJECT, vol)
            continue
        if vol.get("hostPath") is None:
            continue
        h = h or Hits()
        name = _volume_name(vol)
        names.append(name)
        h.field(f"spec.volumes[{i}].hostPath")
        if isinstance(vol.get("name"), str):
            h.patch.delete_volume(name)
    if h is None:
        return None
    return h.violation(
        "hostPathVolumes",
        "hostPath volumes",
        lambda: f"{pluralize('volume', 'volumes', len(names))} {join_quote(names)}" if names else "",
    )


# --- hostPorts ----------------------------------------------------------------------------------


def host_ports_1_0(p: PodView) -> CheckViolation | None:
    h: Hits | None = None
    names: list[str] = []
    ports_found: set[int] = set()
    for c in p.containers:
        if c.malformed:
            h = h or Hits()
            h.ctr(c)
            h.bad(*c.security_context_problem())
            continue
        ports = c.spec.get("ports")
        if ports is None:
            continue
        if not is_list(ports):
            h = h or Hits()
            h.ctr(c)
            h.bad(c.field + ".ports", "a list of objects", ports)
            continue
        uses = False
        for i, port in enumerate(ports):
            path = f"{c.field}.ports[{i}]"
            if not is_map(port):
                h = h or Hits()
                h.ctr(c)
                h.bad(path, OBJECT, port)
                continue
            hp = port.get("hostPort")
            if hp is None or (type(hp) is int and hp == 0):
                continue
            h = h or Hits()
            h.ctr(c)
            if type(hp) is int:
                uses = True
                ports_found.add(hp)
                h.field(path + ".hostPort")
            else:
                h.bad(path + ".hostPort", "an integer", hp)
            cp = port.get("containerPort")
            if type(cp) is int:
                h.patch.ctr_item(c, "ports", "containerPort", cp, "hostPort", None)
        if uses:
            names.append(c.name)
    if h is None:
        return None

    def detail() -> str:
        if not names:
            return ""
        shown = ", ".join(str(x) for x in sorted(ports_found, key=str))
        return (
            f"{containers_phrase(names)} {pluralize('uses', 'use', len(names))} "
            f"{pluralize('hostPort', 'hostPorts', len(ports_found))} {shown}"
        )

    return h.violation("hostPorts", "hostPort", detail)


# --- appArmorProfile ----------------------------------------------------------------------------

APPARMOR_ANNOTATION_PREFIX: Final = "container.apparmor.security.beta.kubernetes.io/"
_APPARMOR_TYPES: Final = frozenset({"RuntimeDefault", "Localhost"})


def _apparmor_annotation_ok(value: str) -> bool:
    return value == "" or value == "runtime/default" or value.startswith("localhost/")


def _check_profile_field(
    h: Hits | None,
    owner: Mapping[str, Any],
    key: str,
    path: str,
    allowed: frozenset[str],
    bad_values: set[str],
    fix: Callable[[Hits, object], None],
) -> tuple[Hits | None, bool]:
    """Shared by AppArmor and seccomp fields: ``owner[key].type`` must be in ``allowed``.

    Returns the (possibly new) hits and whether a well-typed bad value was found.
    """
    prof = owner.get(key)
    if prof is None:
        return h, False
    if not is_map(prof):
        h = h or Hits()
        h.bad(path, OBJECT, prof)
        fix(h, {"type": "RuntimeDefault"})
        return h, False
    t = prof.get("type")
    if isinstance(t, str) and t in allowed:
        return h, False
    h = h or Hits()
    fixed: dict[str, Any] = {"type": "RuntimeDefault"}
    if prof.get("localhostProfile") is not None:
        fixed["localhostProfile"] = None
    fix(h, fixed)
    if t is None or isinstance(t, str):
        bad_values.add(t or "")
        h.field(path + ".type")
        return h, True
    h.bad(path + ".type", STRING, t)
    return h, False


def _profile_fields(p: PodView, field: str, allowed: frozenset[str]) -> tuple[Hits | None, bool, list[str], set[str]]:
    """The ``field`` profile (seccompProfile, appArmorProfile) of the pod and of every container:
    hits, whether the pod-level one is bad, the containers whose own one is bad, the bad types."""
    h: Hits | None = None
    pod_bad = False
    names: list[str] = []
    bad_types: set[str] = set()
    if p.security_context_malformed:
        h = Hits()
        h.bad("spec.securityContext", OBJECT)
        h.patch.spec(("securityContext",), {})
    else:

        def fix_pod(hits: Hits, value: object) -> None:
            hits.patch.spec(("securityContext", field), value)

        h, pod_bad = _check_profile_field(
            h, p.security_context, field, f"spec.securityContext.{field}", allowed, bad_types, fix_pod
        )
    for c in p.containers:
        if c.security_context_malformed:
            h = malformed_context(h, c, field, {"type": "RuntimeDefault"})
            continue
        if c.security_context is None or c.security_context.get(field) is None:
            continue

        def fix_ctr(hits: Hits, value: object, c: ContainerView = c) -> None:
            hits.ctr(c)
            hits.patch.ctr(c, ("securityContext", field), value)

        h, bad = _check_profile_field(
            h, c.security_context, field, c.field + f".securityContext.{field}", allowed, bad_types, fix_ctr
        )
        if bad:
            names.append(c.name)
    return h, pod_bad, names, bad_types


def app_armor_profile_1_0(p: PodView) -> CheckViolation | None:
    h, pod_bad, names, bad_types = _profile_fields(p, "appArmorProfile", _APPARMOR_TYPES)
    bad_annotations: list[str] = []
    if p.annotations_malformed:
        h = h or Hits()
        h.bad("metadata.annotations", "an object")
    for key, value in p.annotations.items():
        if not (isinstance(key, str) and key.startswith(APPARMOR_ANNOTATION_PREFIX)):
            continue
        if isinstance(value, str):
            if _apparmor_annotation_ok(value):
                continue
            h = h or Hits()
            bad_annotations.append(f'{key}="{value}"')
            h.field(f"metadata.annotations[{key}]")
        else:
            h = h or Hits()
            h.bad(f"metadata.annotations[{key}]", STRING, value)
        h.patch.annotation(key, "runtime/default")
    if h is None:
        return None

    def detail() -> str:
        details: list[str] = []
        if pod_bad or names:
            details.append(
                f"{setters_phrase(pod_bad, names)} must not set AppArmor profile type to "
                f"{join_quote(sorted(bad_types))}"
            )
        if bad_annotations:
            details.append(f"annotations must not set AppArmor profile type to {join_quote(sorted(bad_annotations))}")
        return "; ".join(details)

    count = len(bad_types) + len(bad_annotations)
    reason = "forbidden AppArmor profiles" if count > 1 else "forbidden AppArmor profile"
    return h.violation("appArmorProfile", reason, detail)


# --- seLinuxOptions -----------------------------------------------------------------------------

SELINUX_TYPES_1_0: Final = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
SELINUX_TYPES_1_31: Final = SELINUX_TYPES_1_0 | {"container_engine_t"}


def _selinux_problems(
    h: Hits | None,
    opts: object,
    path: str,
    allowed: frozenset[str],
    bad_types: set[str],
    flags: list[bool],
    fix: Callable[[Hits, tuple[str, ...], object], None],
) -> tuple[Hits | None, bool]:
    """Check one seLinuxOptions value; ``flags`` collects [user set, role set]."""
    if opts is None:
        return h, False
    if not is_map(opts):
        h = h or Hits()
        h.bad(path, OBJECT, opts)
        fix(h, (), None)
        return h, False
    bad = False
    t = opts.get("type")
    if t is not None:
        if not isinstance(t, str):
            h = h or Hits()
            h.bad(path + ".type", STRING, t)
            fix(h, ("type",), None)
        elif t not in allowed:
            h = h or Hits()
            bad = True
            bad_types.add(t)
            h.field(path + ".type")
            fix(h, ("type",), None)
    for i, key in enumerate(("user", "role")):
        v = opts.get(key)
        if v is None or v == "":
            continue
        h = h or Hits()
        if isinstance(v, str):
            bad = True
            flags[i] = True
            h.field(f"{path}.{key}")
        else:
            h.bad(f"{path}.{key}", STRING, v)
        fix(h, (key,), None)
    return h, bad


def make_selinux_options(allowed: frozenset[str]) -> CheckFn:
    def se_linux_options(p: PodView) -> CheckViolation | None:
        h: Hits | None = None
        pod_bad = False
        names: list[str] = []
        bad_types: set[str] = set()
        flags = [False, False]
        if p.security_context_malformed:
            h = Hits()
            h.bad("spec.securityContext", OBJECT)
            h.patch.spec(("securityContext",), {})
        else:

            def fix_pod(hits: Hits, keys: tuple[str, ...], value: object) -> None:
                hits.patch.spec(("securityContext", "seLinuxOptions", *keys), value)

            h, pod_bad = _selinux_problems(
                h,
                p.security_context.get("seLinuxOptions"),
                "spec.securityContext.seLinuxOptions",
                allowed,
                bad_types,
                flags,
                fix_pod,
            )
        for c in p.containers:
            if c.security_context_malformed:
                h = malformed_context(h, c, "seLinuxOptions", None)
                continue
            if c.security_context is None:
                continue
            opts = c.security_context.get("seLinuxOptions")
            if opts is None:
                continue

            def fix_ctr(hits: Hits, keys: tuple[str, ...], value: object, c: ContainerView = c) -> None:
                hits.ctr(c)
                hits.patch.ctr(c, ("securityContext", "seLinuxOptions", *keys), value)

            h, bad = _selinux_problems(
                h, opts, c.field + ".securityContext.seLinuxOptions", allowed, bad_types, flags, fix_ctr
            )
            if bad:
                names.append(c.name)
        if h is None:
            return None

        def detail() -> str:
            if not (pod_bad or names):
                return ""
            data: list[str] = []
            if bad_types:
                data.append(f"{pluralize('type', 'types', len(bad_types))} {join_quote(sorted(bad_types))}")
            if flags[0]:
                data.append("user may not be set")
            if flags[1]:
                data.append("role may not be set")
            setters = setters_phrase(pod_bad, names)
            return f"{setters} set forbidden securityContext.seLinuxOptions: {'; '.join(data)}"

        return h.violation("seLinuxOptions", "seLinuxOptions", detail)

    return se_linux_options


# --- procMount ----------------------------------------------------------------------------------


def make_proc_mount(check_id: str, relax_for_user_namespaces: bool) -> CheckFn:
    def proc_mount(p: PodView) -> CheckViolation | None:
        if relax_for_user_namespaces and p.user_namespace:
            return None
        h: Hits | None = None
        names: list[str] = []
        values: set[str] = set()
        for c in p.containers:
            if c.security_context_malformed:
                h = malformed_context(h, c, "procMount", "Default")
                continue
            if c.security_context is None:
                continue
            v = c.security_context.get("procMount")
            if v is None or v == "Default":
                continue
            h = h or Hits()
            h.ctr(c)
            path = c.field + ".securityContext.procMount"
            if isinstance(v, str):
                names.append(c.name)
                values.add(v)
                h.field(path)
            else:
                h.bad(path, STRING, v)
            h.patch.ctr(c, ("securityContext", "procMount"), "Default")
        if h is None:
            return None

        def detail() -> str:
            if not names:
                return ""
            return f"{containers_phrase(names)} must not set securityContext.procMount to {join_quote(sorted(values))}"

        return h.violation(check_id, "procMount", detail)

    return proc_mount


# --- seccompProfile_baseline --------------------------------------------------------------------

SECCOMP_POD_ANNOTATION: Final = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER_ANNOTATION_PREFIX: Final = "container.seccomp.security.alpha.kubernetes.io/"
SECCOMP_TYPES: Final = frozenset({"RuntimeDefault", "Localhost"})


def _seccomp_annotation_ok(value: str) -> bool:
    return value == "runtime/default" or value == "docker/default" or value.startswith("localhost/")


def seccomp_profile_baseline_1_0(p: PodView) -> CheckViolation | None:
    """Before 1.19 the profile lived in alpha annotations; the fields are not looked at."""
    h: Hits | None = None
    if p.annotations_malformed:
        h = Hits()
        h.bad("metadata.annotations", OBJECT)
    annotations = p.annotations
    if not annotations:
        return None if h is None else h.violation("seccompProfile_baseline", "seccompProfile", "")
    forbidden: list[str] = []
    keys = [SECCOMP_POD_ANNOTATION]
    keys.extend(SECCOMP_CONTAINER_ANNOTATION_PREFIX + c.name for c in p.containers if not c.malformed)
    for key in keys:
        if key not in annotations:
            continue
        value = annotations[key]
        if isinstance(value, str):
            if _seccomp_annotation_ok(value):
                continue
            h = h or Hits()
            entry = f'{key}="{value}"'
            if entry not in forbidden:
                forbidden.append(entry)
            h.field(f"metadata.annotations[{key}]")
        else:
            h = h or Hits()
            h.bad(f"metadata.annotations[{key}]", STRING, value)
        if key != SECCOMP_POD_ANNOTATION:
            name = key[len(SECCOMP_CONTAINER_ANNOTATION_PREFIX) :]
            h.containers[name] = None
        h.patch.annotation(key, "runtime/default")
    if h is None:
        return None

    def detail() -> str:
        if not forbidden:
            return ""
        return f"forbidden {pluralize('annotation', 'annotations', len(forbidden))} {', '.join(sorted(forbidden))}"

    return h.violation("seccompProfile_baseline", "seccompProfile", detail)


def seccomp_profile_baseline_1_19(p: PodView) -> CheckViolation | None:
    h, pod_bad, names, bad_types = _profile_fields(p, "seccompProfile", SECCOMP_TYPES)
    if h is None:
        return None

    def detail() -> str:
        if not (pod_bad or names):
            return ""
        return (
            f"{setters_phrase(pod_bad, names)} must not set securityContext.seccompProfile.type to "
            f"{join_quote(sorted(bad_types))}"
        )

    return h.violation("seccompProfile_baseline", "seccompProfile", detail)


# --- sysctls ------------------------------------------------------------------------------------

SYSCTLS_1_0: Final = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    }
)
SYSCTLS_1_27: Final = SYSCTLS_1_0 | {"net.ipv4.ip_local_reserved_ports"}
SYSCTLS_1_29: Final = SYSCTLS_1_27 | {
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
SYSCTLS_1_32: Final = SYSCTLS_1_29 | {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}
SYSCTLS_1_37: Final = SYSCTLS_1_32 | {"net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"}


def make_sysctls(allowed: frozenset[str]) -> CheckFn:
    def sysctls(p: PodView) -> CheckViolation | None:
        if p.security_context_malformed:
            h = Hits()
            h.bad("spec.securityContext", OBJECT)
            h.patch.spec(("securityContext",), {})
            return h.violation("sysctls", "forbidden sysctls", "")
        items = p.security_context.get("sysctls")
        if items is None:
            return None
        if not is_list(items):
            h = Hits()
            h.bad("spec.securityContext.sysctls", "a list of objects", items)
            h.patch.spec(("securityContext", "sysctls"), None)
            return h.violation("sysctls", "forbidden sysctls", "")
        hits: Hits | None = None
        forbidden: list[str] = []
        for i, item in enumerate(items):
            path = f"spec.securityContext.sysctls[{i}]"
            name = item.get("name") if is_map(item) else None
            if isinstance(name, str):
                if name in allowed:
                    continue
                hits = hits or Hits()
                forbidden.append(name)
                hits.field(path + ".name")
            else:
                hits = hits or Hits()
                if is_map(item):
                    hits.bad(path + ".name", STRING, name)
                else:
                    hits.bad(path, OBJECT, item)
        if hits is None:
            return None
        kept = [x for x in items if is_map(x) and isinstance(x.get("name"), str) and x["name"] in allowed]
        hits.patch.spec(("securityContext", "sysctls"), kept or None)
        return hits.violation("sysctls", "forbidden sysctls", lambda: ", ".join(forbidden))

    return sysctls


# --- hostProbesAndHostLifecycle -----------------------------------------------------------------

_PROBES: Final = ("livenessProbe", "readinessProbe", "startupProbe")
_HOOKS: Final = ("postStart", "preStop")
_HANDLERS: Final = ("httpGet", "tcpSocket")


def _handler_hosts(
    h: Hits | None, c: ContainerView, holder: object, keys: tuple[str, ...], hosts: set[str]
) -> tuple[Hits | None, bool]:
    """Look at ``holder`` (a probe or lifecycle hook) for a non-empty httpGet/tcpSocket host."""
    path = c.field + "." + ".".join(keys)
    if not is_map(holder):
        h = h or Hits()
        h.ctr(c)
        h.bad(path, OBJECT, holder)
        h.patch.ctr(c, keys, None)
        return h, False
    found = False
    for handler in _HANDLERS:
        action = holder.get(handler)
        if action is None:
            continue
        if not is_map(action):
            h = h or Hits()
            h.ctr(c)
            h.bad(f"{path}.{handler}", OBJECT, action)
            h.patch.ctr(c, (*keys, handler), None)
            continue
        host = action.get("host")
        if host is None or host == "":
            continue
        h = h or Hits()
        h.ctr(c)
        if isinstance(host, str):
            found = True
            hosts.add(host)
            h.field(f"{path}.{handler}.host")
        else:
            h.bad(f"{path}.{handler}.host", STRING, host)
        h.patch.ctr(c, (*keys, handler, "host"), None)
    return h, found


def host_probes_and_host_lifecycle_1_34(p: PodView) -> CheckViolation | None:
    h: Hits | None = None
    names: list[str] = []
    hosts: set[str] = set()
    for c in p.containers:
        if c.malformed:
            h = h or Hits()
            h.ctr(c)
            h.bad(*c.security_context_problem())
            continue
        data = c.spec
        uses = False
        for key in _PROBES:
            probe = data.get(key)
            if probe is not None:
                h, found = _handler_hosts(h, c, probe, (key,), hosts)
                uses = uses or found
        lifecycle = data.get("lifecycle")
        if lifecycle is not None:
            if not is_map(lifecycle):
                h = h or Hits()
                h.ctr(c)
                h.bad(c.field + ".lifecycle", OBJECT, lifecycle)
                h.patch.ctr(c, ("lifecycle",), None)
            else:
                for hook in _HOOKS:
                    handler = lifecycle.get(hook)
                    if handler is not None:
                        h, found = _handler_hosts(h, c, handler, ("lifecycle", hook), hosts)
                        uses = uses or found
        if uses:
            names.append(c.name)
    if h is None:
        return None

    def detail() -> str:
        if not names:
            return ""
        return (
            f"{containers_phrase(names)} {pluralize('uses', 'use', len(names))} "
            f"{pluralize('probe or lifecycle host', 'probe or lifecycle hosts', len(hosts))} "
            f"{join_quote(sorted(hosts))}"
        )

    return h.violation("hostProbesAndHostLifecycle", "probe or lifecycle host", detail)
