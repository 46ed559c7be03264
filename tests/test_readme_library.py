"""The README's library example runs as written, from the project root, and means what it says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _example() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Library", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1, "the Library section shows one example"
    return blocks[0]


def test_the_readme_library_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    namespace: dict[str, object] = {}
    out = io.StringIO()
    monkeypatch.chdir(ROOT)
    with contextlib.redirect_stdout(out):
        exec(compile(_example(), "README.md", "exec"), namespace)
    result = namespace["result"]
    lines = out.getvalue().splitlines()
    assert namespace["exit_code"] == 1  # the demo has high findings and reads cleanly
    assert lines and all(line.split()[1][:3] in ("WL-", "RB-") for line in lines)
    assert len(lines) == len(result.failed)  # type: ignore[attr-defined]
    assert any(f.status == "excepted" for f in result.findings)  # type: ignore[attr-defined]
