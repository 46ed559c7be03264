"""`--cloud-config`: EKS, GKE and AKS descriptions judged by the same rules as self-managed clusters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stockade.cli.main import main

DATA = Path(__file__).resolve().parents[1] / "data" / "cloud"
# Rules that read a ManagedCluster, and which facts each provider's description carries.
MANAGED_RULES = ("CP-006", "CP-008", "CP-016", "CP-026", "CP-046", "CP-047", "CP-048", "AU-003", "AU-004", "OB-003")


def scan(capsys: pytest.CaptureFixture[str], name: str) -> tuple[int, dict[str, set[str]], str]:
    code = main(
        [
            "scan",
            "--no-progress",
            "--cloud-config",
            str(DATA / name),
            "--rules",
            ",".join(MANAGED_RULES),
            "-f",
            "json",
            "--include-passed",
        ]
    )
    out, err = capsys.readouterr()
    by_status: dict[str, set[str]] = {"fail": set(), "pass": set()}
    for finding in json.loads(out)["findings"]:
        by_status.setdefault(finding["status"], set()).add(finding["rule"]["id"])
    return code, by_status, err


@pytest.mark.parametrize(
    ("name", "failing"),
    [
        ("eks-default.json", {"CP-016", "CP-026", "CP-046", "AU-003", "AU-004", "OB-003"}),
        ("gke-legacy.json", {"CP-006", "CP-026", "CP-046", "CP-047", "CP-048", "AU-003", "AU-004", "OB-003"}),
        ("aks-default.json", {"CP-026", "CP-046", "CP-047", "CP-048", "AU-003", "AU-004"}),
    ],
)
def test_unhardened_clusters_fail_what_they_lack(
    capsys: pytest.CaptureFixture[str], name: str, failing: set[str]
) -> None:
    code, found, _ = scan(capsys, name)
    assert code == 1
    assert found["fail"] == failing


@pytest.mark.parametrize(
    ("name", "unknown"),
    [
        ("eks-hardened.json", {"CP-047", "CP-048"}),  # node groups are described elsewhere
        ("gke-hardened.json", set()),
        ("aks-hardened.json", {"CP-016", "OB-003"}),  # diagnostic settings are a separate resource
    ],
)
def test_hardened_clusters_pass_and_unknown_facts_are_not_judged(
    capsys: pytest.CaptureFixture[str], name: str, unknown: set[str]
) -> None:
    code, found, _ = scan(capsys, name)
    assert found["fail"] == set()
    assert found["pass"] == set(MANAGED_RULES) - unknown
    assert code == 0


def test_the_same_rule_judges_a_static_pod_and_a_managed_cluster(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from stockade.rules.cp._flags import static_pod

    pod = tmp_path / "kube-apiserver.yaml"
    pod.write_text(static_pod("kube-apiserver", ("--encryption-provider-config",)))
    main(
        [
            "scan",
            "--no-progress",
            str(pod),
            "--cloud-config",
            str(DATA / "gke-legacy.json"),
            "--rules",
            "CP-026",
            "-f",
            "json",
        ]
    )
    failed = {f["resource"]["kind"] for f in json.loads(capsys.readouterr().out)["findings"] if f["status"] == "fail"}
    assert failed == {"Pod", "ManagedCluster"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"kind": "Deployment"}', "not an `aws eks describe-cluster`"),
        ("[1, 2]", "not an `aws eks describe-cluster`"),
    ],
)
def test_bad_descriptions_are_named_and_exit_3(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "cluster.json"
    bad.write_text(content)
    code = main(
        ["scan", "--no-progress", "--cloud-config", str(bad), "--cloud-config", str(DATA / "gke-hardened.json")]
    )
    out, err = capsys.readouterr()
    assert code == 3
    assert "cluster.json" in out + err and message in out + err
