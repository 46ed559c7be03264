"""Reading the user's own configuration files (exceptions, settings): small, strict, safe YAML/JSON.

Only regular files are read (a FIFO or ``/dev/zero`` is refused before reading), at most
:data:`MAX_CONFIG_BYTES`.
"""

from __future__ import annotations

from stockade.errors import ConfigFileError
from stockade.sources.bounded import ReadRefused, read_limited

MAX_CONFIG_BYTES = 4 * 1024 * 1024


def read_config_file(path: str) -> object:
    """Load one YAML or JSON document; ConfigFileError names the file and what is wrong."""
    return parse_config_text(path, read_config_text(path))


def read_config_text(path: str) -> str:
    """The text of a configuration file (a regular file, bounded, UTF-8)."""
    try:
        data = read_limited(path, MAX_CONFIG_BYTES)
    except ReadRefused as exc:
        raise ConfigFileError(f"{path}: cannot read ({exc.message})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"{path}: not valid UTF-8 (byte {exc.start})") from None


def parse_config_text(path: str, text: str) -> object:
    """Parse the text of one YAML or JSON document read from ``path`` (named in errors)."""
    import yaml_rs

    from stockade.sources.quoted import parse_leniently

    try:
        loaded = parse_leniently(
            text,
            lambda body: yaml_rs.loads(
                body, parse_datetime=False, alias_limits=yaml_rs.AliasLimits(max_total_replayed_events=10_000)
            ),
        )
    except (yaml_rs.YAMLDecodeError, ValueError, RecursionError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigFileError(f"{path}: {first_line}") from None
    if isinstance(loaded, list) and loaded and all(isinstance(d, dict) or d is None for d in loaded):
        documents = [d for d in loaded if d is not None]
        if len(documents) > 1 and "---" in text:
            raise ConfigFileError(f"{path}: expected one document, found {len(documents)}")
    return loaded
