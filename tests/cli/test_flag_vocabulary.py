"""One meaning per flag across every command: the parsers are walked, not listed by hand."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from stockade.cli.main import build_parser, main

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every leaf command with its path (``("rbac", "who-can")``)."""
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        yield path, parser
        return
    for action in subparsers:
        for name, child in action.choices.items():
            yield from _commands(child, (*path, name))


COMMANDS = dict(_commands(build_parser()))


def test_the_walk_finds_every_command() -> None:
    assert {"scan", "snapshot", "pss evaluate", "rbac who-can", "rbac can-i", "rules list"} <= {
        " ".join(path) for path in COMMANDS
    }
    assert len(COMMANDS) >= 11


def test_every_flag_has_one_meaning_everywhere() -> None:
    meaning: dict[str, tuple[str, str]] = {}  # option string -> (dest, first command that uses it)
    clashes = []
    for path, parser in COMMANDS.items():
        for action in parser._actions:
            for option in action.option_strings:
                seen = meaning.setdefault(option, (action.dest, " ".join(path)))
                if seen[0] != action.dest:
                    clashes.append(f"{option}: {seen[0]} in `{seen[1]}`, {action.dest} in `{' '.join(path)}`")
    assert clashes == []
    # The vocabulary users bring from Trivy, Kubescape and kubectl.
    assert meaning["-f"][0] == "format"
    assert meaning["-o"][0] == "output"
    assert meaning["-n"][0] == "namespace"
    assert meaning["-A"][0] == "all_namespaces"
    assert meaning["--context"][0] == "context"
    assert meaning["--kubeconfig"][0] == "kubeconfig"


def test_every_command_with_formats_takes_an_output_file() -> None:
    for path, parser in COMMANDS.items():
        options = {option for action in parser._actions for option in action.option_strings}
        if "-f" in options:
            assert "-o" in options, " ".join(path)


@pytest.mark.parametrize(
    "argv",
    [
        ["scan", str(DEMO), "-o", "json"],
        ["scan", str(DEMO), "-o", "sarif"],
        ["rules", "list", "-o", "json"],
        ["rbac", "privileged", str(DEMO), "-o", "json"],
        ["pss", "evaluate", str(DEMO), "-o", "table"],
    ],
)
def test_a_format_name_given_to_o_is_refused_with_a_hint(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--no-progress"] if argv[0] != "rules" else argv)
    assert exited.value.code == 2
    fmt = argv[-1]
    assert f"use `-f {fmt}`" in capsys.readouterr().err
    assert not (tmp_path / fmt).exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["scan", str(DEMO), "--no-progress", "-f", "json"],
        ["rules", "list", "-f", "json"],
        ["rbac", "privileged", str(DEMO), "--no-progress", "-f", "json"],
        ["pss", "evaluate", str(DEMO), "--no-progress", "-f", "json"],
    ],
)
def test_o_writes_the_same_text_to_a_file(argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    first = main(argv)
    printed = capsys.readouterr().out
    target = tmp_path / "out.json"
    assert main([*argv, "-o", str(target)]) == first
    assert capsys.readouterr().out == ""
    written = target.read_text()
    if argv[0] == "scan":  # the report carries the time it was made
        written, printed = written.split('"generated_at"')[0], printed.split('"generated_at"')[0]
    assert written == printed and written


def test_o_with_f_may_name_a_file_called_like_a_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["rules", "list", "-f", "json", "-o", "json"]) == 0
    assert (tmp_path / "json").read_text().startswith("[")


def test_n_and_a_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["rbac", "who-can", "get", "secrets", "-n", "shop", "-A", str(DEMO), "--no-progress"])
    assert exited.value.code == 2
    assert "exclude each other" in capsys.readouterr().err
