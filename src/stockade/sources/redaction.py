"""Secret values never leave a source: every source that can meet a Secret blanks it here.

Key names, type and metadata stay (rules read them); every ``data`` / ``stringData`` value becomes
:data:`REDACTED`, and the ``last-applied-configuration`` annotation, which repeats the values, is
dropped.
"""

from __future__ import annotations

from typing import Any

REDACTED = ""
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def redact_secret(raw: dict[str, Any]) -> dict[str, Any]:
    """Blank every Secret value in place (key names stay) and drop last-applied-configuration."""
    for section in ("data", "stringData"):
        values = raw.get(section)
        if isinstance(values, dict):
            raw[section] = dict.fromkeys(values, REDACTED)
        elif values is not None:
            raw[section] = {}
    meta = raw.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if isinstance(annotations, dict):
        annotations.pop(LAST_APPLIED, None)
    return raw
