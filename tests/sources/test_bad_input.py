"""Broken, hostile and odd input: each gives its own clear error (file, line where it makes sense),
never a traceback, and a good manifest scanned in the same call still comes through."""

from __future__ import annotations

import codecs
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stockade.model.finding import InputProblem
from stockade.sources.files import Input, collect_paths, discover, read_input
from stockade.sources.limits import ParseLimits
from tests.sources.support import GOOD, only_error, scan_with_good, skipped_for, write

BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(9)
)


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata:\n  key: [unclosed\n"
    result = scan_with_good(tmp_path, {"bad.yaml": text})
    error = only_error(result, str(tmp_path / "bad.yaml"))
    assert (error.kind, error.line) == ("parse", 6)
    assert "unclosed bracket" in error.message


def test_malformed_json_names_the_line(tmp_path: Path) -> None:
    text = '{\n  "apiVersion": "v1",\n  "kind": "Pod",\n  "metadata": {"name": "x",}\n}\n'
    result = scan_with_good(tmp_path, {"bad.json": text})
    error = only_error(result, str(tmp_path / "bad.json"))
    assert (error.kind, error.line) == ("parse", 4)
    assert error.message.startswith("JSON syntax error")


def test_alias_bomb_stops_at_the_budget(tmp_path: Path) -> None:
    started = time.perf_counter()
    result = scan_with_good(tmp_path, {"bomb.yaml": BILLION_LAUGHS})
    assert time.perf_counter() - started < 5
    error = only_error(result, str(tmp_path / "bomb.yaml"))
    assert error.kind == "limit"
    assert "alias" in error.message
    assert error.line == 1


def test_alias_budget_is_the_limit_given(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: &m\n  name: few\nextra: [*m, *m, *m]\n"
    result = scan_with_good(tmp_path, {"aliases.yaml": text}, limits=ParseLimits(max_alias_events=5))
    assert "budget of 5 events" in only_error(result, str(tmp_path / "aliases.yaml")).message
    relaxed = collect_paths([str(tmp_path / "aliases.yaml")])
    assert [r.name for r in relaxed.resources] == ["few"]


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    big = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  blob: " + "x" * 5000 + "\n"
    result = scan_with_good(tmp_path, {"big.yaml": big}, limits=ParseLimits(max_file_bytes=1000))
    error = only_error(result, str(tmp_path / "big.yaml"))
    assert error.kind == "limit"
    assert "1000-byte limit" in error.message


def test_deep_block_nesting_that_would_crash_the_parser(tmp_path: Path) -> None:
    # 20,000 nested sequences in compact form: enough to overflow the native parser's stack.
    text = "- " * 20_000 + "x\n"
    result = scan_with_good(tmp_path, {"deep.yaml": text})
    error = only_error(result, str(tmp_path / "deep.yaml"))
    assert (error.kind, error.line) == ("limit", 1)
    assert "nesting deeper than 200 levels" in error.message


def test_deep_indentation_names_the_line_where_the_limit_is_crossed(tmp_path: Path) -> None:
    text = "".join(" " * level + f"k{level}:\n" for level in range(600)) + " " * 600 + "v\n"
    result = scan_with_good(tmp_path, {"indent.yaml": text})
    error = only_error(result, str(tmp_path / "indent.yaml"))
    assert error.kind == "limit"
    # Line n holds key k(n-1), whose value is the mapping at level n+1: level 201 starts on line 201.
    assert error.line == 201


def test_deep_flow_nesting_beyond_the_parser_and_beyond_the_limit(tmp_path: Path) -> None:
    files = {"flow300.yaml": "[" * 300 + "]" * 300 + "\n", "flow250.yaml": "a: " + "[" * 250 + "]" * 250 + "\n"}
    result = scan_with_good(tmp_path, files)
    beyond_parser = only_error(result, str(tmp_path / "flow300.yaml"))
    assert (beyond_parser.kind, beyond_parser.line) == ("limit", 1)
    beyond_limit = only_error(result, str(tmp_path / "flow250.yaml"))
    assert (beyond_limit.kind, beyond_limit.line) == ("limit", 1)
    assert "deeper than 200 levels" in beyond_limit.message


def test_deep_json(tmp_path: Path) -> None:
    result = scan_with_good(tmp_path, {"deep.json": '{"a": ' * 300 + "1" + "}" * 300})
    error = only_error(result, str(tmp_path / "deep.json"))
    assert error.kind == "limit"
    assert "deeper than 200 levels" in error.message


def test_depth_limit_is_configurable(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nested\ndata:\n  a: {b: {c: 1}}\n"
    result = scan_with_good(tmp_path, {"n.yaml": text}, limits=ParseLimits(max_depth=3))
    error = only_error(result, str(tmp_path / "n.yaml"))
    assert (error.kind, error.line) == ("limit", 6)
    assert [r.name for r in collect_paths([str(tmp_path / "n.yaml")]).resources] == ["nested"]


def test_invalid_utf8_names_line_and_column(tmp_path: Path) -> None:
    data = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n"
    result = scan_with_good(tmp_path, {"latin1.yaml": data})
    error = only_error(result, str(tmp_path / "latin1.yaml"))
    assert error.line == 4
    assert error.message == "not valid UTF-8: byte 0xe9 at line 4, column 12"


def test_binary_file(tmp_path: Path) -> None:
    data = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00>\x00"
    result = scan_with_good(tmp_path, {"tool.yaml": data})
    error = only_error(result, str(tmp_path / "tool.yaml"))
    assert error.message.startswith("binary file (NUL byte at offset 7)")


def test_utf16_with_bom_is_read_and_without_bom_is_refused(tmp_path: Path) -> None:
    body = GOOD.replace("name: good", "name: wide")
    files: dict[str, str | bytes] = {
        "bom16.yaml": body.encode("utf-16"),  # Python writes the byte-order mark
        "bom32.yaml": body.encode("utf-32"),
        "bom8.yaml": codecs.BOM_UTF8 + body.replace("wide", "narrow").encode(),
        "nobom.yaml": body.encode("utf-16-le"),
    }
    result = scan_with_good(tmp_path, files)
    names = {r.origin.file.rsplit("/", 1)[1]: r.name for r in result.resources}
    assert names["bom16.yaml"] == names["bom32.yaml"] == "wide"
    assert names["bom8.yaml"] == "narrow"
    error = only_error(result, str(tmp_path / "nobom.yaml"))
    assert "byte-order mark" in error.message
    assert len(result.errors) == 1


def test_duplicate_key_names_the_second_occurrence(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: dup\nspec:\n  hostNetwork: false\n  hostNetwork: true\n"
    result = scan_with_good(tmp_path, {"dup.yaml": text})
    error = only_error(result, str(tmp_path / "dup.yaml"))
    assert (error.kind, error.line) == ("parse", 7)
    assert "duplicate key 'hostNetwork'" in error.message


def test_duplicate_key_in_a_later_document_keeps_the_earlier_ones(tmp_path: Path) -> None:
    text = GOOD.replace("good", "first") + "---\nkind: Pod\napiVersion: v1\nkind: Pod\n"
    result = scan_with_good(tmp_path, {"dup2.yaml": text})
    error = only_error(result, str(tmp_path / "dup2.yaml"))
    assert error.line == 11
    assert "first" in [r.name for r in result.resources]


def test_tab_indentation(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: tabbed\n"
    result = scan_with_good(tmp_path, {"tabs.yaml": text})
    error = only_error(result, str(tmp_path / "tabs.yaml"))
    assert error.line == 4
    assert "tabs" in error.message


def test_unterminated_string(tmp_path: Path) -> None:
    text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "unterminated\ndata:\n  a: b\n'
    result = scan_with_good(tmp_path, {"quote.yaml": text})
    error = only_error(result, str(tmp_path / "quote.yaml"))
    assert error.kind == "parse"
    assert error.line == 5
    assert "quoted scalar" in error.message


def test_secret_values_are_never_quoted_in_errors(tmp_path: Path) -> None:
    text = (
        'apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: "hunter2-s3cret\n  other: x\n'
    )
    tagged = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: t\nstringData:\n  pin: !!int hunter2-s3cret\n"
    result = scan_with_good(tmp_path, {"secret.yaml": text, "tagged.yaml": tagged})
    assert len(result.errors) == 2
    for error in result.errors:
        assert "hunter2" not in error.message
    assert only_error(result, str(tmp_path / "tagged.yaml")).message == "a value does not fit its !!int tag"


def test_unreadable_directory(tmp_path: Path) -> None:
    write(tmp_path, {"tree/locked/x.yaml": GOOD, "tree/open/good.yaml": GOOD})
    locked = tmp_path / "tree" / "locked"
    locked.chmod(0)
    try:
        outcome = _scan_without_root_powers(str(tmp_path / "tree"))
    finally:
        locked.chmod(0o755)
    assert outcome["errors"] == [[str(locked), "cannot read directory: permission denied", "read"]]
    assert outcome["resources"] == [str(tmp_path / "tree" / "open" / "good.yaml")]


def _scan_without_root_powers(path: str) -> dict[str, list[object]]:
    """Scan in this process, or, when running as root (who reads everything), in a child process
    that has given up the capabilities that let root ignore file permissions."""
    code = (
        "import json, sys\n"
        "from stockade.sources.files import collect_paths\n"
        "r = collect_paths([sys.argv[1]])\n"
        "print(json.dumps({'errors': [[e.source, e.message, e.kind] for e in r.errors],"
        " 'resources': [x.origin.file for x in r.resources]}))\n"
    )
    if os.geteuid() != 0:
        result = collect_paths([path])
        return {
            "errors": [[e.source, e.message, e.kind] for e in result.errors],
            "resources": [r.origin.file for r in result.resources],
        }
    setpriv = shutil.which("setpriv")
    assert setpriv is not None, "running as root needs setpriv (util-linux) to drop privileges"
    proc = subprocess.run(
        [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--", sys.executable, "-c", code, path],
        capture_output=True,
        check=True,
        text=True,
    )
    loaded: dict[str, list[object]] = json.loads(proc.stdout)
    return loaded


def test_symlink_loops(tmp_path: Path) -> None:
    write(tmp_path, {"tree/app/deploy.yaml": GOOD})
    (tmp_path / "tree" / "app" / "up").symlink_to("..")
    (tmp_path / "tree" / "self.yaml").symlink_to("self.yaml")
    result = collect_paths([str(tmp_path / "tree")])
    assert [r.origin.file for r in result.resources] == [str(tmp_path / "tree" / "app" / "deploy.yaml")]
    by_source = {e.source: e.message for e in result.errors}
    assert by_source == {
        str(tmp_path / "tree" / "self.yaml"): "cannot read: symbolic link loop",
        str(tmp_path / "tree" / "app" / "up"): "symbolic link loop: this directory contains itself",
    }


def test_broken_symlink(tmp_path: Path) -> None:
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "nowhere.yaml")
    result = scan_with_good(tmp_path, {})
    result = collect_paths([str(tmp_path / "dangling.yaml"), str(tmp_path)])
    assert [e.message for e in result.errors] == ["broken symbolic link", "broken symbolic link"]
    assert [r.name for r in result.resources] == ["good"]


def test_file_that_vanishes_between_listing_and_reading(tmp_path: Path) -> None:
    write(tmp_path, {"a.yaml": GOOD.replace("good", "a"), "b.yaml": GOOD})
    found = list(discover([str(tmp_path)]))
    (tmp_path / "a.yaml").unlink()
    errors: list[InputProblem] = []
    names: list[str] = []
    for item in found:
        assert isinstance(item, Input)
        result = read_input(item)
        errors.extend(result.errors)
        names.extend(r.name for r in result.resources)
    assert [(e.source, e.message) for e in errors] == [
        (str(tmp_path / "a.yaml"), "file vanished before it could be read")
    ]
    assert names == ["good"]


def test_missing_path(tmp_path: Path) -> None:
    write(tmp_path, {"good.yaml": GOOD})
    result = collect_paths([str(tmp_path / "nope.yaml"), str(tmp_path / "good.yaml")])
    assert [(e.source, e.message, e.kind) for e in result.errors] == [
        (str(tmp_path / "nope.yaml"), "no such file or directory", "read")
    ]
    assert [r.name for r in result.resources] == ["good"]


def test_empty_and_comment_only_files_are_fine(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "empty.yaml": "",
        "comments.yaml": "# nothing here\n\n# yet\n",
        "sep.yaml": "---\n",
    }
    result = scan_with_good(tmp_path, files)
    assert result.errors == []
    assert [s.reason for s in skipped_for(result, str(tmp_path / "empty.yaml"))] == ["empty input"]
    for name in ("comments.yaml", "sep.yaml"):
        reasons = [s.reason for s in skipped_for(result, str(tmp_path / name))]
        assert reasons == ["no YAML documents (only comments or blank lines)"]


def test_wrong_types_name_file_line_and_object(tmp_path: Path) -> None:
    text = (
        "apiVersion: v1\nkind: 5\nmetadata:\n  name: a\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: []\n"
        "---\napiVersion: v1\nkind: Secret\nmetadata:\n  namespace: ns\n  name: {}\n"
    )
    result = scan_with_good(tmp_path, {"types.yaml": text})
    source = str(tmp_path / "types.yaml")
    got = [(e.line, e.message, e.object, e.kind) for e in result.errors if e.source == source]
    assert got == [
        (2, "document 0: kind is not a string", "?/a", "parse"),
        (8, "document 1: metadata is not a mapping", "ConfigMap/?", "parse"),
        (14, "document 2: metadata.name is not a string", "Secret/ns/?", "parse"),
    ]


def test_unrendered_helm_template_outside_a_chart(tmp_path: Path) -> None:
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        '  name: {{ include "app.fullname" . }}\nspec:\n'
        "  {{- if .Values.replicas }}\n  replicas: {{ .Values.replicas }}\n  {{- end }}\n"
    )
    simple = "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\n  labels:\n    cell: {{cell}}\n"
    result = scan_with_good(tmp_path, {"templates/deployment.yaml": text, "svc.yaml": simple})
    error = only_error(result, str(tmp_path / "templates/deployment.yaml"))
    assert error.message.startswith("looks like an unrendered template")
    assert error.line == 6
    error = only_error(result, str(tmp_path / "svc.yaml"))
    assert error.message.startswith("looks like an unrendered template")
    assert error.line == 6


def test_template_braces_inside_strings_are_just_text(tmp_path: Path) -> None:
    text = (
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: rules\n"
        "spec:\n  groups:\n  - name: g\n    rules:\n    - alert: Down\n"
        "      annotations:\n        summary: '{{ $labels.instance }} is down'\n"
    )
    result = scan_with_good(tmp_path, {"rule.yaml": text})
    assert result.errors == []
    assert "rules" in [r.name for r in result.resources]


def test_huge_single_line_gives_a_short_message(tmp_path: Path) -> None:
    junk = "x" * 8_000_000 + ": [ unclosed"
    result = scan_with_good(tmp_path, {"wide.yaml": junk})
    error = only_error(result, str(tmp_path / "wide.yaml"))
    assert error.line == 1
    assert len(error.message) < 200
    assert "xxxxxxxxxx" not in error.message


def test_control_characters(tmp_path: Path) -> None:
    text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bell\ndata:\n  a: "ring\x07"\n'
    esc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: esc\n  labels: {a: \x1b[31m}\n"
    result = scan_with_good(tmp_path, {"bell.yaml": text, "esc.yaml": esc})
    error = only_error(result, str(tmp_path / "bell.yaml"))
    assert error.line == 6
    assert error.message.startswith("control character U+0007 at column 11")
    assert only_error(result, str(tmp_path / "esc.yaml")).line == 5


def test_one_broken_document_does_not_cost_the_others(tmp_path: Path) -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: before\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [broken\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after\n"
    )
    result = scan_with_good(tmp_path, {"multi.yaml": text})
    error = only_error(result, str(tmp_path / "multi.yaml"))
    assert error.line == 9
    named = {r.name: (r.origin.document, r.origin.line) for r in result.resources}
    assert named["before"] == (0, 1)
    assert named["after"] == (2, 11)


def test_lists_and_scalars_at_top_level_are_skipped_with_a_reason(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "list.yaml": "- apiVersion: v1\n  kind: Pod\n",
        "scalar.yaml": "just some text\n",
        "compose.yaml": "version: '3'\nservices:\n  web:\n    image: nginx\n",
    }
    result = scan_with_good(tmp_path, files)
    assert result.errors == []
    reasons = {s.source.rsplit("/", 1)[1]: (s.reason, s.line) for s in result.skipped}
    assert reasons == {
        "list.yaml": ("document 0: a list, not a Kubernetes object", 1),
        "scalar.yaml": ("document 0: a string, not a Kubernetes object", 1),
        "compose.yaml": ("document 0: no apiVersion (not a Kubernetes object)", 1),
    }


def test_too_many_documents(tmp_path: Path) -> None:
    text = "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n" for i in range(5))
    result = scan_with_good(tmp_path, {"many.yaml": text}, limits=ParseLimits(max_documents=3))
    error = only_error(result, str(tmp_path / "many.yaml"))
    assert (error.kind, error.line) == ("limit", 17)
    assert [r.name for r in result.resources if r.origin.file.endswith("many.yaml")] == ["c0", "c1", "c2"]


def test_null_and_complex_keys(tmp_path: Path) -> None:
    null_key = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: n\ndata:\n  ~: x\n"
    complex_key = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  ? [a, b]\n  : x\n"
    result = scan_with_good(tmp_path, {"null.yaml": null_key, "complex.yaml": complex_key})
    error = only_error(result, str(tmp_path / "null.yaml"))
    assert (error.line, error.message) == (5, "a mapping key is null")
    error = only_error(result, str(tmp_path / "complex.yaml"))
    assert (error.line, error.message) == (5, "a mapping key is itself a mapping or a list")


def test_unknown_alias(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata: *nowhere\n"
    result = scan_with_good(tmp_path, {"alias.yaml": text})
    error = only_error(result, str(tmp_path / "alias.yaml"))
    assert error.line == 5
    assert "unknown anchor" in error.message


def test_list_whose_items_are_not_a_list(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: List\nitems:\n  name: x\n"
    result = scan_with_good(tmp_path, {"list.yaml": text})
    error = only_error(result, str(tmp_path / "list.yaml"))
    assert (error.line, error.message) == (3, "document 0: List.items is not a list")


@pytest.mark.parametrize("directive", ["%YAML 1.2\n---\n", "%TAG ! tag:example.com,2000:\n---\n"])
def test_directives_before_a_document_are_fine(tmp_path: Path, directive: str) -> None:
    result = scan_with_good(tmp_path, {"directive.yaml": directive + GOOD.replace("good", "directed")})
    assert result.errors == []
    assert "directed" in [r.name for r in result.resources]


def test_named_pipe_in_a_directory_is_skipped_not_opened(tmp_path: Path) -> None:
    write(tmp_path, {"tree/ok.yaml": GOOD})
    os.mkfifo(tmp_path / "tree" / "pipe.yaml")
    result = collect_paths([str(tmp_path / "tree")])  # opening the pipe would block forever
    assert [(s.source, s.reason) for s in result.skipped] == [
        (str(tmp_path / "tree" / "pipe.yaml"), "not a regular file (a pipe, socket or device)")
    ]
    assert [r.name for r in result.resources] == ["good"]


def test_unknown_tags_in_non_kubernetes_yaml_are_skipped_not_errors(tmp_path: Path) -> None:
    # mkdocs.yml and friends carry Python tags; pre-commit hands them to the hook with the manifests.
    mkdocs = "site_name: docs\nmarkdown_extensions:\n  - pymdownx.emoji:\n      emoji_index: !!python/name:material.twemoji\n"
    listed = "- !!python/tuple [1, 2]\n- !!timestamp 2001-12-14\n"
    kind_only = "kind: !!foo Thing\nspec: {}\n"
    tagged_object = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\ndata:\n  run: !!python/name:os.system\n"
    bomb = BILLION_LAUGHS + "z: !!python/name:x\n"
    files = {"mkdocs.yml": mkdocs, "list.yaml": listed, "kind.yaml": kind_only, "object.yaml": tagged_object}
    result = scan_with_good(tmp_path, {**files, "bomb.yaml": bomb})
    reasons = {name: [s.reason for s in skipped_for(result, str(tmp_path / name))] for name in files}
    assert reasons["mkdocs.yml"] == ["document 0: no apiVersion (not a Kubernetes object)"]
    assert reasons["list.yaml"] == ["document 0: a list, not a Kubernetes object"]
    assert reasons["kind.yaml"] == ["document 0: no apiVersion (not a Kubernetes object)"]
    # A Kubernetes object with a tag the parser cannot read is still an error: it was not checked.
    assert reasons["object.yaml"] == []
    assert "Invalid tag" in only_error(result, str(tmp_path / "object.yaml")).message
    # The outline is read without expanding aliases: the bomb is skipped at once.
    assert [s.reason for s in skipped_for(result, str(tmp_path / "bomb.yaml"))] == [
        "document 0: no apiVersion (not a Kubernetes object)"
    ]
