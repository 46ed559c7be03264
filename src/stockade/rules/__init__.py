"""Rule families. Importing :func:`load_rules` registers every family module once."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from stockade.rules.base import Rule, registered_rules

FAMILY_MODULES = (
    "stockade.rules.workloads",
    "stockade.rules.workload_hardening",
    "stockade.rules.images",
    "stockade.rules.identity",
    "stockade.rules.secrets",
    "stockade.rules.network",
    "stockade.rules.pss",
    "stockade.rules.rbac",
)


def load_rules() -> Mapping[str, Rule]:
    for module in FAMILY_MODULES:
        importlib.import_module(module)
    return registered_rules()


def rule_aliases(rules: Mapping[str, Rule]) -> dict[str, str]:
    """Every id and name (any case the user may type) → rule id."""
    aliases: dict[str, str] = {}
    for rule in rules.values():
        aliases[rule.id] = rule.id
        aliases[rule.name] = rule.id
    return aliases
