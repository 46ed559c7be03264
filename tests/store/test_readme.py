"""The README's history store example runs as written and records what the scan found."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from stockade.store import FindingStore, default_store_path

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_store_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    section = (ROOT / "README.md").read_text().split("## History store", 1)[1].split("\n## ", 1)[0]
    [example] = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    namespace: dict[str, object] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(example, "README.md", "exec"), namespace)
    result = namespace["result"]
    failed = len(result.failed)  # type: ignore[attr-defined]
    assert failed > 0
    assert namespace["summary"].opened == failed  # type: ignore[attr-defined]
    assert default_store_path().is_relative_to(tmp_path)
    with FindingStore.open() as store:
        assert len(store.open_findings("demo")) == failed
    assert out.getvalue().count("opened") == failed
