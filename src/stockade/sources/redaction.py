"""Secret values never leave a source: every object read passes through :func:`redact_result`
(:func:`stockade.api.collect` calls it on what each source returns), whatever the source.
Encryption keys in an EncryptionConfiguration are blanked the same way (kubeconfigs never become
objects at all: `stockade.sources.credentials`).

Key names, type and metadata stay (rules read them); every ``data`` / ``stringData`` value becomes
:data:`REDACTED`, and the ``last-applied-configuration`` annotation, which repeats the values, is
dropped — from a Secret, and from any object whose annotation holds a Secret. A list of Secrets
(``SecretList``, ``List``) has each item blanked.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from stockade.sources.base import SourceResult

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


def is_secret(raw: Mapping[str, Any]) -> bool:
    """A Secret, whatever apiVersion or letter case it claims (blanking too much costs nothing)."""
    kind = raw.get("kind")
    return isinstance(kind, str) and kind.lower() == "secret"


def _holds_secret(value: Any) -> bool:
    if isinstance(value, Mapping):
        items = value.get("items")
        return is_secret(value) or (isinstance(items, list) and any(_holds_secret(i) for i in items))
    return False


def _annotation_holds_secret(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    try:
        return _holds_secret(json.loads(text))
    except (ValueError, RecursionError):
        # Not what kubectl writes: keep it only when it cannot be a Secret's copy.
        return "secret" in text.lower()


def redacted(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    """A copy of ``raw`` with every Secret value blanked, or None when nothing had to change.

    ``raw`` itself is left alone (a Resource's raw mapping is never mutated)."""
    copy: dict[str, Any] | None = None
    items = raw.get("items")
    if isinstance(items, list):
        blanked = [redacted(i) if isinstance(i, Mapping) else None for i in items]
        if any(b is not None for b in blanked):
            copy = dict(raw)
            copy["items"] = [b if b is not None else i for b, i in zip(blanked, items, strict=True)]
    meta = raw.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    secret = is_secret(raw)
    last_applied = annotations.get(LAST_APPLIED) if isinstance(annotations, Mapping) else None
    drop_annotation = last_applied is not None and (secret or _annotation_holds_secret(last_applied))
    if not secret and not drop_annotation:
        return copy
    copy = copy if copy is not None else dict(raw)
    if isinstance(meta, Mapping):
        copy["metadata"] = dict(meta)
        if isinstance(annotations, Mapping):
            copy["metadata"]["annotations"] = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
    if secret:
        redact_secret(copy)
    return copy


# Encryption keys in an EncryptionConfiguration read as an object (`stockade node scan`).
BLANKED = "<redacted>"


def _credentials_blanked(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    """A copy of an EncryptionConfiguration with every key's secret blanked, or None if not one."""
    if raw.get("kind") != "EncryptionConfiguration" or not isinstance(raw.get("resources"), list):
        return None
    copy: dict[str, Any] = json.loads(json.dumps(raw))
    for entry in copy["resources"]:
        for provider in entry.get("providers") or [] if isinstance(entry, dict) else []:
            for settings in provider.values() if isinstance(provider, dict) else []:
                for key in settings.get("keys") or [] if isinstance(settings, dict) else []:
                    if isinstance(key, dict) and "secret" in key:
                        key["secret"] = BLANKED
    return copy


def redact_result(result: SourceResult) -> SourceResult:
    """Blank every Secret value among ``result``'s objects (in place; returns ``result``)."""
    for index, resource in enumerate(result.resources):
        blanked = redacted(resource.raw)
        credentials = _credentials_blanked(blanked if blanked is not None else resource.raw)
        blanked = credentials if credentials is not None else blanked
        if blanked is not None:
            result.resources[index] = dataclasses.replace(resource, raw=blanked)
    return result
