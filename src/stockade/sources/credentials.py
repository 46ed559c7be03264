"""Credential files that are never objects: kubeconfigs and Docker ``config.json``.

A repository (or a link in it) may hold a kubeconfig with ``client-key-data`` or a ``token``.
Such a document is no Kubernetes object, and keeping it would copy its credentials into every
snapshot and report that carries raw objects. It is dropped as soon as it is parsed, reported as
skipped with no value quoted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stockade.model.finding import SkippedInput
from stockade.sources.base import SourceResult
from stockade.sources.yamlload import Document

__all__ = ["credential_kind", "without_credentials"]

# The sections of a kubeconfig, each a list of {name, <entry>: {...}}.
_KUBECONFIG_SECTIONS = {"clusters": "cluster", "users": "user", "contexts": "context"}


def credential_kind(value: Any) -> str | None:
    """``"kubeconfig"`` or ``"Docker config"`` when the document ``value`` is one, else None.

    A kubeconfig is ``apiVersion: v1`` ``kind: Config``, or any document with a section shaped like
    a kubeconfig's (``users: [{name: …, user: {token: …}}]``) whatever its kind says: the credentials
    would be copied all the same. A Docker config has an ``auths`` mapping of registries."""
    if not isinstance(value, Mapping):
        return None
    if value.get("kind") == "Config" and value.get("apiVersion") == "v1":
        return "kubeconfig"
    for section, entry in _KUBECONFIG_SECTIONS.items():
        listed = value.get(section)
        if isinstance(listed, list) and any(isinstance(item, Mapping) and entry in item for item in listed):
            return "kubeconfig"
    auths = value.get("auths")
    if isinstance(auths, Mapping) and any(isinstance(registry, Mapping) for registry in auths.values()):
        return "Docker config"
    return None


def without_credentials(result: SourceResult, documents: list[Document], source: str) -> list[Document]:
    """``documents`` less the credential ones, each of which is recorded in ``result.skipped``."""
    kept = []
    for document in documents:
        kind = credential_kind(document.value)
        if kind is None:
            kept.append(document)
        else:
            result.skipped.append(SkippedInput(source, f"{kind}: credentials are not read", document.line))
    return kept
