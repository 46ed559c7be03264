"""Kustomize and Helm directories: rendered, never read file by file, failures reported."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml_rs

from stockade.cli.main import main
from stockade.sources.files import collect_paths
from stockade.sources.render import brief_stderr
from tests.sources.support import GOOD, write
from tests.vendored import vendored

DEMO = str(vendored("corpus", "real-world", "microservices-demo"))
KUSTOMIZE_DIR = f"{DEMO}/kubernetes-manifests"


def test_kustomization_is_rendered_and_its_files_are_not_read_again() -> None:
    result = collect_paths([DEMO])
    assert result.errors == []
    rendered = [r for r in result.resources if r.origin.file.startswith(f"{KUSTOMIZE_DIR}/")]
    plain_files = sorted({r.origin.file for r in result.resources} - {r.origin.file for r in rendered})
    assert all(name.startswith(f"{DEMO}/istio-manifests/") for name in plain_files)
    # Every object of the files the kustomization lists (loadgenerator.yaml is not one), once each.
    with open(f"{KUSTOMIZE_DIR}/kustomization.yaml", "rb") as handle:
        kustomization = yaml_rs.load(handle, parse_datetime=False)
    assert isinstance(kustomization, dict)
    listed = kustomization["resources"]
    assert "loadgenerator.yaml" not in listed
    files = [os.path.join(KUSTOMIZE_DIR, name) for name in listed]
    one_by_one = collect_paths(files)
    assert sorted(r.display for r in rendered) == sorted(r.display for r in one_by_one.resources)
    assert len(rendered) == len({r.display for r in rendered}) > 30
    # kustomize's origin annotations lead each object back to its file, document and line: the
    # same origin as reading that file directly; the annotation itself is gone.
    assert {r.display: r.origin for r in rendered} == {r.display: r.origin for r in one_by_one.resources}
    assert not any("config.kubernetes.io/origin" in str(r.raw.get("metadata")) for r in rendered)


@pytest.mark.parametrize("name", ["kustomization.yaml", "kustomization.yml", "Kustomization"])
def test_every_kustomization_file_name(tmp_path: Path, name: str) -> None:
    write(tmp_path, {f"app/{name}": "resources:\n- deploy.yaml\nnamePrefix: prod-\n", "app/deploy.yaml": GOOD})
    result = collect_paths([str(tmp_path)])
    assert result.errors == []
    # Renamed by the prefix, but still the only Deployment of its file: found there.
    assert [(r.display, r.origin.file, r.origin.line) for r in result.resources] == [
        ("Deployment/shop/prod-good", f"{tmp_path}/app/deploy.yaml", 1)
    ]


def test_render_failure_quotes_kubectl_and_the_scan_goes_on(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"broken/kustomization.yaml": "resources:\n- missing.yaml\n", "broken/other.yaml": GOOD, "ok.yaml": GOOD},
    )
    result = collect_paths([str(tmp_path / "broken"), str(tmp_path / "ok.yaml")])
    [error] = result.errors
    assert (error.source, error.kind) == (str(tmp_path / "broken"), "render")
    assert error.message.startswith("kubectl kustomize failed: ")
    assert "missing.yaml" in error.message
    assert len(error.message) < 500
    assert [r.origin.file for r in result.resources] == [str(tmp_path / "ok.yaml")]


def test_chart_without_helm_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        tmp_path,
        {
            "chart/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
            "chart/values.yaml": "replicas: 2\n",
            "chart/templates/deploy.yaml": "replicas: {{ .Values.replicas }}\n{{- if .Values.x }}\n",
            "ok.yaml": GOOD,
        },
    )
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    result = collect_paths([str(tmp_path)])
    chart = str(tmp_path / "chart")
    assert [(e.source, e.message, e.kind) for e in result.errors] == [
        (
            chart,
            f"helm is not installed; cannot render chart {chart}: install helm or scan rendered manifests",
            "render",
        )
    ]
    assert result.skipped == []
    assert [r.origin.file for r in result.resources] == [str(tmp_path / "ok.yaml")]


def _stand_in_helm(bin_dir: Path, script: str) -> None:
    """helm cannot be installed on these machines; a small executable that answers like
    ``helm template`` exercises the real subprocess path (argv, stdout, stderr, exit status)."""
    bin_dir.mkdir()
    helm = bin_dir / "helm"
    helm.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    helm.chmod(0o755)


def test_chart_rendered_by_helm_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"chart/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n"})
    _stand_in_helm(
        tmp_path / "bin",
        'test "$1" = template || exit 9\n'
        "printf -- '---\\n# Source: app/templates/sa.yaml\\napiVersion: v1\\nkind: ServiceAccount\\n"
        'metadata:\\n  name: %s\\n\' "$(basename "$2")"\n',
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    result = collect_paths([str(tmp_path / "chart")])
    assert result.errors == []
    # No templates/sa.yaml in this chart: the object keeps the chart directory.
    assert [(r.display, r.origin.file, r.origin.line) for r in result.resources] == [
        ("ServiceAccount/chart", f"{tmp_path}/chart (helm)", 0)
    ]


def test_chart_objects_point_at_their_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        tmp_path,
        {
            "web/Chart.yaml": "apiVersion: v2\nname: storefront\nversion: 0.1.0\n",
            "web/templates/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: {{ .Release.Name }}}\n",
            "web/charts/db/templates/pod.yaml": "# rendered by the subchart\n",
        },
    )
    _stand_in_helm(
        tmp_path / "bin",
        'test "$1" = template || exit 9\n'
        "printf -- '---\\n# Source: storefront/templates/sa.yaml\\napiVersion: v1\\nkind: ServiceAccount\\n"
        "metadata:\\n  name: web\\n"
        "---\\n# Source: storefront/charts/db/templates/pod.yaml\\napiVersion: v1\\nkind: Pod\\n"
        "metadata:\\n  name: db\\nspec: {containers: [{name: c, image: x}]}\\n"
        "---\\n# Source: storefront/templates/gone.yaml\\napiVersion: v1\\nkind: ConfigMap\\n"
        "metadata:\\n  name: c\\n'\n",
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    chart = str(tmp_path / "web")
    result = collect_paths([chart])
    assert result.errors == []
    assert [(r.display, r.origin.file, r.origin.line) for r in result.resources] == [
        ("ServiceAccount/web", f"{chart}/templates/sa.yaml", 0),
        ("Pod/db", f"{chart}/charts/db/templates/pod.yaml", 0),
        ("ConfigMap/c", f"{chart} (helm)", 0),  # the comment names no file of this chart
    ]


def test_helm_failure_is_a_render_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"chart/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n"})
    _stand_in_helm(
        tmp_path / "bin", "echo 'Error: found in Chart.yaml, but missing in charts/ directory: db' >&2\nexit 1\n"
    )
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    [error] = collect_paths([str(tmp_path / "chart")]).errors
    assert error.message == "helm template failed: found in Chart.yaml, but missing in charts/ directory: db"


def test_kubectl_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"app/kustomization.yaml": "resources: []\n"})
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    [error] = collect_paths([str(tmp_path / "app")]).errors
    assert error.message.startswith("kubectl is not installed; cannot render kustomization")


def test_brief_stderr_keeps_the_gist_of_klog_lines() -> None:
    klog = b'E1123 07:58:01.797775   12072 run.go:72] "command failed" err="accumulating resources: \\"x\\" missing"\n'
    assert brief_stderr(klog) == 'accumulating resources: "x" missing'
    assert brief_stderr(b"warning\nError: boom\x1b[31m\n") == "boom?[31m"
    assert len(brief_stderr(b"x" * 5000)) == 400
    assert brief_stderr(b"") == ""


def test_kubectl_is_on_this_machine() -> None:
    # The kustomize tests above need the real kubectl; say so plainly if it is missing.
    assert shutil.which("kubectl"), "kubectl is required for the kustomize tests"


PRIVILEGED_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: shop}
spec:
  containers:
    - name: sh
      image: busybox
      securityContext:
        privileged: true
"""


