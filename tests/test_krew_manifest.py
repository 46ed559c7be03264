"""The krew manifest (plugins/stockade.yaml): the structure krew validates, a sha256 that is the
archive's, and an archive whose launcher, run by the real kubectl, starts the installed Stockade."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from stockade import __version__

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
MANIFEST: dict[str, Any] = yaml.safe_load((PLUGINS / "stockade.yaml").read_text())
ARCHIVE = PLUGINS / "kubectl-stockade-krew.tar.gz"
BIN = Path(sys.executable).parent  # where `make install` put kubectl-stockade
KUBECTL = shutil.which("kubectl")


def test_manifest_has_the_structure_krew_validates() -> None:
    # The checks of krew's ValidatePlugin / validatePlatform, in order.
    assert MANIFEST["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert MANIFEST["kind"] == "Plugin"
    assert MANIFEST["metadata"]["name"] == "stockade" == (PLUGINS / "stockade.yaml").stem
    spec = MANIFEST["spec"]
    assert spec["shortDescription"] and not re.search(r"[\r\n]", spec["shortDescription"])
    assert len(spec["shortDescription"]) <= 50  # krew-index's guideline for `kubectl krew search`
    assert spec["description"].strip() and spec["caveats"].strip()
    assert spec["homepage"].startswith("https://")
    assert spec["version"] == f"v{__version__}"
    assert spec["platforms"]
    for platform in spec["platforms"]:
        assert platform["uri"].startswith("https://")
        assert platform["uri"].endswith(f"/v{__version__}/{ARCHIVE.name}")
        assert re.fullmatch(r"[a-f0-9]{64}", platform["sha256"])
        assert platform["bin"] == "kubectl-stockade"
        assert platform["files"] and all(op["from"] and op["to"] for op in platform["files"])
        selector = platform["selector"]
        keys = [*selector.get("matchLabels", {}), *(e["key"] for e in selector.get("matchExpressions", []))]
        assert keys and set(keys) <= {"os", "arch"}
        # A shell launcher: no Windows platform is offered.
        assert all("windows" not in e.get("values", []) for e in selector.get("matchExpressions", []))


def test_sha256_is_the_archives_and_the_archive_holds_the_current_launcher() -> None:
    data = ARCHIVE.read_bytes()
    assert {p["sha256"] for p in MANIFEST["spec"]["platforms"]} == {hashlib.sha256(data).hexdigest()}
    with tarfile.open(ARCHIVE) as tar:
        (member,) = tar.getmembers()
        launcher = tar.extractfile(member)
        assert launcher is not None
        assert member.name == "kubectl-stockade" and member.mode == 0o755
        assert launcher.read() == (PLUGINS / "krew" / "kubectl-stockade").read_bytes(), "run `make krew`"


def test_launcher_installs_the_manifests_version() -> None:
    launcher = (PLUGINS / "krew" / "kubectl-stockade").read_text()
    assert f"\nversion={__version__}\n" in launcher


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    """The archive unpacked as krew does (files: kubectl-stockade → bin)."""
    bin_dir = tmp_path / "krew-bin"
    bin_dir.mkdir()
    with tarfile.open(ARCHIVE) as tar:
        tar.extractall(bin_dir, filter="data")
    return bin_dir


def test_kubectl_runs_the_launcher_which_runs_stockade(installed: Path, tmp_path: Path) -> None:
    assert KUBECTL is not None, "kubectl is part of the development machine (see README)"
    venv = tmp_path / "home" / __version__  # as if the first run had installed the package here
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "kubectl-stockade").symlink_to(BIN / "kubectl-stockade")
    (venv / ".installed").touch()
    env = {"PATH": f"{installed}:/usr/bin:/bin", "STOCKADE_KREW_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [KUBECTL, "stockade", "version", "-f", "json"], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["version"] == __version__


def test_launcher_without_python_says_what_it_needs(installed: Path, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "STOCKADE_KREW_HOME": str(tmp_path / "home"), "STOCKADE_PYTHON": "no-such-python"}
    done = subprocess.run(
        [installed / "kubectl-stockade", "scan"], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "needs Python 3.11 or later" in done.stderr
    assert not (tmp_path / "home").exists()  # nothing half-installed
