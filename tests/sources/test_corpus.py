"""The vendored real-world corpus: loads without a traceback, every file accounted for."""

from __future__ import annotations

import os

from stockade.sources.files import MANIFEST_SUFFIXES, collect_paths
from tests.vendored import vendored

CORPUS = str(vendored("corpus", "real-world"))


def _manifest_files(root: str) -> set[str]:
    found: set[str] = set()
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
        found.update(
            os.path.join(directory, name)
            for name in files
            if name.lower().endswith(MANIFEST_SUFFIXES) and not name.startswith(".")
        )
    return found


def test_whole_corpus_loads() -> None:
    result = collect_paths([CORPUS])
    assert len(result.resources) > 400
    for error in result.errors:
        assert error.source.startswith(CORPUS)
        assert error.line is not None and error.line > 0
        assert error.message


def test_kubernetes_examples_every_file_is_accounted_for() -> None:
    root = f"{CORPUS}/kubernetes-examples"
    result = collect_paths([root])
    reported = {r.origin.file for r in result.resources}
    reported |= {e.source for e in result.errors} | {s.source for s in result.skipped}
    assert reported == _manifest_files(root)
    errors = {(e.source.removeprefix(root + "/"), e.line): e.message for e in result.errors}
    # Real mistakes in that repository, reported rather than read past.
    assert errors[("_archived/openshift-origin/etcd-controller.yaml", 12)].startswith("duplicate key 'selector'")
    assert errors[("_archived/storage/vitess/etcd-service-template.yaml", 7)].startswith(
        "looks like an unrendered template"
    )
    skipped = {(s.source.removeprefix(root + "/"), s.reason) for s in result.skipped}
    assert (
        "databases/cassandra/image/files/cassandra.yaml",
        "document 0: no apiVersion (not a Kubernetes object)",
    ) in skipped
    assert ("_archived/openshift-origin/secret.json", "empty input") in skipped


def test_kube_prometheus_reads_cleanly() -> None:
    root = f"{CORPUS}/kube-prometheus"
    result = collect_paths([root])
    assert result.errors == [] and result.skipped == []
    assert {r.origin.file for r in result.resources} == _manifest_files(root)
    kinds = {r.kind for r in result.resources}
    assert {"CustomResourceDefinition", "Deployment", "DaemonSet", "ClusterRole", "PrometheusRule"} <= kinds
