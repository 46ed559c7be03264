"""Lazy exact line lookup: the line of a field, found only when asked for."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockade.model.resource import Origin
from stockade.sources.files import collect_paths
from stockade.sources.locate import default_locator, locate_line

DEPLOYMENT = """\
# comment line 1
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: nginx
        securityContext:
          privileged: true
      - name: sidecar
        image: envoy
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: first
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: second
  data:
    key: value
"""


def _origins(tmp_path: Path, text: str, name: str = "app.yaml") -> dict[str, Origin]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = collect_paths([str(path)])
    assert result.errors == []
    return {r.name: r.origin for r in result.resources}


def test_fields_of_an_object(tmp_path: Path) -> None:
    web = _origins(tmp_path, DEPLOYMENT)["web"]
    assert web.line == 2
    containers = ("spec", "template", "spec", "containers")
    assert locate_line(web, ()) == 2
    assert locate_line(web, ("kind",)) == 3
    assert locate_line(web, (*containers, 0)) == 10
    assert locate_line(web, (*containers, 0, "securityContext", "privileged")) == 13
    assert locate_line(web, (*containers, 1, "image")) == 15


def test_missing_tail_gives_the_deepest_existing_node(tmp_path: Path) -> None:
    web = _origins(tmp_path, DEPLOYMENT)["web"]
    containers = ("spec", "template", "spec", "containers")
    assert locate_line(web, (*containers, 1, "securityContext", "runAsNonRoot")) == 14
    assert locate_line(web, (*containers, 7, "image")) == 9
    assert locate_line(web, ("spec", "template", "metadata", "labels")) == 7


def test_items_of_a_list(tmp_path: Path) -> None:
    origins = _origins(tmp_path, DEPLOYMENT)
    first, second = origins["first"], origins["second"]
    assert (first.document, first.item, second.item) == (1, 0, 1)
    assert first.line == second.line == 17
    assert locate_line(first, ("metadata", "name")) == 23
    assert locate_line(second, ("data", "key")) == 29


def test_json_file(tmp_path: Path) -> None:
    text = '{\n\t"apiVersion": "v1",\n\t"kind": "Pod",\n\t"metadata": {\n\t\t"name": "j"\n\t}\n}\n'
    origin = _origins(tmp_path, text, "pod.json")["j"]
    assert origin.line == 1
    assert locate_line(origin, ("metadata", "name")) == 5


def test_merge_keys(tmp_path: Path) -> None:
    text = (
        "defaults: &defaults\n  privileged: true\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: merged\n"
        "spec:\n  securityContext: &sc\n    runAsUser: 0\n  extra:\n    <<: *sc\n    other: 1\n"
    )
    origin = _origins(tmp_path, text)["merged"]
    assert locate_line(origin, ("spec", "extra", "runAsUser")) == 10
    assert locate_line(origin, ("spec", "extra", "other")) == 13


def test_gone_or_changed_files_fall_back_to_the_document_line(tmp_path: Path) -> None:
    origin = _origins(tmp_path, DEPLOYMENT)["web"]
    (tmp_path / "app.yaml").unlink()
    assert locate_line(origin, ("kind",)) == 2
    assert locate_line(Origin("nowhere.yaml", 3, 7), ("a",)) == 7
    assert locate_line(Origin("deploy (kustomize)", 0, 0), ("a",)) == 0
    (tmp_path / "app.yaml").write_text("kind: X\n", encoding="utf-8")
    assert locate_line(Origin(origin.file, 5, 2), ("kind",)) == 2


def test_stdin_lines_are_kept() -> None:
    result = collect_paths(["-"], stdin=io.BytesIO(DEPLOYMENT.encode()))
    web = next(r for r in result.resources if r.name == "web")
    assert web.origin.file == "<stdin>"
    assert locate_line(web.origin, ("spec", "template", "spec", "containers", 1)) == 14


# --- generated documents -----------------------------------------------------------------------

_keys = st.text(alphabet="abcdefgh", min_size=1, max_size=5).map(lambda s: "k" + s)
_scalars = st.one_of(st.integers(min_value=0, max_value=999), st.sampled_from(["x", "a b", "'q'", '"d"']))


def _tree(depth: int) -> st.SearchStrategy[Any]:
    if depth == 0:
        return _scalars
    child = _tree(depth - 1)
    return st.one_of(
        _scalars,
        st.dictionaries(_keys, child, min_size=1, max_size=3),
        st.lists(st.one_of(_scalars, st.dictionaries(_keys, child, min_size=1, max_size=3)), min_size=1, max_size=3),
    )


class _Emitter:
    """Block YAML with the line of every path recorded as it is written."""

    def __init__(self, indent: int) -> None:
        self.step = indent
        self.lines: list[str] = []
        self.where: dict[tuple[Any, ...], int] = {}

    def mapping(self, value: dict[str, Any], column: int, path: tuple[Any, ...], first: str | None) -> None:
        for index, (key, child) in enumerate(value.items()):
            prefix = first if index == 0 and first is not None else " " * column
            here = (*path, key)
            if isinstance(child, dict):
                self.lines.append(f"{prefix}{key}:")
                self.where[here] = len(self.lines)
                self.mapping(child, column + self.step, here, None)
            elif isinstance(child, list):
                self.lines.append(f"{prefix}{key}:")
                self.where[here] = len(self.lines)
                self.sequence(child, column + self.step, here)
            else:
                self.lines.append(f"{prefix}{key}: {child}")
                self.where[here] = len(self.lines)

    def sequence(self, value: list[Any], column: int, path: tuple[Any, ...]) -> None:
        for index, child in enumerate(value):
            here = (*path, index)
            if isinstance(child, dict):
                self.where[here] = len(self.lines) + 1
                self.mapping(child, column + 2, here, " " * column + "- ")
            else:
                self.lines.append(f"{' ' * column}- {child}")
                self.where[here] = len(self.lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.dictionaries(_keys, _tree(3), min_size=1, max_size=4),
    indent=st.sampled_from([2, 4]),
    preamble=st.lists(
        st.sampled_from(["# c", "", "kind: Other\napiVersion: v1\nmetadata: {name: other}\n---"]), max_size=3
    ),
)
def test_locate_line_finds_every_generated_key(
    tmp_path: Path, data: dict[str, Any], indent: int, preamble: list[str]
) -> None:
    emitter = _Emitter(indent)
    for chunk in preamble:
        emitter.lines.extend(chunk.split("\n"))
    if preamble:
        emitter.lines.append("---")
    emitter.lines.extend(["apiVersion: v1", "kind: ConfigMap", "metadata:", f"{' ' * indent}name: generated"])
    emitter.mapping({"data": data}, 0, (), None)
    path = tmp_path / "generated.yaml"
    path.write_text("\n".join(emitter.lines) + "\n", encoding="utf-8")
    default_locator().invalidate(str(path))  # rewritten within the same clock tick, maybe same size
    result = collect_paths([str(path)])
    assert result.errors == []
    origin = next(r.origin for r in result.resources if r.name == "generated")
    for where, line in emitter.where.items():
        assert locate_line(origin, where) == line, where
        assert locate_line(origin, (*where, "no-such-key", 3)) == line


def test_small_cache_budget_still_gives_exact_lines(tmp_path: Path) -> None:
    from stockade.sources.locate import LineLocator

    origins = _origins(tmp_path, DEPLOYMENT)
    locator = LineLocator(max_files=1, node_budget=5)
    containers = ("spec", "template", "spec", "containers")
    for _ in range(3):  # every question evicts the other document
        assert locator.locate(origins["web"], (*containers, 1, "image")) == 15
        assert locator.locate(origins["second"], ("data", "key")) == 29


def test_anchors_complex_keys_and_merge_lists(tmp_path: Path) -> None:
    text = (
        "apiVersion: v1\n"  # 1
        "kind: ConfigMap\n"  # 2
        "metadata:\n"  # 3
        "  name: odd\n"  # 4
        "base: &a {x: 1}\n"  # 5
        "more: &b\n"  # 6
        "  y: 2\n"  # 7
        "data:\n"  # 8
        "  ? [complex, key]\n"  # 9
        "  : skipped\n"  # 10
        "  <<: [*a, *b]\n"  # 11
        "  z: 3\n"  # 12
        "copy: *b\n"  # 13
        "list:\n"  # 14
        "- *a\n"  # 15
        "- {x: 9}\n"  # 16
    )
    (tmp_path / "odd.yaml").write_text(text, encoding="utf-8")
    result = collect_paths([str(tmp_path / "odd.yaml")])
    assert [e.message for e in result.errors] == ["a mapping key is itself a mapping or a list"]
    origin = Origin(str(tmp_path / "odd.yaml"), 0, 1)
    assert locate_line(origin, ("data", "x")) == 5  # merged from the anchor, found where it is written
    assert locate_line(origin, ("data", "y")) == 7
    assert locate_line(origin, ("data", "z")) == 12
    assert locate_line(origin, ("copy", "y")) == 7
    assert locate_line(origin, ("list", 0, "x")) == 5
    assert locate_line(origin, ("list", 1, "x")) == 16
