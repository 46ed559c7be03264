"""JSON text for the command outputs (their tables come from :mod:`stockade.report._table`)."""

from __future__ import annotations

import orjson


def json_text(data: object) -> str:
    """Indented JSON and a final newline."""
    return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"
