"""The shipped pre-commit hook (.pre-commit-hooks.yaml), run by pre-commit itself on real commits.

pre-commit would install a ``language: python`` hook from a clone with pip (the network); the test
runs the shipped definition unchanged but for ``language: system``, which uses the ``stockade``
of this virtualenv. Everything pre-commit keeps goes under tmp_path (PRE_COMMIT_HOME).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pre_commit.clientlib import load_config, load_manifest

from tests.helpers import PRIVILEGED_POD

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ROOT / ".pre-commit-hooks.yaml"
BIN = Path(sys.executable).parent  # where `make install` put stockade

GOOD_POD = PRIVILEGED_POD.replace("privileged: true", "privileged: false\n        allowPrivilegeEscalation: false")

# What else a repository commits: none of it is a Kubernetes object, none may fail the hook.
UNRELATED = {
    ".github/workflows/ci.yml": "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
    "    steps:\n      - uses: actions/checkout@v4\n",
    "docker-compose.yml": "services:\n  web:\n    image: nginx\n    privileged: true\n",
    "mkdocs.yml": "site_name: docs\nmarkdown_extensions:\n  - pymdownx.emoji:\n"
    "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n",
    "package.json": '{"name": "site", "version": "1.0.0"}\n',
    "tsconfig.json": '{\n  // comments: JSON with comments\n  "compilerOptions": {}\n}\n',
    "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "chart/templates/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
    "  name: {{ .Release.Name }}\n{{- if .Values.extra }}\n  labels: {}\n{{- end }}\n",
}


def shipped_hook() -> dict[str, Any]:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    (hook,) = [h for h in hooks if h["id"] == "stockade"]
    assert isinstance(hook, dict)
    return hook


def test_pre_commit_accepts_the_hook_definition() -> None:
    (hook,) = [h for h in load_manifest(str(HOOKS)) if h["id"] == "stockade"]
    assert hook["language"] == "python"
    assert hook["entry"].split()[:2] == ["stockade", "scan"]
    assert hook["pass_filenames"] is True


class Repo:
    """A throwaway git repository whose commits run the hook through ``pre-commit install``."""

    def __init__(self, path: Path, env: dict[str, str]) -> None:
        self.path, self.env = path, env

    def run(self, *command: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command,
            cwd=self.path,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    def write(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            (self.path / name).parent.mkdir(parents=True, exist_ok=True)
            (self.path / name).write_text(text, encoding="utf-8")

    def commit(self, files: dict[str, str], *flags: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        self.write(files)
        assert self.run("git", "add", "--", *files).returncode == 0
        return self.run("git", "commit", "-q", "-m", "change", *flags, extra_env=extra_env)

    def head(self) -> str:
        return self.run("git", "rev-parse", "HEAD").stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(tmp_path / "home"),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PRE_COMMIT_COLOR": "never",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
        "LANG": "C.UTF-8",
    }
    path = tmp_path / "project"
    path.mkdir()
    repo = Repo(path, env)
    hook = {**shipped_hook(), "language": "system"}
    config = {"repos": [{"repo": "local", "hooks": [hook]}]}
    assert repo.run("git", "init", "-q").returncode == 0
    installed = repo.run(sys.executable, "-m", "pre_commit", "install")
    assert installed.returncode == 0, installed.stderr
    # The config is YAML too: committing it runs the hook on it (skipped, not Kubernetes).
    first = repo.commit({".pre-commit-config.yaml": yaml.safe_dump(config, sort_keys=False)})
    assert first.returncode == 0, first.stdout + first.stderr
    return repo


def test_a_bad_manifest_is_refused_with_its_finding_and_a_fixed_one_passes(repo: Repo) -> None:
    before = repo.head()
    refused = repo.commit({"k8s/pod.yaml": PRIVILEGED_POD})
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert "Failed" in output
    assert "WL-001 privileged-container" in output
    assert "Pod/shop/web" in output and "k8s/pod.yaml:11" in output
    assert repo.head() == before

    fixed = repo.commit({"k8s/pod.yaml": GOOD_POD})
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert repo.head() != before


def test_files_that_are_not_kubernetes_manifests_pass(repo: Repo) -> None:
    result = repo.commit(UNRELATED)
    assert result.returncode == 0, result.stdout + result.stderr
    # Proof the hook ran on them (an all-excluded commit would say "no files to check").
    shown = repo.run(sys.executable, "-m", "pre_commit", "run", "stockade", "--verbose", "--files", *UNRELATED)
    assert shown.returncode == 0, shown.stdout
    assert "Skipped inputs (5)" in shown.stdout, shown.stdout
    for name in (".github/workflows/ci.yml", "docker-compose.yml", "mkdocs.yml", "package.json"):
        assert f"{name}:1: document 0: no apiVersion (not a Kubernetes object)" in shown.stdout
    assert "chart/Chart.yaml:1: document 0: no kind (not a Kubernetes object)" in shown.stdout
    for excluded in ("tsconfig.json", "chart/templates/deployment.yaml"):
        assert excluded not in shown.stdout


def test_only_the_changed_manifests_are_scanned(repo: Repo) -> None:
    assert repo.commit({"k8s/legacy.yaml": PRIVILEGED_POD}, "--no-verify").returncode == 0
    result = repo.commit({"k8s/pod.yaml": GOOD_POD})
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_progress_bar_in_the_terminal_pre_commit_gives_the_hook(repo: Repo) -> None:
    # With colour, pre-commit runs the hook in a pseudo-terminal: a progress bar would draw there.
    refused = repo.commit({"k8s/pod.yaml": PRIVILEGED_POD}, PRE_COMMIT_COLOR="always")
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert "\x1b[1m" in output  # the hook's own colour: it did run in a terminal
    assert "\x1b[?25l" not in output  # rich hides the cursor while a progress bar is up


def test_the_readme_config_is_valid_and_names_the_shipped_hook(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```yaml\n# \.pre-commit-config\.yaml\n(.*?)```", readme, re.DOTALL)
    (tmp_path / "config.yaml").write_text(block, encoding="utf-8")
    config = load_config(str(tmp_path / "config.yaml"))
    assert [hook["id"] for hook in config["repos"][0]["hooks"]] == [shipped_hook()["id"]]
