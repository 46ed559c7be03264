"""Shared by the PSS namespace rules: the controls a namespace's Pod Security labels answer to, and
the policy those labels set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from stockade.model.inventory import Inventory
from stockade.pss.namespaces import NamespacePolicy, namespace_policies
from stockade.rules.base import RuleContext

NAMESPACE_FRAMEWORKS: Final[Mapping[str, list[str]]] = {
    "cis-1.10": ["5.2.1"],
    "nsa-cisa": ["pod-security.enforcement"],
    "owasp-k8s-2022": ["K04"],
    "owasp-k8s-2025": ["K04"],
}


def _policies(inventory: Inventory) -> Mapping[str, NamespacePolicy]:
    return namespace_policies((ns.name, ns.labels) for ns in inventory.of_kind("Namespace"))


def policies(ctx: RuleContext) -> Mapping[str, NamespacePolicy]:
    """The Pod Security policy of every Namespace object in the scan, by name (built once per scan)."""
    return ctx.analyses.get(_policies)
