"""Item 2: no Secret value reaches any output, whichever source read it and whichever format shows it.

Redaction happens where every source's result is merged (``stockade.api.collect``), so the matrix
below covers each source (files, stdin, kustomize, a snapshot someone else wrote, a live cluster)
and each output (the six report formats and a snapshot file).
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from stockade.api import collect
from stockade.cli.main import main
from stockade.sources.files import FileSource
from stockade.sources.redaction import LAST_APPLIED
from stockade.testing import FakeApiServer

PLANTED = "planted-S3cr3t-hostile-7781"
ENCODED = base64.b64encode(PLANTED.encode()).decode()
LISTED = "listed-S3cr3t-in-a-SecretList-5150"
ANNOTATED = "annotated-S3cr3t-on-a-ConfigMap-0451"
GENERATED = "generated-S3cr3t-by-kustomize-2024"
VALUES = (PLANTED, ENCODED, LISTED, ANNOTATED, GENERATED, base64.b64encode(GENERATED.encode()).decode())
FORMATS = ("table", "json", "sarif", "junit", "markdown", "html", "snapshot")
SOURCES = ("files", "stdin", "kustomize", "snapshot", "cluster")


def secret(name: str, value: str) -> dict[str, Any]:
    applied = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": {"token": value}}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "shop", "annotations": {LAST_APPLIED: json.dumps(applied)}},
        "data": {"token": ENCODED},
        "stringData": {"password": value},
    }


def hostile_objects() -> list[dict[str, Any]]:
    """A Secret (data, stringData, last-applied), a SecretList, and a ConfigMap whose last-applied
    annotation holds a Secret (an object re-kinded after it was applied)."""
    applied_secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "data": {"k": ANNOTATED}}
    return [
        secret("db", PLANTED),
        {"apiVersion": "v1", "kind": "SecretList", "items": [secret("listed", LISTED)]},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cm", "namespace": "shop", "annotations": {LAST_APPLIED: json.dumps(applied_secret)}},
            "data": {"plain": "not secret"},
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
        },
    ]


def manifest_text() -> str:
    return yaml.safe_dump_all(hostile_objects())


def kustomize_dir(root: Path) -> Path:
    directory = root / "kustomize"
    directory.mkdir()
    (directory / "objects.yaml").write_text(manifest_text())
    (directory / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "resources": ["objects.yaml"],
                "secretGenerator": [{"name": "generated", "namespace": "shop", "literals": [f"token={GENERATED}"]}],
            }
        )
    )
    return directory


def foreign_snapshot(root: Path) -> Path:
    """A snapshot written by someone else, Secret values and all (it must be blanked on reading)."""
    path = root / "foreign.json"
    document = {
        "apiVersion": "stockade.io/v1alpha1",
        "kind": "ClusterSnapshot",
        "metadata": {"source": "elsewhere", "facts": {}},
        "items": [o for o in hostile_objects() if o["kind"] != "SecretList"] + hostile_objects()[1]["items"],
        "errors": [],
        "skipped": [],
    }
    path.write_text(json.dumps(document))
    return path


@pytest.fixture(scope="module")
def server() -> Iterator[FakeApiServer]:
    objects = [o for o in hostile_objects() if o["kind"] != "SecretList"] + hostile_objects()[1]["items"]
    with FakeApiServer(objects) as running:
        yield running


def source_args(source: str, root: Path, server: FakeApiServer, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    if source == "files":
        path = root / "objects.yaml"
        path.write_text(manifest_text())
        return [str(path)]
    if source == "stdin":
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(manifest_text().encode())))
        return ["-"]
    if source == "kustomize":
        return [str(kustomize_dir(root))]
    if source == "snapshot":
        return ["--snapshot", str(foreign_snapshot(root))]
    assert source == "cluster"
    return ["--kubeconfig", str(server.kubeconfig(root / "kubeconfig"))]


def assert_no_value(text: str, where: str) -> None:
    for value in VALUES:
        assert value not in text, (value, where)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_no_secret_value_reaches_any_output(
    source: str,
    fmt: str,
    tmp_path: Path,
    server: FakeApiServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = source_args(source, tmp_path, server, monkeypatch)
    output = tmp_path / ("out.json.gz" if fmt == "snapshot" else f"out.{fmt}")
    if fmt == "snapshot":
        code = main(["snapshot", "--no-progress", *args, "-o", str(output)])
        written = gzip.decompress(output.read_bytes()).decode()
        assert '"token"' in written and '"password"' in written  # key names stay
    else:
        code = main(["scan", "--no-progress", "--include-passed", "-f", fmt, "-o", str(output), *args])
        written = output.read_text(encoding="utf-8")
        assert "shop" in written  # the objects were read
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    assert_no_value(written + out + err, f"{source} → {fmt}")


def test_collect_blanks_every_secret_of_a_source_and_leaves_the_source_objects_alone(tmp_path: Path) -> None:
    path = tmp_path / "objects.yaml"
    path.write_text(manifest_text())
    result = collect(FileSource([str(path)]))
    kinds = sorted(r.kind for r in result.resources)
    assert kinds == ["ConfigMap", "Pod", "Secret", "Secret"]
    for resource in result.resources:
        assert_no_value(json.dumps(resource.raw), resource.display)
    db = next(r for r in result.resources if r.name == "db")
    assert db.raw["data"] == {"token": ""} and db.raw["stringData"] == {"password": ""}
    assert LAST_APPLIED not in db.raw["metadata"]["annotations"]


def test_a_secret_kind_spelled_otherwise_is_blanked_too(tmp_path: Path) -> None:
    odd = {**secret("odd", PLANTED), "apiVersion": "v2", "kind": "secret"}
    path = tmp_path / "odd.yaml"
    path.write_text(yaml.safe_dump(odd))
    result = collect(FileSource([str(path)]))
    assert [r.name for r in result.resources] == ["odd"]
    assert_no_value(json.dumps(result.resources[0].raw), "odd")


def test_an_annotation_that_is_not_json_but_names_a_secret_is_dropped(tmp_path: Path) -> None:
    yaml_copy = f"kind: Secret\nstringData:\n  token: {ANNOTATED}\n"
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "annotations": {LAST_APPLIED: yaml_copy}}}
    kept = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ok", "annotations": {LAST_APPLIED: "{}"}}}
    path = tmp_path / "cm.yaml"
    path.write_text(yaml.safe_dump_all([cm, kept]))
    by_name = {r.name: r for r in collect(FileSource([str(path)])).resources}
    assert LAST_APPLIED not in by_name["cm"].annotations
    assert by_name["ok"].annotations[LAST_APPLIED] == "{}"  # nothing secret: left as it was
