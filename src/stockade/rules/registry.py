"""The rule registry, discovered from the package: every module under :mod:`stockade.rules`.

A rule module holds decorated check functions (each carries its :class:`Rule`) and may expose a
``RULES`` tuple of rules built from a table. Discovery imports each module once; the registry it
returns is immutable, so no scan, test or plugin can change what an id means mid-run.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping
from functools import cache
from types import MappingProxyType, ModuleType

from stockade.rules.base import Rule, rule_of

# Modules that hold machinery, not rules (importing them would only cost time).
_NOT_RULES = frozenset({"base", "registry", "docs", "analyses"})


def _rule_modules() -> Iterator[ModuleType]:
    package = importlib.import_module("stockade.rules")
    for info in pkgutil.walk_packages(package.__path__, prefix="stockade.rules."):
        leaf = info.name.rpartition(".")[2]
        if leaf.startswith("_") or leaf in _NOT_RULES:
            continue
        yield importlib.import_module(info.name)


def _rules_in(module: ModuleType) -> Iterator[Rule]:
    for value in vars(module).values():
        found = rule_of(value)
        if found is not None and getattr(value, "__module__", None) == module.__name__:
            yield found
    table = getattr(module, "RULES", ())
    for item in table:
        if not isinstance(item, Rule):
            raise TypeError(f"{module.__name__}.RULES holds {type(item).__name__}, not Rule")
        yield item


@cache
def load_rules() -> Mapping[str, Rule]:
    """Every rule of the package, by id, in id order. Raises when an id or a name is used twice."""
    by_id: dict[str, Rule] = {}
    names: dict[str, str] = {}
    for module in _rule_modules():
        for found in _rules_in(module):
            if found.id in by_id:
                if by_id[found.id] is found:
                    continue
                raise ValueError(f"rule id {found.id} is defined twice ({module.__name__})")
            if found.name in names:
                raise ValueError(f"rule name {found.name} is used by {names[found.name]} and {found.id}")
            by_id[found.id] = found
            names[found.name] = found.id
    return MappingProxyType(dict(sorted(by_id.items(), key=lambda item: _id_key(item[0]))))


def _id_key(rule_id: str) -> tuple[str, int]:
    family, _, number = rule_id.partition("-")
    return family, int(number)


def rule_aliases(rules: Mapping[str, Rule]) -> dict[str, str]:
    """Every id and name → rule id."""
    aliases: dict[str, str] = {}
    for found in rules.values():
        aliases[found.id] = found.id
        aliases[found.name] = found.id
    return aliases
