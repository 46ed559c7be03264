"""The admission configuration: modes, selection, exemptions, Pod Security, and every problem named."""

from __future__ import annotations

import re
import signal
import textwrap
from pathlib import Path

import pytest

from stockade.admission.config import (
    AdmissionConfig,
    AdmissionConfigError,
    load_admission_config,
    parse_admission_config,
)
from stockade.admission.mutate import MutationOptions
from stockade.cli.main import main
from stockade.errors import ConfigFileError
from stockade.pss.model import LATEST, PolicyVersion
from stockade.rules import load_rules
from tests.vendored import ROOT

EXCEPTIONS = """\
apiVersion: stockade.io/v1
kind: ExceptionList
exceptions:
  - rule: privileged-container
    namespace: platform
    name: node-exporter*
    reason: reads host metrics
"""


def write(directory: Path, text: str, name: str = "admission.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_defaults_judge_the_default_rules_that_need_no_other_object() -> None:
    config = AdmissionConfig.default()
    catalogue = load_rules()
    expected = {r.id for r in catalogue.values() if r.default and not r.deprecated and not r.reads}
    expected -= {r.id for r in catalogue.values() if r.scope.value == "inventory"}
    assert set(config.rule_modes) == expected
    assert set(config.rule_modes.values()) == {"warn"}
    assert config.failure_policy == "Fail"
    assert {"RB-001", "NP-001", "SA-002"} <= set(config.not_at_admission)
    assert config.pod_security.enabled and config.pod_security.enforce.level == "privileged"


def test_the_most_specific_mode_wins(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        modes:
          default: dry-run
          frameworks: {cis-1.10: audit, nsa-cisa: warn}
          families: {IM: enforce}
          rules: {WL-001: enforce, image-tag-latest: off}
        """,
    )
    config = load_admission_config(path)
    catalogue = load_rules()
    modes = config.rule_modes
    assert modes["WL-001"] == "enforce"  # its own id beats its family and frameworks
    assert "IM-001" not in modes  # off: not judged at all
    assert modes["IM-002"] == "enforce"  # the family beats the frameworks
    for rule_id, mode in modes.items():
        rule = catalogue[rule_id]
        if rule_id == "WL-001" or rule.family == "IM":
            continue
        frameworks = set(rule.frameworks)
        want = "warn" if "nsa-cisa" in frameworks else "audit" if "cis-1.10" in frameworks else "dry-run"
        assert mode == want, rule_id  # the strictest framework, else the default
    assert [r.id for r in config.rules] == sorted(modes)


def test_naming_a_rule_mode_selects_it_and_skip_rules_conflicts(tmp_path: Path) -> None:
    config = parse_admission_config({"modes": {"rules": {"pss-privileged": "enforce"}}})
    assert config.rule_modes["PSS-002"] == "enforce"  # an opt-in rule, brought in by naming it
    with pytest.raises(AdmissionConfigError) as caught:
        parse_admission_config({"skip-rules": ["WL-001"], "modes": {"rules": {"WL-001": "enforce"}}})
    assert caught.value.problems == (
        "<configuration>: modes.rules.WL-001: WL-001 has mode enforce but skip-rules leaves it out",
    )


def test_selection_by_family_and_framework() -> None:
    config = parse_admission_config({"rules": ["WL", "RB"], "skip-rules": ["WL-016"]})
    assert set(config.rule_modes) == {r.id for r in load_rules().values() if r.family == "WL"} - {"WL-016"}
    assert {r for r in config.not_at_admission if r.startswith("RB-")} == {
        r.id for r in load_rules().values() if r.family == "RB"
    }
    cis = parse_admission_config({"frameworks": ["cis-1.10"]})
    assert cis.rule_modes and all("cis-1.10" in load_rules()[r].frameworks for r in cis.rule_modes)


def test_every_problem_is_named_with_file_line_and_key_path(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        failure-policy: fail
        rules: [WL, RB-001, nope]
        modes:
          default: warnn
          families: {XX: audit}
          rules: {SA-002: warn}
        exemptions:
          namespaces: [kube-system, 3]
          user: [bob]
        pod-security:
          enabled: "yes"
          defaults: {enforce: baseline, enforce-version: 1.30, warn: restrictd}
          exemptions: {runtimeclasses: [kata]}
        exceptions: [missing.yaml]
        allowed-registries: ["registry.example.com/app:"]
        secret-entropy-threshold: 9
        severity: {WL-001: extreme}
        pod-templates: [Rollout]
        mutatee: {}
        """,
    )
    with pytest.raises(AdmissionConfigError) as caught:
        load_admission_config(path)
    problems = caught.value.problems
    expected = [
        (1, "failure-policy: expected one of Fail, Ignore, found 'fail' (did you mean 'Fail'?)"),
        (2, "rules[1]: RB-001 (cluster-admin-binding) reads other objects"),
        (2, "rules[2]: 'nope' is not a rule id"),
        (4, "modes.default: expected one of enforce, warn, audit, dry-run, off, found 'warnn'"),
        (5, "modes.families.XX: unknown family 'XX'"),
        (6, "modes.rules.SA-002: SA-002 (service-account-token-automount) reads other objects (ServiceAccount)"),
        (8, "exemptions.namespaces[1]: expected a non-empty string, found a number"),
        (9, "exemptions.user: unknown key (did you mean 'usernames'?)"),
        (11, "pod-security.enabled: expected true or false, found a string"),
        (12, "pod-security.defaults.enforce-version: expected 'latest' or 'v1.<minor>'"),
        (12, "pod-security.defaults.warn: expected one of privileged, baseline, restricted, found 'restrictd'"),
        (13, "pod-security.exemptions.runtimeclasses: unknown key (did you mean 'runtimeClasses'?)"),
        (14, "exceptions[0]: no file"),
        (15, "allowed-registries[0]:"),
        (16, "secret-entropy-threshold: expected a number of bits above 0 and at most 8, found 9"),
        (17, "severity.WL-001:"),
        (18, "pod-templates[0]:"),
        (19, "mutatee: unknown key (did you mean 'mutate'?)"),
    ]
    assert len(problems) == len(expected), "\n".join(problems)
    for problem, (line, text) in zip(problems, expected, strict=True):
        assert problem.startswith(f"{path}:{line}: {text}"), problem


def test_exceptions_files_are_read_relative_to_the_configuration(tmp_path: Path) -> None:
    write(tmp_path, EXCEPTIONS, "exceptions.yaml")
    config = load_admission_config(write(tmp_path, "exceptions: exceptions.yaml\n"))
    assert config.exceptions == (tmp_path / "exceptions.yaml",)
    assert [(e.rules, e.namespace, e.name) for e in config.waivers] == [(("WL-001",), "platform", "node-exporter*")]
    write(tmp_path, "exceptions: [{rule: WL-001}]\n", "broken.yaml")
    with pytest.raises(AdmissionConfigError) as caught:
        load_admission_config(write(tmp_path, "exceptions: [broken.yaml]\n", "b.yaml"))
    assert "exceptions[0]:" in caught.value.problems[0] and "'reason' is required" in caught.value.problems[0]


def test_pod_security_reads_like_the_api_servers_configuration() -> None:
    config = parse_admission_config(
        {
            "pod-security": {
                "defaults": {"enforce": "baseline", "enforce-version": "v1.29", "warn": "restricted"},
                "exemptions": {"usernames": ["ci"], "runtimeClasses": ["kata"], "namespaces": ["kube-system"]},
            },
            "mutate": {"drop-all-capabilities": False},
        }
    )
    psa = config.pod_security
    assert (psa.enforce.level, psa.enforce.version) == ("baseline", PolicyVersion(29))
    assert (psa.warn.level, psa.warn.version) == ("restricted", LATEST)
    assert psa.audit.level == "privileged"
    assert (psa.exempt_usernames, psa.exempt_runtime_classes, psa.exempt_namespaces) == (
        {"ci"},
        {"kata"},
        {"kube-system"},
    )
    assert config.mutate == MutationOptions(drop_all_capabilities=False)


def test_a_file_that_is_not_yaml_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match=r"admission\.yaml"):
        load_admission_config(write(tmp_path, "modes: [unclosed\n"))
    with pytest.raises(AdmissionConfigError, match=r"\(top level\): expected a mapping"):
        parse_admission_config(["not", "a", "mapping"])  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _restore_signals() -> object:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield None
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_check_config_prints_ok_or_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "modes: {default: audit, families: {WL: enforce}}\n", "good.yaml")
    assert main(["admission", "serve", "--check-config", str(good)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"OK: {good}: ") and "enforce 16" in out and "not judged at admission" in out
    bad = write(tmp_path, "failure-policy: Sometimes\nmodes: {default: block}\n", "bad.yaml")
    assert main(["admission", "serve", "--check-config", str(bad)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"stockade: error: {bad}:1: failure-policy: expected one of Fail, Ignore, found 'Sometimes'",
        f"stockade: error: {bad}:2: modes.default: expected one of enforce, warn, audit, dry-run, off, found 'block'",
    ]
    assert main(["admission", "serve", "--check-config", str(tmp_path / "absent.yaml")]) == 2
    assert (
        capsys.readouterr().err
        == f"stockade: error: {tmp_path / 'absent.yaml'}: cannot read (No such file or directory)\n"
    )


def test_the_readme_example_is_a_valid_configuration(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n# admission\.yaml\n(.*?)```", readme, re.DOTALL)
    assert example is not None, "the README shows an admission.yaml"
    (tmp_path / "exceptions.yaml").write_text((ROOT / "examples" / "demo" / "exceptions.yaml").read_text())
    config = load_admission_config(write(tmp_path, example.group(1)))
    assert config.rule_modes["WL-001"] == "enforce" and config.rule_modes["WL-002"] == "warn"
    assert config.rule_modes["IM-001"] == "dry-run"
    assert config.pod_security.enforce.level == "baseline"


def test_the_mutate_section_is_checked_as_the_mutating_endpoint_reads_it() -> None:
    with pytest.raises(AdmissionConfigError) as raised:
        parse_admission_config({"mutate": {"drop-capabilities": True, "no-token-automount": "no"}})
    assert raised.value.problems == (
        "<configuration>: mutate: unknown key 'drop-capabilities' (did you mean 'drop-all-capabilities'?)",
    )