def test_overlay_objects_point_at_their_base_file_and_generated_ones_at_the_directory(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base/kustomization.yaml": "resources:\n- deploy.yaml\n- pod.yaml\n",
            "base/deploy.yaml": GOOD,
            "base/pod.yaml": "# a comment first\n" + PRIVILEGED_POD,
            "overlay/kustomization.yaml": (
                "resources:\n- ../base\nnamePrefix: prod-\n"
                "configMapGenerator:\n- name: settings\n  literals: [LOG_LEVEL=info]\n"
            ),
        },
    )
    overlay = str(tmp_path / "overlay")
    result = collect_paths([overlay])
    assert result.errors == []
    origins = {r.display: r.origin for r in result.resources}
    assert origins["Pod/shop/prod-debug"].file == os.path.normpath(f"{overlay}/../base/pod.yaml")
    assert origins["Pod/shop/prod-debug"].line == 2  # after the comment
    assert origins["Deployment/shop/prod-good"].file.endswith("/base/deploy.yaml")
    generated = [r for r in result.resources if r.kind == "ConfigMap"]
    assert [r.origin.file for r in generated] == [f"{overlay} (kustomize)"]
    assert all(
        "config.kubernetes.io/origin" not in (r.raw.get("metadata") or {}).get("annotations", {})
        for r in result.resources
    )


def test_a_finding_in_a_kustomization_points_at_the_offending_line(tmp_path: Path) -> None:
    write(tmp_path, {"app/kustomization.yaml": "resources:\n- pod.yaml\n", "app/pod.yaml": PRIVILEGED_POD})
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["scan", "--no-progress", str(tmp_path / "app"), "--rules", "WL-001", "-f", "json"])
    [finding] = json.loads(out.getvalue())["findings"]
    assert code == 1
    assert finding["location"] == {"file": str(tmp_path / "app" / "pod.yaml"), "line": 9}
