"""The project configuration on the command line: ``--config``/``--no-config`` on the commands that
read inputs, flags over the file over the defaults, and ``stockade config show|schema``.

A flag given on the command line wins, even when it repeats the default; list flags (``--rules``)
replace the file's list, they do not add to it. Origins read ``default``, ``FILE:LINE`` or the flag.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stockade.cli.errors import fatal
from stockade.cli.output_options import add_output_options, write_output

if TYPE_CHECKING:  # the parser is built for every command: the configuration loads only when run
    from stockade.config import Key, ProjectConfig

ALL_KEYS = (
    "rules",
    "skip-rules",
    "severity",
    "exceptions",
    "allowed-registries",
    "fail-on",
    "pod-templates",
    "kubernetes-version",
    "policies",
    "secret-entropy-threshold",
    "frameworks",
)
# Keys whose flag stores under another name; the others store under the key in snake_case.
_DESTS = {"frameworks": "framework", "pod-templates": "pod_template", "severity": "severity_overrides"}
# Flags whose parser default would hide whether they were given; their defaults live in stockade.config.KEYS.
_SCALAR_DESTS = ("fail_on", "secret_entropy_threshold")


def dest(key: str) -> str:
    return _DESTS.get(key, key.replace("-", "_"))


@dataclass(frozen=True, slots=True)
class Setting:
    key: str
    value: object
    origin: str
    note: str = ""


def add_config_options(parser: argparse.ArgumentParser, keys: Sequence[str]) -> None:
    """``--config FILE`` and ``--no-config``; ``keys`` are the settings this command takes from the file."""
    group = parser.add_argument_group("project configuration")
    group.add_argument(
        "--config",
        metavar="FILE",
        help="settings file (default: .stockade.yaml or pyproject.toml [tool.stockade], "
        "found from the current directory upward)",
    )
    group.add_argument("--no-config", action="store_true", help="ignore the project configuration file")
    # None is "not given", so that a flag repeating the default still wins over the file.
    scalars = {name: None for name in _SCALAR_DESTS if any(dest(k) == name for k in keys)}
    parser.set_defaults(_config_keys=tuple(keys), **scalars)


def add_config_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """``stockade config show|schema``; ``show`` takes the scan's setting flags (the same actions)."""
    config = sub.add_parser(
        "config",
        help="show the project configuration and its JSON Schema",
        description="Show the settings a scan from this directory would use (project configuration file, "
        "command-line flags, defaults), or the JSON Schema of the configuration file.",
    )
    commands = config.add_subparsers(dest="config_command", required=True, parser_class=type(config))
    show = commands.add_parser(
        "show",
        help="each effective setting and where it came from",
        description="Print each setting a scan would use and its origin: default, FILE:LINE or the flag. "
        "Flags given here override the file as they do for `stockade scan`.",
    )
    scan = sub.choices["scan"]
    settable = {dest(key) for key in ALL_KEYS}
    for action in scan._actions:
        if action.dest in settable:
            show._add_action(action)
    add_config_options(show, ALL_KEYS)
    add_output_options(show, ("table", "json"), "table")
    schema = commands.add_parser("schema", help="print the JSON Schema of .stockade.yaml (for editors)")
    add_output_options(schema, ("json",), "json")


def project_config(args: argparse.Namespace) -> ProjectConfig:
    """The configuration named by ``--config``, else found from the current directory, else empty."""
    from stockade.config import ProjectConfig, find_config, load_config
    from stockade.errors import ConfigFileError

    if args.no_config and args.config is not None:
        fatal("--config and --no-config exclude each other")
    if args.no_config:
        return ProjectConfig()
    try:
        path = Path(args.config) if args.config is not None else find_config(Path.cwd())
        return load_config(path) if path is not None else ProjectConfig()
    except ConfigFileError as exc:
        fatal(str(exc))
    except OSError as exc:  # a working directory that vanished, an unreadable parent
        fatal(f"cannot look for a configuration file: {exc.strerror or exc}")


def apply_project_config(args: argparse.Namespace) -> None:
    """Fill every setting the command did not get a flag for from the file, else the default;
    record what was used and why in ``args._settings``."""
    from stockade.config import KEY_BY_NAME

    config = project_config(args)
    settings = []
    for name in args._config_keys:
        key = KEY_BY_NAME[name]
        given = getattr(args, dest(name), None)
        if given not in (None, []):
            value, origin = given, str(key.flag)
        elif config.value(name) is not None:
            value, origin = _as_flag_value(key, config.value(name)), _shown_origin(config.origin(name))
        else:
            value, origin = ([] if isinstance(given, list) else key.default), "default"
        setattr(args, dest(name), value)
        settings.append(Setting(name, value, origin, key.note))
    args._settings = settings
    args._config_path = config.path


def _as_flag_value(key: Key, value: object) -> object:
    """A file value in the shape the flag's parser gives it."""
    if key.name == "allowed-registries" and isinstance(value, tuple):
        return ",".join(value)
    if isinstance(value, tuple):
        return list(value)
    if key.name == "policies" and isinstance(value, Path):
        return [str(value)]  # --policies may be given more than once
    if isinstance(value, Path):
        return str(value)
    return value


def _shown_origin(origin: str | None) -> str:
    """``FILE:LINE`` with FILE relative to the current directory when that is shorter."""
    text = str(origin)
    try:
        relative = os.path.relpath(text, Path.cwd())
    except ValueError:
        return text
    return relative if len(relative) < len(text) else text


def run_config(args: argparse.Namespace) -> int:
    if args.config_command == "schema":
        from stockade.config import json_schema

        write_output(json.dumps(json_schema(), indent=2), args.output)
        return 0
    settings: list[Setting] = args._settings
    path = args._config_path
    if args.format == "json":
        document = {
            "file": None if path is None else _shown_origin(str(path)),
            "settings": {
                s.key: {"value": _jsonable(s.value), "origin": s.origin, **({"note": s.note} if s.note else {})}
                for s in settings
            },
        }
        write_output(json.dumps(document, indent=2), args.output)
        return 0
    rows = [
        (s.key, _text(s.value), s.origin + (f" ({s.note})" if s.note and s.value is not None else "")) for s in settings
    ]
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    lines = [f"configuration file: {'none' if path is None else _shown_origin(str(path))}"]
    lines += [f"{k.ljust(width)}  {v.ljust(value_width)}  {o}" for k, v, o in rows]
    write_output("\n".join(lines), args.output)
    return 0


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return value


def _text(value: object) -> str:
    if value is None or value == []:
        return "-"
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)
