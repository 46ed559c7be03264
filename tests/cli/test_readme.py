"""Every `stockade …` command shown in the README is accepted by the real parser."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from stockade.cli.main import build_parser

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def readme_commands() -> list[str]:
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.DOTALL):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            for part in line.split("&&"):
                part = part.strip()
                if part.startswith("stockade "):
                    commands.append(part)
    return commands


COMMANDS = readme_commands()


def test_the_readme_shows_commands() -> None:
    assert len(COMMANDS) >= 15
    assert {c.split()[1] for c in COMMANDS} >= {"scan", "rules", "snapshot", "pss", "rbac"}


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_parses(command: str) -> None:
    # A synopsis line ("rules list [--framework ID]") is checked with and without its options.
    for variant in {re.sub(r"\[([^\]]*)\]", "", command), re.sub(r"\[([^\]]*)\]", r"\1", command)}:
        _parses(variant.replace(" ID", " cis-1.10").replace(" SEL", " WL"))


def _parses(command: str) -> None:
    argv = shlex.split(command)[1:]
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:  # the parser calls fatal() (exit 2) on anything it does not accept
        pytest.fail(f"README command rejected ({exc.code}): {command}")
