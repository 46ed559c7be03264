"""Shared by the PSS namespace rules: the controls a namespace's Pod Security labels answer to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

NAMESPACE_FRAMEWORKS: Final[Mapping[str, list[str]]] = {
    "cis-1.10": ["5.2.1"],
    "nsa-cisa": ["pod-security.enforcement"],
    "owasp-k8s-2022": ["K04"],
    "owasp-k8s-2025": ["K04"],
}
