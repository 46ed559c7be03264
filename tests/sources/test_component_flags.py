"""Control-plane component flags, parsed as pflag parses them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stockade.sources.component_flags import container_argv, parse_flags, parse_version


def test_equals_and_space_forms_repeated_flags_and_last_wins() -> None:
    flags = parse_flags(
        "kube-apiserver",
        [
            "kube-apiserver",
            "--authorization-mode=Node,RBAC",
            "--audit-log-path",
            "/var/log/audit.log",
            "--enable-admission-plugins=NodeRestriction",
            "--enable-admission-plugins",
            "PodSecurity",
            "--profiling=false",
            "--profiling=true",
        ],
    )
    assert flags.get("audit-log-path") == "/var/log/audit.log"
    assert flags.list_values("authorization-mode") == ["Node", "RBAC"]
    assert flags.list_values("enable-admission-plugins") == ["NodeRestriction", "PodSecurity"]
    assert flags.get("profiling") == "true"
    assert flags.positional == ("kube-apiserver",)


def test_boolean_flags_take_values_only_with_equals() -> None:
    flags = parse_flags("kube-apiserver", ["--anonymous-auth", "false", "--secure-port", "6443"])
    assert flags.get("anonymous-auth") == "true"  # pflag: "false" is a stray argument here
    assert flags.positional == ("false",)
    assert flags.get("secure-port") == "6443"


def test_defaults_by_version() -> None:
    flags = parse_flags("kube-apiserver", ["kube-apiserver"])
    assert flags.get("anonymous-auth", (1, 30)) == "true"
    assert flags.get("insecure-port", (1, 19)) == "8080"
    assert flags.get("insecure-port", (1, 22)) == "0"
    assert flags.get("insecure-port", (1, 30)) is None
    assert not flags.is_set("anonymous-auth")


def test_shell_wrapped_command() -> None:
    assert container_argv({"command": ["/bin/sh", "-c", "etcd --client-cert-auth=true --data-dir /var/lib/etcd"]}) == [
        "etcd",
        "--client-cert-auth=true",
        "--data-dir",
        "/var/lib/etcd",
    ]


def test_versions() -> None:
    assert parse_version("v1.29.4-eks-036c24b") == (1, 29)
    assert parse_version("1.31") == (1, 31)
    assert parse_version("v1.27+") == (1, 27)
    assert parse_version("garbage") is None


@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z-]{0,15}", fullmatch=True),
        st.from_regex(r"[A-Za-z0-9/,.]{1,10}", fullmatch=True),
        max_size=8,
    )
)
def test_equals_form_round_trips(flags: dict[str, str]) -> None:
    parsed = parse_flags("kube-scheduler", [f"--{k}={v}" for k, v in flags.items()])
    assert {k: parsed.get(k) for k in flags} == flags
