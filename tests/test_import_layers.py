"""The import layers of pyproject.toml hold, and ``lint-imports`` notices when they break."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "pyproject.toml"
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports(package_parent: Path) -> subprocess.CompletedProcess[str]:
    """Check the ``stockade`` package found in ``package_parent`` against the project's contracts."""
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo", str(CONFIG)],
        capture_output=True,
        text=True,
        check=False,
        cwd=package_parent,
        env=env,
    )


def test_the_source_tree_keeps_its_layers() -> None:
    result = lint_imports(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stockade layers KEPT" in result.stdout


def test_a_model_module_importing_the_cli_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src" / "stockade", tmp_path / "stockade", ignore=shutil.ignore_patterns("__pycache__"))
    planted = tmp_path / "stockade" / "model" / "finding.py"
    planted.write_text(planted.read_text() + "\nimport stockade.cli.main  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "stockade layers BROKEN" in result.stdout
    assert "stockade.model is not allowed to import stockade.cli" in result.stdout
    assert "stockade.model.finding -> stockade.cli.main" in result.stdout


def test_rbac_and_pss_are_independent(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src" / "stockade", tmp_path / "stockade", ignore=shutil.ignore_patterns("__pycache__"))
    planted = tmp_path / "stockade" / "pss" / "model.py"
    planted.write_text(planted.read_text() + "\nimport stockade.rbac.model  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "stockade.pss is not allowed to import stockade.rbac" in result.stdout
