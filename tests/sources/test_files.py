"""Files, directories and stdin: what is read, in which order, with which origin and values."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from stockade.model.resource import Origin
from stockade.sources.files import collect_paths
from stockade.sources.limits import HARD_MAX_DEPTH, ParseLimits
from tests.sources.support import GOOD, write


def _cm(name: str, extra: str = "") -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{extra}"


def test_directory_walk_is_sorted_recursive_and_skips_hidden_and_other_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "b.yaml": _cm("b"),
            "a.yml": _cm("a"),
            "c.JSON": '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}',
            "sub/z.yaml": _cm("z"),
            "sub/deeper/y.yaml": _cm("y"),
            "aa/x.yaml": _cm("x"),
            ".git/config.yaml": _cm("hidden-dir"),
            ".hidden.yaml": _cm("hidden-file"),
            "README.md": "# not yaml",
            "notes.txt": _cm("txt"),
        },
    )
    result = collect_paths([str(tmp_path)])
    assert result.errors == [] and result.skipped == []
    assert [(r.name, r.origin.file) for r in result.resources] == [
        ("a", f"{tmp_path}/a.yml"),
        ("b", f"{tmp_path}/b.yaml"),
        ("c", f"{tmp_path}/c.JSON"),
        ("x", f"{tmp_path}/aa/x.yaml"),
        ("z", f"{tmp_path}/sub/z.yaml"),  # a directory's files come before its subdirectories
        ("y", f"{tmp_path}/sub/deeper/y.yaml"),
    ]


def test_origin_file_is_the_path_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"manifests/app/deploy.yaml": GOOD, "single.yaml": _cm("single")})
    monkeypatch.chdir(tmp_path)
    result = collect_paths(["manifests/", "./single.yaml"])
    assert [r.origin for r in result.resources] == [
        Origin("manifests/app/deploy.yaml", 0, 1, -1),
        Origin("./single.yaml", 0, 1, -1),
    ]


def test_multi_document_origins(tmp_path: Path) -> None:
    text = "# header\n---\n" + _cm("one") + "---\n---\n" + _cm("two") + "...\n---\n# c\n" + _cm("three")
    write(tmp_path, {"multi.yaml": text})
    result = collect_paths([str(tmp_path / "multi.yaml")])
    assert [(r.name, r.origin.document, r.origin.line) for r in result.resources] == [
        ("one", 0, 3),
        ("two", 2, 9),
        ("three", 3, 16),
    ]


def test_lists_become_one_resource_per_item(tmp_path: Path) -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: one\n"
        "- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: two\n"
        "- 5\n"
        "- metadata:\n    name: nameless\n"
        "---\n"
        "apiVersion: v1\nkind: PodList\nitems:\n- metadata:\n    name: p\n    namespace: ns\n"
        "---\napiVersion: v1\nkind: List\nitems: []\n"
        "---\napiVersion: v1\nkind: List\n"
    )
    write(tmp_path, {"list.yaml": text})
    result = collect_paths([str(tmp_path / "list.yaml")])
    assert result.errors == []
    assert [(r.display, r.api_version, r.origin.document, r.origin.item) for r in result.resources] == [
        ("ConfigMap/one", "v1", 0, 0),
        ("Secret/two", "v1", 0, 1),
        ("Pod/ns/p", "v1", 1, 0),
    ]
    assert [(s.reason, s.line) for s in result.skipped] == [
        ("document 0 item 2: a number, not a Kubernetes object", 12),
        ("document 0 item 3: no apiVersion (not a Kubernetes object)", 13),
        ("document 3: a List with no items", 27),
    ]


def test_yaml_1_2_scalars_with_kubernetes_octal_and_merge_keys(tmp_path: Path) -> None:
    text = _cm(
        "values",
        "data:\n  yes: on\n  date: 2024-01-01\n  hex: 0x1F\n  quoted: '0644'\n"
        "spec:\n  defaultMode: 0644\n  modes: [0400, 0755, 10]\n  decimal: 644\n"
        "base: &base\n  privileged: true\n  user: 0\n"
        "merged:\n  <<: *base\n  user: 1000\n"
        "several:\n  <<: [{a: 1}, {a: 2, b: 2}]\n",
    )
    write(tmp_path, {"values.yaml": text})
    [resource] = collect_paths([str(tmp_path / "values.yaml")]).resources
    raw = resource.raw
    assert raw["data"] == {"yes": "on", "date": "2024-01-01", "hex": 31, "quoted": "0644"}
    assert raw["spec"] == {"defaultMode": 0o644, "modes": [0o400, 0o755, 10], "decimal": 644}
    assert raw["merged"] == {"privileged": True, "user": 1000}
    assert raw["several"] == {"a": 1, "b": 2}


def test_non_string_keys_become_strings_like_kubectl_makes_them(tmp_path: Path) -> None:
    write(tmp_path, {"tcp.yaml": _cm("tcp", "data:\n  9000: default/svc:8080\n  true: t\n  1.5: f\n")})
    [resource] = collect_paths([str(tmp_path / "tcp.yaml")]).resources
    assert resource.raw["data"] == {"9000": "default/svc:8080", "true": "t", "1.5": "f"}


def test_same_key_after_string_conversion_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, {"clash.yaml": _cm("clash", "data:\n  1: a\n  '1': b\n")})
    result = collect_paths([str(tmp_path / "clash.yaml")])
    assert [(e.line, e.message) for e in result.errors] == [(5, "duplicate key '1' once keys are read as strings")]


def test_json_files_and_json_on_stdin(tmp_path: Path) -> None:
    text = '{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}]}'
    write(tmp_path, {"pods.json": "\n\n" + text})
    from_file = collect_paths([str(tmp_path / "pods.json")])
    assert [(r.display, r.origin.line, r.origin.item) for r in from_file.resources] == [("Pod/p", 3, 0)]
    from_stdin = collect_paths(["-"], stdin=io.BytesIO(text.encode()))
    assert [(r.display, r.origin.file) for r in from_stdin.resources] == [("Pod/p", "<stdin>")]


def test_yaml_flow_mapping_on_stdin(tmp_path: Path) -> None:
    stdin = io.BytesIO(b"{apiVersion: v1, kind: Pod, metadata: {name: flow}}\n---\n" + _cm("block").encode())
    result = collect_paths(["-"], stdin=stdin)
    assert [r.name for r in result.resources] == ["flow", "block"]


def test_same_file_reached_twice_is_read_once(tmp_path: Path) -> None:
    write(tmp_path, {"real/app.yaml": GOOD})
    (tmp_path / "link.yaml").symlink_to(tmp_path / "real" / "app.yaml")
    result = collect_paths([str(tmp_path / "real"), str(tmp_path / "link.yaml"), str(tmp_path / "real")])
    assert len(result.resources) == 1
    assert [s.reason for s in result.skipped] == [
        f"same file as {tmp_path}/real/app.yaml (already read)",
        f"same file as {tmp_path}/real/app.yaml (already read)",
    ]


def test_every_input_is_accounted_for(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "ok.yaml": GOOD,
            "values.yaml": "replicaCount: 1\nimage: nginx\n",
            "broken.yaml": "a: [",
            "empty.yml": "",
        },
    )
    result = collect_paths([str(tmp_path)])
    seen = {r.origin.file for r in result.resources} | {e.source for e in result.errors}
    seen |= {s.source for s in result.skipped}
    assert seen == {str(tmp_path / name) for name in ("ok.yaml", "values.yaml", "broken.yaml", "empty.yml")}


def test_depth_limit_never_exceeds_the_hard_cap() -> None:
    assert ParseLimits(max_depth=10**6).depth == HARD_MAX_DEPTH
    assert ParseLimits().depth == 200
