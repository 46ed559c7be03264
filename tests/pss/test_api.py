"""The public surface: version parsing, check listings, result types, evaluating a view or one check."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

import stockade.pss as pss
from stockade.model.podspec import PodView
from stockade.pss import LATEST, MAX_MINOR, CheckInfo, PolicyVersion, checks_for, parse_version
from tests.pss.pods import hardened


@pytest.mark.parametrize(
    ("text", "minor", "latest"),
    [("v1.30", 30, False), ("1.30", 30, False), ("v1.0", 0, False), ("latest", MAX_MINOR, True), (" v1.5 ", 5, False)],
)
def test_parse_version(text: str, minor: int, latest: bool) -> None:
    version = parse_version(text)
    assert (version.minor, version.latest) == (minor, latest)


def test_version_rendering_and_clamping() -> None:
    assert str(parse_version("1.30")) == "v1.30"
    assert str(LATEST) == "latest"
    assert MAX_MINOR == 37
    assert parse_version("v1.52").effective_minor == 37
    assert parse_version("latest") == LATEST


@pytest.mark.parametrize("text", ["", "v2.0", "v1", "v1.", "v1.01", "V1.3", "1.3.0", "Latest", "v1.-1", "v1.x"])
def test_parse_version_rejects_with_a_clear_message(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected 'latest', 'v1\.N' or '1\.N'"):
        parse_version(text)


def test_parse_version_rejects_non_strings() -> None:
    with pytest.raises(ValueError, match="must be a string"):
        parse_version(1.30)  # type: ignore[arg-type]


@given(st.text(max_size=12))
def test_parse_version_only_raises_value_error(text: str) -> None:
    try:
        version = parse_version(text)
    except ValueError:
        return
    assert isinstance(version, PolicyVersion)
    assert str(parse_version(str(version))) == str(version)


def test_results_are_frozen_and_slotted() -> None:
    for cls in (pss.CheckViolation, pss.PssResult, pss.CheckInfo, pss.PolicyVersion):
        assert dataclasses.is_dataclass(cls)
        assert "__slots__" in vars(cls)
    with pytest.raises(dataclasses.FrozenInstanceError):
        LATEST.minor = 3  # type: ignore[misc]


def _ids(level: pss.Level, version: str) -> list[str]:
    return [info.id for info in checks_for(level, parse_version(version))]


def test_checks_for_follows_versions_and_overrides() -> None:
    assert _ids("baseline", "v1.0") == [
        "hostNamespaces",
        "privileged",
        "capabilities_baseline",
        "hostPathVolumes",
        "hostPorts",
        "appArmorProfile",
        "seLinuxOptions",
        "procMount",
        "seccompProfile_baseline",
        "sysctls",
        "windowsHostProcess",
    ]
    assert _ids("baseline", "v1.34")[-1] == "hostProbesAndHostLifecycle"
    v10 = _ids("restricted", "v1.0")
    assert "hostPathVolumes" not in v10
    assert "restrictedVolumes" in v10
    assert "seccompProfile_baseline" in v10
    assert "allowPrivilegeEscalation" not in v10
    assert "runAsUser" not in _ids("restricted", "v1.22")
    latest = _ids("restricted", "latest")
    for gone in ("hostPathVolumes", "seccompProfile_baseline", "capabilities_baseline", "procMount"):
        assert gone not in latest
    assert len(latest) == len(set(latest)) == 15


def test_checks_for_descriptions_change_with_the_version() -> None:
    def sysctls(version: str) -> CheckInfo:
        return next(i for i in checks_for("baseline", parse_version(version)) if i.id == "sysctls")

    assert "tcp_notsent_lowat" not in sysctls("v1.36").description
    assert "tcp_notsent_lowat" in sysctls("v1.37").description
    assert sysctls("v1.0").title == "Sysctls"
    assert sysctls("v1.0").level == "baseline"


def test_checks_for_accepts_version_text_and_rejects_bad_levels() -> None:
    assert checks_for("restricted", "v1.30") == checks_for("restricted", parse_version("v1.30"))
    with pytest.raises(ValueError, match="invalid Pod Security Standards level"):
        checks_for("Restricted", LATEST)  # type: ignore[arg-type]


# --- one view, one check ------------------------------------------------------------------------


def _privileged_pod() -> tuple[dict[str, object], dict[str, object]]:
    pod = hardened()
    pod["spec"]["containers"][0]["securityContext"]["privileged"] = True
    pod["spec"]["hostPID"] = True
    return pod["metadata"], pod["spec"]


@pytest.mark.parametrize("level", ["baseline", "restricted"])
def test_evaluate_view_is_evaluate_pod_on_a_view_read_once(level: pss.Level) -> None:
    metadata, spec = _privileged_pod()
    view = PodView(metadata, spec)
    assert pss.evaluate_view(view, level, LATEST) == pss.evaluate_pod(metadata, spec, level, LATEST)


def test_check_results_are_shared_between_levels_and_single_checks() -> None:
    metadata, spec = _privileged_pod()
    view = PodView(metadata, spec)
    results: pss.CheckResults = {}
    privileged = pss.evaluate_check(view, "privileged", LATEST, results)
    assert privileged is not None and privileged.fields == ("spec.containers[0].securityContext.privileged",)
    baseline = pss.evaluate_view(view, "baseline", LATEST, results)
    assert privileged in baseline.violations
    assert next(v for v in baseline.violations if v.check == "privileged") is privileged
    assert set(results) == {c.id for c in checks_for("baseline", LATEST)}  # every check ran once, and is kept
    restricted = pss.evaluate_view(view, "restricted", LATEST, results)
    assert next(v for v in restricted.violations if v.check == "hostNamespaces") is results["hostNamespaces"]


def test_evaluate_check_knows_when_a_check_starts_and_refuses_unknown_ids() -> None:
    spec = {"containers": [{"name": "c", "livenessProbe": {"tcpSocket": {"host": "10.0.0.1", "port": 1}}}]}
    view = PodView({}, spec)
    assert pss.evaluate_check(view, "hostProbesAndHostLifecycle", parse_version("v1.33")) is None
    found = pss.evaluate_check(view, "hostProbesAndHostLifecycle", parse_version("v1.34"))
    assert found is not None and found.check == "hostProbesAndHostLifecycle"
    assert pss.evaluate_check(view, "privileged", "latest") is None
    with pytest.raises(ValueError, match="unknown Pod Security check 'privilege'"):
        pss.evaluate_check(view, "privilege", LATEST)


def test_malformed_fields_are_listed_with_what_they_must_be() -> None:
    metadata, spec = _privileged_pod()
    spec["containers"][1]["securityContext"] = [{"privileged": True}]
    spec["containers"][0]["securityContext"]["privileged"] = "yes"
    (violation,) = [
        v for v in pss.evaluate_pod(metadata, spec, "baseline", LATEST).violations if v.check == "privileged"
    ]
    assert violation.malformed == (
        pss.Malformed("spec.containers[0].securityContext.privileged", "a boolean", "'yes'"),
        pss.Malformed("spec.containers[1].securityContext", "an object"),
    )
    assert {m.field for m in violation.malformed} <= set(violation.fields)
    assert violation.message == (
        "privileged (malformed: spec.containers[0].securityContext.privileged must be a boolean, not 'yes'; "
        "spec.containers[1].securityContext must be an object)"
    )
