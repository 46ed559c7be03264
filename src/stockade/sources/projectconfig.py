"""Finding and reading a project's configuration file: ``.stockade.yaml`` or ``[tool.stockade]`` in
``pyproject.toml``, looked for from a directory upward, as ruff and pytest find theirs.

The search stops at the first directory that holds a configuration, and after the first directory
that holds a ``.git`` (the repository's root): a configuration above the repository is not the
project's. A ``pyproject.toml`` without a ``[tool.stockade]`` table is passed over. Validation of
the values is :mod:`stockade.config`'s; this module only reads.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from stockade.errors import ConfigFileError
from stockade.sources.configfile import parse_config_text, read_config_text
from stockade.sources.locate import line_in_text

CONFIG_FILE = ".stockade.yaml"
PYPROJECT = "pyproject.toml"
_TOOL_TABLE = re.compile(r"^\s*\[\s*tool\s*\.\s*stockade\s*\]\s*(#.*)?$")
_ANY_TABLE = re.compile(r"^\s*\[")

PathStep = str | int


@dataclass(frozen=True, slots=True)
class RawConfig:
    """The values of a configuration file as parsed, and where each top-level key was written."""

    path: Path
    values: Mapping[str, object]
    text: str = field(repr=False)
    toml: bool = False

    def line(self, steps: Sequence[PathStep]) -> int | None:
        """1-based line of a key (or a list item, ``(key, index)``), when it can be found."""
        if not self.toml:
            return line_in_text(self.text, 1, steps)
        return _toml_key_line(self.text, str(steps[0])) if steps else None


def find_config(start: Path) -> Path | None:
    """The configuration file that applies to ``start`` (a directory), or None."""
    directory = start.resolve()
    for candidate in (directory, *directory.parents):
        own = candidate / CONFIG_FILE
        if own.is_file():
            return own
        pyproject = candidate / PYPROJECT
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
        if (candidate / ".git").exists():
            return None
    return None


def read_raw_config(path: Path) -> RawConfig:
    """Parse ``path`` (YAML, or the ``[tool.stockade]`` table of a ``pyproject.toml``)."""
    text = read_config_text(str(path))
    if path.name == PYPROJECT or path.suffix == ".toml":
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigFileError(f"{path}: {exc}") from None
        table = document.get("tool", {}).get("stockade") if isinstance(document.get("tool"), dict) else None
        if not isinstance(table, dict):
            raise ConfigFileError(f"{path}: no [tool.stockade] table")
        return RawConfig(path, table, text, toml=True)
    loaded = parse_config_text(str(path), text)
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise ConfigFileError(f"{path}: expected a mapping of settings (key: value), found {_kind(loaded)}")
    return RawConfig(path, loaded, text)


def _has_tool_table(path: Path) -> bool:
    try:
        document = tomllib.loads(read_config_text(str(path)))
    except (ConfigFileError, tomllib.TOMLDecodeError):
        # A pyproject.toml that cannot be read is not ours to judge unless it names us.
        try:
            return any(
                _TOOL_TABLE.match(line) or "[tool.stockade." in line
                for line in read_config_text(str(path)).splitlines()
            )
        except ConfigFileError:
            return False
    tool = document.get("tool")
    return isinstance(tool, dict) and "stockade" in tool


def _toml_key_line(text: str, key: str) -> int | None:
    """The line of ``key =`` inside ``[tool.stockade]`` (or its ``[tool.stockade.KEY]`` table)."""
    assignment = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*=""")
    subtable = re.compile(rf"""^\s*\[\s*tool\s*\.\s*stockade\s*\.\s*"?{re.escape(key)}"?\s*\]""")
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        if subtable.match(line):
            return number
        if _ANY_TABLE.match(line):
            inside = bool(_TOOL_TABLE.match(line))
        elif inside and assignment.match(line):
            return number
    return None


def _kind(value: object) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )
