"""Audit-log detections: planted incidents among benign traffic, rotated and gzip logs, bad lines."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import orjson
import pytest
from benchmarks.gen_audit_log import GITOPS, generate

from stockade.audit.detections import CATALOGUE, AuditConfig, Detector
from stockade.audit.read import ReadProblem, read_events
from stockade.cli.main import main

EVENTS = 1_000_000


def test_every_planted_incident_is_found_and_nothing_benign() -> None:
    """A million benign events (controllers, workloads reading their Secrets, people looking,
    rollouts, view bindings, GitOps syncs, scattered denials) must give no detection; each planted
    incident must. Streamed: the log is never held in memory."""
    detector = Detector(AuditConfig(gitops=GITOPS))
    planted: dict[str, str] = {}
    missed: list[tuple[str, str, set[str]]] = []
    false_positives: list[tuple[str, set[str]]] = []
    denial_users: set[str] = set()
    benign = 0
    for expected, event in generate(EVENTS):
        ids = {d.info.id for d in detector.check(event)}
        if "AD-011" in ids:
            denial_users.add(event["user"]["username"])
        if expected and expected != "AD-011":
            planted[event["auditID"]] = expected
            if expected not in ids:
                missed.append((event["auditID"], expected, ids))
        elif not expected:
            benign += 1
            if ids - {"AD-011"}:
                false_positives.append((event["auditID"], ids))
    assert benign >= EVENTS
    assert len(planted) == 120
    assert missed == []
    assert false_positives == []
    assert denial_users == {"scanner@example.com"}
    assert {d.id for d in CATALOGUE} - {"AD-012"} == {*planted.values(), "AD-011"}


def test_gitops_writes_need_the_scope_and_spare_the_operators() -> None:
    """Without GitOps namespaces the hand changes are not judged; operators, cert-manager and a
    namespace's own workloads are never flagged, whoever they are."""
    writes = [e for expected, e in generate(30_000) if expected == "AD-013"]
    assert len(writes) == 20
    assert all("AD-013" not in {d.info.id for d in Detector().check(e)} for e in writes)
    person = writes[0]
    for user, agent in (
        ("system:serviceaccount:argocd:argocd-application-controller", "argocd-application-controller/v2.13.1"),
        ("system:serviceaccount:shop:app", "kubectl/v1.31.2"),
        ("system:serviceaccount:cert-manager:cert-manager", "cert-manager-certificates/v1.16.2"),
        ("system:kube-controller-manager", "kube-controller-manager/v1.31.2"),
    ):
        event = {**person, "user": {"username": user, "groups": []}, "userAgent": agent}
        assert [d.info.id for d in Detector(AuditConfig(gitops=GITOPS)).check(event)] == [], user
    status = {**person, "objectRef": {**person["objectRef"], "subresource": "status"}}
    scale = {**person, "objectRef": {**person["objectRef"], "subresource": "scale"}}
    assert [d.info.id for d in Detector(AuditConfig(gitops=GITOPS)).check(status)] == []
    [scaled] = Detector(AuditConfig(gitops=GITOPS)).check(scale)
    assert scaled.info.id == "AD-013"
    assert scaled.detail == (
        "mallory@example.com patch deployments/scale/shop/web with kubectl/v1.31.2, "
        "outside Argo CD Application argocd/shop"
    )


def test_requests_from_outside_the_allowed_networks() -> None:
    import ipaddress

    detector = Detector(AuditConfig(networks=(ipaddress.ip_network("10.0.0.0/8"),)))
    [(_, inside)] = [x for x in generate(1) if not x[0]][:1]
    outside = {**inside, "sourceIPs": ["10.0.0.9", "198.51.100.7"]}  # the last address is the one that counts
    assert [d.info.id for d in detector.check(inside)] == []
    assert [d.info.id for d in detector.check(outside)] == ["AD-012"]


def write_log(path: Path, events: list[dict[str, object]], compress: bool = False) -> None:
    data = b"".join(orjson.dumps(e) + b"\n" for e in events)
    path.write_bytes(gzip.compress(data) if compress else data)


def test_rotated_and_gzip_files_in_order_with_bad_lines_named(tmp_path: Path) -> None:
    events = [e for _, e in generate(300)]
    logs = tmp_path / "audit"
    logs.mkdir()
    write_log(logs / "audit-2026-12-01T00-00-00.000.log.gz", events[:100], compress=True)
    write_log(logs / "audit-2026-12-01T01-00-00.000.log", events[100:200])
    current = logs / "audit.log"
    write_log(current, events[200:])
    with current.open("ab") as handle:
        handle.write(b"{not json\n")
    for age, name in enumerate(
        ("audit-2026-12-01T00-00-00.000.log.gz", "audit-2026-12-01T01-00-00.000.log", "audit.log")
    ):
        os.utime(logs / name, (1_000_000 + age, 1_000_000 + age))
    problems: list[ReadProblem] = []
    read = list(read_events([str(logs)], problems))
    assert [e["auditID"] for e in read] == [e["auditID"] for e in events]
    assert [str(p) for p in problems] == [f"{current}:{len(events) - 200 + 1}: not JSON"]


