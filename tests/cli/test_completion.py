"""Shell completion end to end: the script `stockade completion SHELL` prints, sourced into the real
shell, which runs the installed `stockade` through argcomplete's protocol."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stockade import __version__
from stockade.cli.main import main

BIN = Path(sys.executable).parent  # where `make install` put stockade and kubectl-stockade

KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: prod-eu
contexts:
  - {name: prod-eu, context: {cluster: eu, user: admin}}
  - {name: staging, context: {cluster: eu, user: admin}}
users:
  - {name: admin, user: {token: planted-t0ken-never-completed}}
"""

# Drives bash's programmable completion as the shell does on <TAB>: COMP_* set, the function run.
BASH_DRIVER = r"""
source <(stockade completion bash)
for line in "$@"; do
    COMP_LINE=$line COMP_POINT=${#line}
    read -ra COMP_WORDS <<< "$line"
    [[ $line == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) COMPREPLY=()
    _python_argcomplete "${COMP_WORDS[0]}"
    (IFS='|'; echo "${COMPREPLY[*]}")
done
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    home = tmp_path / "home"  # no ~/.kube/config outside the test
    home.mkdir()
    return {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(home), "KUBECONFIG": str(tmp_path / "kubeconfig")}


def bash_complete(env: dict[str, str], *lines: str) -> list[list[str]]:
    done = subprocess.run(
        ["bash", "-c", BASH_DRIVER, "driver", *lines], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    return [[word.strip() for word in out.split("|") if word] for out in done.stdout.splitlines()]


def test_bash_completes_commands_rules_contexts_and_formats(env: dict[str, str]) -> None:
    commands, ids, names, listed, contexts, scan_formats, rbac_formats, plugin = bash_complete(
        env,
        "stockade ",
        "stockade scan --rules WL-00",
        "stockade scan --skip-rules privileged-c",
        "stockade scan --rules WL-001,IM-00",
        "stockade scan --context ",
        "stockade scan -f ",
        "stockade rbac who-can get secrets -f ",
        "kubectl-stockade rbac matrix --context st",
    )
    assert {"scan", "rbac", "completion", "version"} <= set(commands)
    assert {"WL-001", "WL-002"} <= set(ids) and all(i.startswith("WL-00") for i in ids)
    assert names == ["privileged-container"]
    assert "WL-001,IM-001" in listed
    assert contexts == ["prod-eu", "staging"]  # names only: nothing else of the kubeconfig (its token)
    assert {"json", "sarif", "html"} <= set(scan_formats)
    assert rbac_formats == ["table", "json"]
    assert plugin == ["staging"]


def test_contexts_come_from_the_kubeconfig_named_on_the_line(env: dict[str, str], tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.write_text("contexts:\n  - {name: lab, context: {cluster: x, user: y}}\n")
    named, broken = bash_complete(
        {**env, "KUBECONFIG": str(tmp_path / "missing")},
        f"stockade scan --kubeconfig {other} --context ",
        "stockade scan --context ",
    )
    assert named == ["lab"]
    assert broken == []  # an unreadable kubeconfig completes nothing, and says nothing


def _missing_shell(reason: str) -> None:
    """Skip on a developer's machine without the shell; fail in CI, which installs it (.ci/run)."""
    if os.environ.get("STOCKADE_CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def test_fish_completes_rules_and_contexts(env: dict[str, str]) -> None:
    if shutil.which("fish") is None:
        _missing_shell(
            "fish is not installed here (apt-get install fish); test_every_script_speaks_the_protocol covers its text"
        )
    script = 'stockade completion fish | source; complete -C "stockade scan --context "; complete -C "stockade scan --rules WL-00"'
    done = subprocess.run(["fish", "-c", script], capture_output=True, text=True, env=env, timeout=60, check=True)
    words = done.stdout.split()
    assert words[:2] == ["prod-eu", "staging"]
    assert "WL-001" in words[2:]


def test_zsh_script_parses_and_answers_with_rules_and_contexts(env: dict[str, str]) -> None:
    if shutil.which("zsh") is None:
        _missing_shell(
            "zsh is not installed here (apt-get install zsh); test_every_script_speaks_the_protocol covers its text"
        )
    # zsh's _describe works only inside a completion widget; the test prints what it is handed.
    script = """
    autoload -U compinit && compinit -u
    source <(stockade completion zsh)
    _describe() { print -l -- "${(@P)2}" }
    for BUFFER in 'stockade scan --context ' 'stockade scan --rules WL-00'; do
        CURSOR=${#BUFFER} words=(${=BUFFER} '')
        _python_argcomplete
    done
    """
    script_text = subprocess.run([BIN / "stockade", "completion", "zsh"], capture_output=True, text=True, check=True)
    assert subprocess.run(["zsh", "-n"], input=script_text.stdout, text=True, check=False).returncode == 0
    done = subprocess.run(["zsh", "-f", "-c", script], capture_output=True, text=True, env=env, timeout=60, check=True)
    offered = [line.split(":")[0] for line in done.stdout.splitlines()]
    assert offered[:2] == ["prod-eu", "staging"]
    assert "WL-001" in offered


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_every_script_speaks_the_protocol(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert "_ARGCOMPLETE" in script  # the variable that makes stockade answer instead of running
    registers = {
        "bash": ["-F _python_argcomplete stockade kubectl-stockade"],
        "zsh": ["compdef _python_argcomplete stockade kubectl-stockade"],
        "fish": ["complete --command stockade ", "complete --command kubectl-stockade "],
    }
    assert all(line in script for line in registers[shell])


def test_normal_runs_do_not_load_completion() -> None:
    probe = "import sys; from stockade.cli.main import main; main(['version']); print('argcomplete' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [f"stockade {__version__}", "False"]


def test_version_text_is_unchanged_and_json_is_for_tooling(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"stockade {__version__}\n"
    assert main(["--version", "-f", "json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["version"] == __version__
    assert info["python"] == ".".join(map(str, sys.version_info[:3]))
    assert isinstance(info["platform"], str) and info["platform"]
    assert main(["version", "-f", "json", "-o", str(tmp_path / "v.json")]) == 0
    assert json.loads((tmp_path / "v.json").read_text()) == info
