"""What installs with what: ``cryptography`` (TLS certificates of the admission webhook and the fake API
server) is a dependency, and scans never import it."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
from pathlib import Path

# Run in a fresh interpreter where ``cryptography`` cannot be imported, as on an install without the extra.
WITHOUT_CRYPTOGRAPHY = """\
import sys
from importlib.abc import MetaPathFinder

class NotInstalled(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "cryptography" or name.startswith("cryptography."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
"""


def run_without_cryptography(code: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    script = WITHOUT_CRYPTOGRAPHY + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=cwd)


def test_cryptography_is_a_dependency() -> None:
    requirements = importlib.metadata.requires("stockade") or []
    assert [r for r in requirements if r.startswith("cryptography")] == ["cryptography>=42"]  # no extra marker
    assert 'stockade[testing]; extra == "test"' in requirements  # the extra still resolves


def test_importing_the_fake_api_server_without_cryptography_names_it() -> None:
    result = run_without_cryptography("import stockade.testing")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: stockade.testing needs cryptography")
    assert "pip install 'cryptography>=42'" in last


def test_scans_and_the_cluster_source_run_without_cryptography(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\n"
        "spec: {containers: [{name: c, image: x:1, securityContext: {privileged: true}}]}\n"
    )
    result = run_without_cryptography(
        """
        import stockade
        import stockade.sources.cluster
        from stockade.cli.main import main
        code = main(["scan", "--no-progress", "-f", "json", "pod.yaml"])
        sys.stdout.flush()
        sys.exit(code)
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    assert '"WL-001"' in result.stdout
