"""Items 4, 6, 11 and 16: text from inputs in every output.

Undecodable file names (item 6), hostile snapshot contents (item 11), bidirectional and zero-width
characters (item 16), and ESC sequences and newlines in names outside ``scan`` (item 4).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from stockade.cli.main import main
from stockade.report._summary import clean
from stockade.report.markdown_report import md

FORMATS = ("table", "json", "sarif", "junit", "markdown", "html")
HUMAN = ("table", "sarif", "junit", "markdown", "html")
HIDDEN = ("\u202e", "\u200b", "\u2066", "\x1b", "\x01")
TRICK = "evil\u202egnp.exe\u200b\u2066x\x1b[2J"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def pod(name: str, namespace: str = "shop") -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"hostPID": True, "containers": [{"name": name, "image": "nginx"}]},
    }


# -- item 6: undecodable file names -----------------------------------------------------------------


@pytest.fixture
def undecodable(tmp_path: Path) -> Path:
    directory = tmp_path / "repo"
    directory.mkdir()
    with open(os.path.join(os.fsencode(directory), b"bad-\xff\xfe.yaml"), "w") as handle:
        handle.write(yaml.safe_dump(pod("web")))
    with open(os.path.join(os.fsencode(directory), b"broken-\xff.yaml"), "w") as handle:
        handle.write("kind: [unclosed\n")
    return directory


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_undecodable_file_name_is_escaped_in_every_format(
    fmt: str, undecodable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "scan", "--no-progress", "-f", fmt, str(undecodable))
    assert code == 3, err  # the broken file is an input problem, not a crash
    assert "Traceback" not in err
    shown = out.replace("\\\\", "\\").replace("%5C", "\\")  # JSON, Markdown and URIs escape the backslash
    assert "\\xff\\xfe.yaml" in shown
    out.encode("utf-8")  # no lone surrogate left
    if fmt == "json":
        assert any("broken-\\xff.yaml" in e["source"] for e in json.loads(out)["errors"])
    if fmt == "junit":
        ET.fromstring(out)


def test_snapshot_of_an_undecodable_file_name(
    undecodable: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "snap.json"
    code, _, err = run(capsys, "snapshot", "--no-progress", str(undecodable), "-o", str(target))
    assert code == 3 and "Traceback" not in err
    document = json.loads(target.read_text(encoding="utf-8"))
    assert any("broken-\\xff.yaml" in e["source"] for e in document["errors"])
    assert "\\xff" in err


# -- item 11: hostile snapshot contents -------------------------------------------------------------


def hostile_snapshot(path: Path) -> Path:
    document = {
        "apiVersion": "stockade.io/v1alpha1",
        "kind": "ClusterSnapshot",
        "metadata": {"source": "cluster", "facts": {"server_version": "v1.31\x1b]0;owned\x07"}},
        "items": [pod("web<script>alert(1)</script>")],
        "errors": [
            {
                "source": "[click](javascript:alert(1))",
                "message": "</error><injected/> <script>alert(2)</script> see www.evil.example/login",
                "kind": "read\x01</error><injected/>",
                "object": "Pod/x/<img src=x onerror=alert(3)>",
                "line": 3,
            }
        ],
        "skipped": [{"source": "<b>bold</b>", "reason": "[x](javascript:alert(4))"}],
    }
    path.write_bytes(gzip.compress(json.dumps(document).encode()))
    return path


def test_junit_from_a_hostile_snapshot_is_valid_xml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = hostile_snapshot(tmp_path / "s.json.gz")
    code, out, _ = run(capsys, "scan", "--no-progress", "-f", "junit", "--snapshot", str(snapshot))
    assert code == 3
    root = ET.fromstring(out)
    errors = [e for e in root.iter("error") if "read" in (e.get("type") or "")]
    assert errors and errors[0].get("type") == "read\\x01</error><injected/>"  # text, not markup
    assert not list(root.iter("injected"))


def test_markdown_from_a_hostile_snapshot_holds_no_markup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = hostile_snapshot(tmp_path / "s.json.gz")
    _, report, _ = run(capsys, "scan", "--no-progress", "-f", "markdown", "--snapshot", str(snapshot))
    out = re.sub(r"(`+).*?\1", "", report)  # inside a code span, text is shown literally
    unescaped = [
        r"<script>",
        r"</error>",
        r"<injected/>",
        r"<img",
        r"<b>bold",
        r"\]\(javascript",
        r"javascript:",
        r"www\.",
    ]
    for pattern in unescaped:  # each would be markup, a link or an autolink unless a backslash precedes it
        assert not re.search(r"(?<!\\)" + pattern, out), pattern
    assert "\\<script\\>" in out and "www\\.evil" in out


def test_html_from_a_hostile_snapshot_holds_no_markup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = hostile_snapshot(tmp_path / "s.json.gz")
    _, out, _ = run(capsys, "scan", "--no-progress", "-f", "html", "--snapshot", str(snapshot))
    for raw in ("<script>alert", "<injected/>", "<img src", "<b>bold"):
        assert raw not in out, raw
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", out)


# -- item 16: bidirectional and zero-width characters -----------------------------------------------


@pytest.mark.parametrize("fmt", HUMAN)
def test_bidi_and_zero_width_characters_are_made_visible(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text(yaml.safe_dump(pod(TRICK, namespace="n\u2069s")), encoding="utf-8")
    _, out, err = run(capsys, "scan", "--no-progress", "-f", fmt, str(path))
    if fmt == "sarif":  # what viewers show: messages and logical locations (properties keep exact values)
        out = json.dumps(
            [(r["message"], r["locations"][0]["logicalLocations"]) for r in json.loads(out)["runs"][0]["results"]],
            ensure_ascii=False,
        )
    for char in HIDDEN:
        assert char not in out and char not in err, (fmt, hex(ord(char)))
    assert "\\u202e" in out


def test_clean_shows_each_hidden_character_as_an_escape() -> None:
    assert clean("a\u202eb\u200bc\u2066d\ufeffe\u2028f") == "a\\u202eb\\u200bc\\u2066d\\ufeffe f"
    assert clean("x\x1b[31m\ud8ff\udcff") == "x\\x1b[31m\\ud8ff\\xff"


def test_a_bare_host_is_not_a_link_in_markdown() -> None:
    assert md("see www.evil.example/login or WWW.Evil.example") == "see www\\.evil.example/login or WWW\\.Evil.example"
    assert md("https://evil.example") == "https\\://evil.example"


# -- item 4: ESC sequences and newlines outside scan -----------------------------------------------

ESCAPE = "a\x1b[31mred\x1b[0m\nforged: line"


@pytest.fixture
def rbac_objects(tmp_path: Path) -> Path:
    objects = [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "b" + ESCAPE},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "sa" + ESCAPE, "namespace": "ns" + ESCAPE}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "r" + ESCAPE, "namespace": "ns"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "missing" + ESCAPE},
            "subjects": [{"kind": "User", "name": "u" + ESCAPE}],
        },
        pod("p" + ESCAPE, namespace="n" + ESCAPE),
    ]
    path = tmp_path / "objects.yaml"
    path.write_text(yaml.safe_dump_all(objects))
    return path


@pytest.mark.parametrize(
    "command",
    [
        ("rbac", "privileged"),
        ("rbac", "who-can", "get", "pods"),
        ("rbac", "matrix"),
        ("rbac", "explain", "sa:ns\x1b[31mred\x1b[0m\nforged: line:sa"),
        ("pss", "evaluate", "-f", "table"),
        ("scan",),
    ],
)
def test_no_command_lets_escapes_or_newlines_through(
    command: tuple[str, ...], rbac_objects: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, err = run(capsys, *command, "--no-progress", str(rbac_objects))
    for stream in (out, err):
        assert "\x1b" not in stream
        assert not any(line.startswith("forged") for line in stream.splitlines())
    assert "\\x1b[31m" in out + err


def test_snapshot_messages_escape_file_names_and_the_server_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = hostile_snapshot(tmp_path / "s.json.gz")
    target = tmp_path / "out\x1b[2Jname.json"
    code, _, err = run(capsys, "snapshot", "--no-progress", "--snapshot", str(snapshot), "-o", str(target))
    assert code == 3
    assert "\x1b" not in err and "\x07" not in err and "\x01" not in err
    assert "out\\x1b[2Jname.json" in err and "v1.31\\x1b]0;owned\\x07" in err


def test_usage_errors_escape_what_they_quote(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "rbac", "who-can", "get", "po\u202eds/x/y", "--snapshot", "none")
    assert code == 2 and "\u202e" not in err and "\\u202e" in err
