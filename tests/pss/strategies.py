"""Hypothesis strategies for pods: drawn from the values each Pod Security check distinguishes."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

CAPS = ["ALL", "NET_BIND_SERVICE", "CHOWN", "NET_RAW", "SYS_ADMIN", "KILL"]
ANNOTATION_KEYS = [
    "container.apparmor.security.beta.kubernetes.io/c0",
    "container.apparmor.security.beta.kubernetes.io/i0",
    "seccomp.security.alpha.kubernetes.io/pod",
    "container.seccomp.security.alpha.kubernetes.io/c0",
    "team",
]
ANNOTATION_VALUES = ["runtime/default", "localhost/p", "unconfined", "", "docker/default"]


def _opt(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=fields)


def pod_strategy(weird: bool) -> st.SearchStrategy[tuple[dict[str, Any], dict[str, Any]]]:
    """Pods drawn from the values each check distinguishes; ``weird`` adds wrong-typed values."""

    def v(*values: Any) -> st.SearchStrategy[Any]:
        base = st.sampled_from(values)
        return base | st.sampled_from(["true", 0, [], {}, "x"]) if weird else base

    profile = _opt(type=v("RuntimeDefault", "Localhost", "Unconfined", ""), localhostProfile=v("p.json"))
    selinux = _opt(type=v("container_t", "container_engine_t", "spc_t", ""), user=v("", "u"), role=v("", "r"))
    handler = _opt(httpGet=_opt(host=v("", "10.0.0.1"), port=v(80)), tcpSocket=_opt(host=v("", "h"), port=v(81)))
    sc = _opt(
        privileged=v(True, False),
        allowPrivilegeEscalation=v(True, False),
        runAsNonRoot=v(True, False),
        runAsUser=v(0, 1000),
        procMount=v("Default", "Unmasked"),
        capabilities=_opt(add=st.lists(v(*CAPS), max_size=3), drop=st.lists(v(*CAPS), max_size=2)),
        seccompProfile=profile,
        appArmorProfile=profile,
        seLinuxOptions=selinux,
        windowsOptions=_opt(hostProcess=v(True, False)),
    )
    pod_sc = _opt(
        runAsNonRoot=v(True, False),
        runAsUser=v(0, 1000),
        seccompProfile=profile,
        appArmorProfile=profile,
        seLinuxOptions=selinux,
        windowsOptions=_opt(hostProcess=v(True, False)),
        sysctls=st.lists(
            st.fixed_dictionaries(
                {"name": v("kernel.shm_rmid_forced", "net.ipv4.tcp_rmem", "kernel.msgmax"), "value": st.just("1")}
            ),
            max_size=2,
        ),
    )

    def containers(prefix: str) -> st.SearchStrategy[list[dict[str, Any]]]:
        one = st.builds(
            lambda i, rest: {"name": f"{prefix}{i}", **rest},
            st.integers(0, 2),
            _opt(
                securityContext=sc,
                ports=st.lists(
                    st.fixed_dictionaries({"containerPort": st.integers(1, 3)}, optional={"hostPort": v(0, 80)}),
                    max_size=2,
                    unique_by=lambda port: port["containerPort"],
                ),
                livenessProbe=handler,
                lifecycle=_opt(preStop=handler),
            ),
        )
        return st.lists(one, max_size=2, unique_by=lambda c: c["name"])

    volume = st.builds(
        lambda i, source: {"name": f"v{i}", **source},
        st.integers(0, 3),
        st.sampled_from([{}, {"emptyDir": {}}, {"hostPath": {"path": "/"}}, {"nfs": {"server": "s"}}, {"secret": {}}])
        | (st.sampled_from([{"emptyDir": "x"}, {"configMap": {}, "hostPath": {}}]) if weird else st.nothing()),
    )
    spec = st.builds(
        lambda c, i, e, rest: {"containers": c, "initContainers": i, "ephemeralContainers": e, **rest},
        containers("c"),
        containers("i"),
        containers("e"),
        _opt(
            hostNetwork=v(True, False),
            hostPID=v(True, False),
            hostUsers=v(True, False),
            os=_opt(name=v("linux", "windows")),
            securityContext=pod_sc,
            volumes=st.lists(volume, max_size=3, unique_by=lambda vol: vol["name"]),
        ),
    )
    metadata = st.builds(
        lambda a: {"annotations": a},
        st.dictionaries(st.sampled_from(ANNOTATION_KEYS), v(*ANNOTATION_VALUES), max_size=3),
    )
    return st.tuples(metadata, spec)
