"""Objects without a name and Lists inside Lists: never scanned as "" nor dropped in silence."""

from __future__ import annotations

from pathlib import Path

import stockade
from stockade.sources.objects import MAX_LIST_NESTING
from tests.sources.support import scan_with_good

POD_SPEC = "spec:\n  containers:\n  - {name: a, image: nginx}\n"


def test_an_object_without_metadata_or_name_is_an_error_naming_its_kind_and_line(tmp_path: Path) -> None:
    text = (
        f"apiVersion: v1\nkind: Pod\n{POD_SPEC}"
        f"---\napiVersion: v1\nkind: Pod\nmetadata:\n{POD_SPEC}"
        f"---\napiVersion: v1\nkind: Pod\nmetadata: null\n{POD_SPEC}"
        f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  namespace: shop\n  labels: {{app: x}}\n{POD_SPEC}"
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: '', namespace: shop}}\n"
    )
    result = scan_with_good(tmp_path, {"nameless.yaml": text})
    source = str(tmp_path / "nameless.yaml")
    got = [(e.line, e.message, e.object, e.kind) for e in result.errors if e.source == source]
    no_metadata = "metadata is missing or null (the object has no name)"
    no_name = "metadata has no name (nor generateName)"
    assert got == [
        (1, f"document 0: {no_metadata}", "Pod/?", "parse"),
        (9, f"document 1: {no_metadata}", "Pod/?", "parse"),
        (16, f"document 2: {no_metadata}", "Pod/?", "parse"),
        (23, f"document 3: {no_name}", "Deployment/shop/?", "parse"),
        (32, f"document 4: {no_name}", "ConfigMap/shop/?", "parse"),
    ]
    assert not [r for r in result.resources if r.origin.file == source]


def test_generate_name_is_a_name_and_config_files_need_none(tmp_path: Path) -> None:
    text = (
        f"apiVersion: v1\nkind: Pod\nmetadata: {{generateName: worker-, namespace: jobs}}\n{POD_SPEC}"
        "---\napiVersion: v1\nkind: Config\nclusters: []\n"
        "---\napiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources: []\n"
        "---\napiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Metadata}]\n"
        "---\napiVersion: stockade.io/v1\nkind: ExceptionList\nexceptions: []\n"
    )
    result = scan_with_good(tmp_path, {"ok.yaml": text})
    assert result.errors == []
    source = str(tmp_path / "ok.yaml")
    # A kubeconfig (kind Config) is never an object: it is skipped unread, name or not.
    assert [(s.source, s.reason) for s in result.skipped if s.source == source] == [
        (source, "kubeconfig: credentials are not read")
    ]
    assert [r.display for r in result.resources if r.origin.file == source] == [
        "Pod/jobs/worker-",
        "EncryptionConfiguration/",
        "Policy/",
        "ExceptionList/",
    ]


def test_a_nameless_pod_fails_the_scan_gate_instead_of_scanning_as_empty(tmp_path: Path) -> None:
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(f"apiVersion: v1\nkind: Pod\n{POD_SPEC}")
    result = stockade.scan([stockade.FileSource([str(manifest)])], stockade.ScanOptions(rules=["WL-002"]))
    assert result.findings == []
    assert [(e.source, e.line, e.object) for e in result.errors] == [(str(manifest), 1, "Pod/?")]
    assert result.gate("none") == 3


NESTED = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: outer, namespace: shop}
- apiVersion: v1
  kind: List
  items:
  - apiVersion: v1
    kind: PodList
    items:
    - metadata: {name: inner, namespace: shop}
      spec:
        containers:
        - name: a
          image: nginx
  - apiVersion: v1
    kind: List
"""


def test_lists_inside_lists_are_read_with_their_lines(tmp_path: Path) -> None:
    result = scan_with_good(tmp_path, {"nested.yaml": NESTED})
    source = str(tmp_path / "nested.yaml")
    mine = [r for r in result.resources if r.origin.file == source]
    assert [(r.display, r.origin.item, r.origin.nested) for r in mine] == [
        ("ConfigMap/shop/outer", 0, ()),
        ("Pod/shop/inner", 1, (0, 0)),
    ]
    assert [(s.line, s.reason) for s in result.skipped if s.source == source] == [
        (18, "document 0 item 1 item 1: a List with no items")
    ]
    scanned = stockade.scan([stockade.FileSource([source])], stockade.ScanOptions(rules=["WL-002"]))
    [finding] = scanned.findings
    assert (finding.resource.display, finding.location.line) == ("Pod/shop/inner", 16)


def test_lists_nested_too_deep_are_an_error_not_a_silent_drop(tmp_path: Path) -> None:
    lines = ["apiVersion: v1", "kind: List", "items:"]
    for level in range(MAX_LIST_NESTING):
        indent = "  " * level
        lines += [f"{indent}- apiVersion: v1", f"{indent}  kind: List", f"{indent}  items:"]
    lines.append("  " * MAX_LIST_NESTING + "- {apiVersion: v1, kind: ConfigMap, metadata: {name: deep}}")
    result = scan_with_good(tmp_path, {"deep.yaml": "\n".join(lines) + "\n"})
    source = str(tmp_path / "deep.yaml")
    [error] = [e for e in result.errors if e.source == source]
    assert f"Lists nested more than {MAX_LIST_NESTING} deep are not read" in error.message
    assert error.line == 3 + 3 * (MAX_LIST_NESTING - 1) + 1  # the innermost List's own line
    assert error.object == "List"
    assert not [r for r in result.resources if r.origin.file == source]
