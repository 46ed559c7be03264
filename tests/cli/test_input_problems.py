"""Every command reports unreadable and skipped inputs the same way on stderr, and exits 3."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockade.cli.main import main

OBJECTS = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: shop}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: jane-reads, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: User, name: jane, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec: {containers: [{name: web, image: registry.example.com/web:1}]}
"""
BROKEN = "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n  oops: [\n"
COMPOSE = "version: '3'\nservices:\n  web: {image: nginx}\n"


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, list[str]]:
    """A directory with good objects, a file that cannot be parsed (its name carries an escape
    sequence) and a file with nothing to check; the problem lines every command must print."""
    (tmp_path / "objects.yaml").write_text(OBJECTS)
    broken = tmp_path / "broken\x1b[2J.yaml"
    broken.write_text(BROKEN)
    compose = tmp_path / "docker-compose.yml"
    compose.write_text(COMPOSE)
    shown = str(broken).replace("\x1b", "\\x1b")
    return tmp_path, [
        f"stockade: warning: {shown}:4: YAML syntax error",
        f"stockade: note: skipped {compose}:1: document 0: no apiVersion (not a Kubernetes object)",
    ]


COMMANDS = {
    "scan": ["scan", "-f", "json"],
    "rbac who-can": ["rbac", "who-can", "get", "pods", "-n", "shop"],
    "rbac can-i": ["rbac", "can-i", "user:jane", "get", "pods", "-n", "shop"],
    "rbac explain": ["rbac", "explain", "user:jane"],
    "rbac matrix": ["rbac", "matrix", "-n", "shop"],
    "rbac privileged": ["rbac", "privileged"],
    "pss evaluate": ["pss", "evaluate", "--level", "baseline"],
    "snapshot": ["snapshot", "-o", "SNAPSHOT"],
}


def problem_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(("stockade: warning:", "stockade: note:"))]


def test_every_command_reports_the_same_lines_and_exits_3(
    inputs: tuple[Path, list[str]], tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    directory, expected = inputs
    snapshot = str(tmp_path_factory.mktemp("out") / "snapshot.json")
    seen: dict[str, list[str]] = {}
    for name, argv in COMMANDS.items():
        argv = [snapshot if arg == "SNAPSHOT" else arg for arg in argv]
        code = main([*argv, "--no-progress", str(directory)])
        err = capsys.readouterr().err
        assert code == 3, (name, err)
        assert "\x1b" not in err, name
        seen[name] = problem_lines(err)
    lines = seen["scan"]
    assert len(lines) == len(expected)
    assert all(line.startswith(prefix) for line, prefix in zip(lines, expected, strict=True)), lines
    assert {name: found for name, found in seen.items() if found != lines} == {}


def test_a_snapshot_keeps_the_problems_for_every_later_command(
    inputs: tuple[Path, list[str]], tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    directory, _ = inputs
    snapshot = str(tmp_path_factory.mktemp("out") / "snapshot.json.gz")
    assert main(["snapshot", "--no-progress", "-o", snapshot, str(directory)]) == 3
    capsys.readouterr()
    for name, argv in COMMANDS.items():
        if name == "snapshot":
            continue
        code = main([*argv, "--no-progress", "--snapshot", snapshot])
        err = capsys.readouterr().err
        assert code == 3, (name, err)
        assert any(line.startswith(f"stockade: warning: {snapshot} (") for line in problem_lines(err)), name