def test_the_command_reports_evidence_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "audit.log"
    write_log(log, [e for _, e in generate(2000)])
    assert main(["audit", "scan", str(log), "-f", "json", "--break-glass", "carol@example.com"]) == 1
    report = json.loads(capsys.readouterr().out)
    exec_found = next(d for d in report["detections"] if d["id"] == "AD-001")
    assert exec_found["user"] == "mallory@example.com" and exec_found["object"] == "pods/exec/payments/api-1"
    assert exec_found["auditID"] and exec_found["time"] and exec_found["sourceIPs"] == ["10.0.0.5"]
    assert any(d["id"] == "AD-003" and "break-glass" in d["detail"] for d in report["detections"])
    quiet = tmp_path / "quiet.log"
    write_log(quiet, [e for expected, e in generate(500) if not expected and "scanner" not in str(e)])
    assert main(["audit", "scan", str(quiet)]) == 0
    capsys.readouterr()
    broken = tmp_path / "broken.log"
    broken.write_bytes(b"\x00\x01binary\n")
    assert main(["audit", "scan", str(broken)]) == 3
    assert "broken.log:1: not JSON" in capsys.readouterr().err


def test_the_throughput_benchmark_runs() -> None:
    import re
    import subprocess
    import sys

    bench = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_audit.py"
    done = subprocess.run(
        [sys.executable, str(bench), "--events", "20000"], capture_output=True, text=True, timeout=180, check=False
    )
    assert re.search(r"\| 20,\d{3} \| \d+ MB \| [\d.]+ \| \*\*[\d,]+\*\* \|", done.stdout), done.stdout + done.stderr


def test_the_break_glass_trail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.gen_audit_log import _event

    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db"},
        "data": {"password": "c2VjcmV0LXZhbHVl"},
    }
    events = [
        _event(1, "get", "alice@example.com", ["developers"], {"resource": "pods", "namespace": "shop"}),
        _event(
            2,
            "patch",
            "breakglass@example.com",
            ["oncall"],
            {"resource": "deployments", "namespace": "shop", "name": "api"},
            level="Request",
            requestObject={"spec": {"replicas": 0}},
        ),
        _event(
            3,
            "update",
            "kubernetes-admin",
            ["system:masters"],
            {"resource": "secrets", "namespace": "shop", "name": "db"},
            level="Request",
            requestObject=secret,
        ),
        _event(4, "get", "breakglass@example.com", ["oncall"], {"resource": "nodes", "name": "<script>x</script>"}),
    ]
    log = tmp_path / "audit.log"
    write_log(log, events)
    assert main(["audit", "trail", str(log), "--identity", "breakglass@example.com", "-f", "json"]) == 0
    actions = json.loads(capsys.readouterr().out)["actions"]
    assert [(a["user"], a["verb"], a["object"]) for a in actions] == [
        ("breakglass@example.com", "patch", "deployments/shop/api"),
        ("kubernetes-admin", "update", "secrets/shop/db"),
        ("breakglass@example.com", "get", "nodes/<script>x</script>"),
    ]
    assert actions[0]["changed"] == '{"spec":{"replicas":0}}'
    assert "c2VjcmV0" not in json.dumps(actions)  # Secret values blanked
    main(
        [
            "audit",
            "trail",
            str(log),
            "--identity",
            "breakglass@example.com",
            "--no-masters",
            "--since",
            events[2]["requestReceivedTimestamp"],
            "-f",
            "html",
        ]
    )
    page = capsys.readouterr().out
    assert "&lt;script&gt;" in page and "<script>" not in page and "kubernetes-admin" not in page
    main(["audit", "trail", str(log), "-f", "markdown"])
    markdown = capsys.readouterr().out
    assert "kubernetes-admin" in markdown and "breakglass" not in markdown  # masters by default, no one else
    assert markdown.count("\n| 20") == 1


DETECTIONS = """\
detections:
  - id: ACME-001
    title: Deployment scaled to zero in production
    severity: high
    technique: T1489
    expression: >-
      event.verb == "patch" && event.objectRef.resource == "deployments"
      && has(event.requestObject) && event.requestObject.spec.replicas == 0
"""


def test_users_own_cel_detections(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.gen_audit_log import _event

    rules = tmp_path / "detections.yaml"
    rules.write_text(DETECTIONS)
    events = [
        _event(
            1,
            "patch",
            "bob@example.com",
            ["oncall"],
            {"resource": "deployments", "namespace": "prod", "name": "api"},
            requestObject={"spec": {"replicas": 0}},
        ),
        _event(
            2,
            "patch",
            "bob@example.com",
            ["oncall"],
            {"resource": "deployments", "namespace": "prod", "name": "api"},
            requestObject={"spec": {"replicas": 3}},
        ),
        _event(
            3, "patch", "bob@example.com", ["oncall"], {"resource": "deployments", "namespace": "prod", "name": "api"}
        ),
    ]
    log = tmp_path / "audit.log"
    write_log(log, events)
    assert main(["audit", "scan", str(log), "--detections", str(rules), "-f", "json"]) == 1
    found = json.loads(capsys.readouterr().out)["detections"]
    assert [(d["id"], d["auditID"], d["severity"]) for d in found] == [("ACME-001", events[0]["auditID"], "high")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("detections: []\n", "non-empty `detections:` list"),
        ("detections:\n  - {id: AD-001, title: t, expression: 'true'}\n", "id AD-001 is already used"),
        ("detections:\n  - {id: X-1, title: t, expression: 'event.verb =='}\n", "does not compile"),
        ("detections:\n  - {id: X-1, title: t}\n", "missing expression"),
    ],
)
def test_bad_detection_files_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    rules = tmp_path / "detections.yaml"
    rules.write_text(text)
    with pytest.raises(SystemExit) as exit_info:
        main(["audit", "scan", "-", "--detections", str(rules)])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
