"""``stockade pss evaluate`` end to end: real files, real parser, every exit code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stockade.cli.main import main

NAMESPACES = """\
apiVersion: v1
kind: Namespace
metadata:
  name: storefront
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: v1.30
    pod-security.kubernetes.io/warn: restricted
---
apiVersion: v1
kind: Namespace
metadata:
  name: tools
  labels:
    pod-security.kubernetes.io/audit: baseline
---
apiVersion: v1
kind: Namespace
metadata:
  name: legacy
  labels:
    pod-security.kubernetes.io/enforce: strict
"""

WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: storefront}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - {name: web, image: registry.example.com/web:1}
"""

DEBUG = """\
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: tools}
spec:
  containers:
    - name: sh
      image: busybox
      securityContext: {privileged: true}
"""

# Denied only from policy v1.34, when the host-probe check appeared.
PROBE = """\
apiVersion: v1
kind: Pod
metadata: {name: probe, namespace: %s}
spec:
  containers:
    - name: app
      image: app:1
      livenessProbe:
        tcpSocket: {host: 10.0.0.1, port: 80}
"""

HARDENED = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: storefront}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: db
          image: registry.example.com/db:16
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, Any]], str]:
    code = main(["pss", "evaluate", "--no-progress", *argv])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exc:
        main(["pss", "evaluate", "--no-progress", *argv])
    assert exc.value.code == 2
    return capsys.readouterr().err


def by_name(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in records}


def test_namespace_labels_choose_each_pods_level(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = [
        write(tmp_path, "ns.yaml", NAMESPACES),
        write(tmp_path, "web.yaml", WEB),
        write(tmp_path, "dbg.yaml", DEBUG),
    ]
    files.append(write(tmp_path, "legacy.yaml", PROBE % "legacy"))
    code, records, err = run(capsys, *files)
    assert code == 1
    found = by_name(records)
    web = found["web"]
    assert web["kind"] == "Deployment" and web["namespace"] == "storefront"
    assert (web["allowed"], web["level"], web["version"]) == (False, "restricted", "v1.30")
    assert web["policy"] == {"level": "restricted", "version": "v1.30", "from": "namespace storefront label"}
    assert [v["check"] for v in web["violations"]] == [
        "allowPrivilegeEscalation",
        "runAsNonRoot",
        "seccompProfile_restricted",
        "capabilities_restricted",
    ]
    assert web["violations"][0]["containers"] == ["web"]
    assert "allowPrivilegeEscalation=false" in web["violations"][0]["message"]
    assert web["file"].endswith("web.yaml") and web["line"] == 1
    # An audit label is not an enforce label: the default applies, and says so.
    assert found["debug"]["allowed"] is True
    assert found["debug"]["policy"] == {
        "level": "privileged",
        "version": "latest",
        "from": "default (privileged: no enforce label)",
    }
    # An unreadable enforce level fails closed to restricted, as the admission plugin does.
    assert (found["probe"]["level"], found["probe"]["allowed"]) == ("restricted", False)
    assert "not in the input" not in err


def test_fixed_level_and_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "probe.yaml", PROBE % "shop")
    code, records, _ = run(capsys, "--level", "baseline", "--version", "v1.33", path)
    assert code == 0
    assert records[0]["allowed"] is True
    assert records[0]["policy"]["from"] == "--level"
    code, records, _ = run(capsys, "--level", "baseline", "--version", "v1.34", path)
    assert code == 1
    assert [v["check"] for v in records[0]["violations"]] == ["hostProbesAndHostLifecycle"]
    code, records, _ = run(capsys, "--level", "baseline", path)  # --version defaults to latest
    assert (code, records[0]["version"]) == (1, "latest")
    code, records, _ = run(capsys, "--level", "privileged", path)
    assert (code, records[0]["allowed"], records[0]["violations"]) == (0, True, [])


def test_namespaces_missing_from_the_input_get_the_default_and_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "probe.yaml", PROBE % "shop")
    code, records, err = run(capsys, path)
    assert code == 0
    assert records[0]["policy"]["from"] == "default (privileged: namespace shop not in the input)"
    assert "the Namespace objects of shop are not in the input" in err
    code, records, err = run(capsys, "--default-level", "baseline", "--default-version", "v1.34", path)
    assert code == 1
    assert records[0]["policy"] == {
        "level": "baseline",
        "version": "v1.34",
        "from": "default (baseline: namespace shop not in the input)",
    }


def test_every_workload_kind_is_evaluated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = "{hostPID: true, containers: [{name: c, image: x}]}"
    manifests = f"""\
apiVersion: batch/v1
kind: CronJob
metadata: {{name: cron, namespace: a}}
spec: {{schedule: "@daily", jobTemplate: {{spec: {{template: {{spec: {spec}}}}}}}}}
---
apiVersion: batch/v1
kind: Job
metadata: {{name: job, namespace: a}}
spec: {{template: {{spec: {spec}}}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: ds, namespace: a}}
spec: {{template: {{spec: {spec}}}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {{name: rs, namespace: a}}
spec: {{template: {{spec: {spec}}}}}
---
apiVersion: v1
kind: ReplicationController
metadata: {{name: rc, namespace: a}}
spec: {{template: {{spec: {spec}}}}}
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {{name: rollout, namespace: a}}
spec: {{template: {{spec: {spec}}}}}
---
apiVersion: example.com/v1
kind: Runner
metadata: {{name: runner, namespace: a}}
spec: {{podTemplate: {{spec: {spec}}}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: not-a-pod, namespace: a}}
data: {{hostPID: "true"}}
"""
    path = write(tmp_path, "all.yaml", manifests)
    code, records, _ = run(capsys, "--level", "baseline", "--pod-template", "Runner.example.com=spec.podTemplate", path)
    assert code == 1
    assert sorted(r["kind"] for r in records) == sorted(
        ["CronJob", "Job", "DaemonSet", "ReplicaSet", "ReplicationController", "Rollout", "Runner"]
    )
    assert all(r["violations"][0]["check"] == "hostNamespaces" for r in records)


def test_table_format_for_people(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = [
        write(tmp_path, "ns.yaml", NAMESPACES),
        write(tmp_path, "web.yaml", WEB),
        write(tmp_path, "db.yaml", HARDENED),
    ]
    code = main(["pss", "evaluate", "--no-progress", "--format", "table", *files])
    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    assert lines[0].split() == ["NAMESPACE", "KIND", "NAME", "POLICY", "FROM", "RESULT"]
    web = next(line for line in lines if " web " in line)
    assert "restricted:v1.30" in web and "namespace storefront label" in web
    assert web.endswith(
        "denied: allowPrivilegeEscalation, runAsNonRoot, seccompProfile_restricted, capabilities_restricted"
    )
    assert any(line.startswith("    runAsNonRoot: runAsNonRoot != true") for line in lines)
    assert next(line for line in lines if " db " in line).endswith("allowed")
    assert lines[-1] == "2 pods evaluated: 1 allowed, 1 denied"


def test_all_allowed_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = [write(tmp_path, "ns.yaml", NAMESPACES), write(tmp_path, "db.yaml", HARDENED)]
    code, records, err = run(capsys, *files)
    assert code == 0
    assert [(r["name"], r["allowed"]) for r in records] == [("db", True)]
    assert err == ""


def test_unreadable_input_exits_three_and_names_the_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path, "db.yaml", HARDENED)
    bad = write(tmp_path, "bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n  oops: [\n")
    code, records, err = run(capsys, "--level", "restricted", good, bad)
    assert code == 3
    assert [r["name"] for r in records] == ["db"]  # what could be read is still reported
    assert f"stockade: warning: {bad}:4: YAML syntax error" in err
    missing = str(tmp_path / "nope.yaml")
    code, records, err = run(capsys, missing)
    assert (code, records) == (3, [])
    assert missing in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--level", "strict"], "invalid choice: 'strict'"),
        (["--level", "baseline", "--version", "v2.0"], "--version: invalid Pod Security Standards version 'v2.0'"),
        (["--version", "v1.30"], "--version goes with --level"),
        (["--default-version", "soon"], "--default-version: invalid Pod Security Standards version"),
        (["--format", "yaml"], "invalid choice: 'yaml'"),
    ],
)
def test_usage_errors_exit_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    path = write(tmp_path, "web.yaml", WEB)
    assert message in usage_error(capsys, *argv, path)


def test_no_input_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert "nothing to read" in usage_error(capsys)


def test_a_directory_of_manifests_and_owned_pods(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "app").mkdir()
    write(tmp_path, "app/ns.yaml", NAMESPACES)
    write(tmp_path, "app/web.yaml", WEB)
    owned = """\
apiVersion: v1
kind: Pod
metadata:
  name: web-abc12
  namespace: storefront
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, controller: true, uid: "1"}]
spec:
  containers: [{name: web, image: registry.example.com/web:1}]
"""
    write(tmp_path, "app/pod.yaml", owned)
    code, records, _ = run(capsys, str(tmp_path / "app"))
    assert code == 1
    assert [r["name"] for r in records] == ["web"]  # the owner stands for the pods it creates


def test_audit_and_warn_labels_are_reported_without_changing_the_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [
        write(tmp_path, "ns.yaml", NAMESPACES),
        write(tmp_path, "debug.yaml", DEBUG),
        write(tmp_path, "web.yaml", WEB),
    ]
    code, records, _ = run(capsys, *files)
    debug, web = by_name(records)["debug"], by_name(records)["web"]
    # tools: no enforce label (privileged, allowed), audit at baseline records the privileged container.
    assert debug["allowed"] is True
    assert debug["warn"] is None
    assert debug["audit"]["level"] == "baseline" and debug["audit"]["allowed"] is False
    assert [v["check"] for v in debug["audit"]["violations"]] == ["privileged"]
    # storefront: warn at restricted (latest) alongside enforce restricted v1.30.
    assert web["warn"]["level"] == "restricted" and web["warn"]["version"] == "latest"
    assert web["warn"]["allowed"] is web["allowed"] is False
    assert web["audit"] is None
    assert code == 1  # web is denied by its enforce level; audit/warn never change the exit code
    code, records, _ = run(capsys, "--level", "privileged", *files)
    assert all(r["audit"] is None and r["warn"] is None for r in records)  # --level: one fixed policy
    assert code == 0
