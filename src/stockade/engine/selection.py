"""Choosing which rules run: by id, name, family, area, framework and minimum severity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from stockade.errors import SelectionError
from stockade.model.finding import Severity
from stockade.rules.base import AREAS, FAMILIES, Rule


@dataclass(frozen=True, slots=True)
class Selection:
    include: tuple[str, ...] = ()  # ids, names, families (WL) or areas (container-privileges)
    exclude: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()  # framework ids: rules mapped to any of them
    min_severity: Severity | None = None


def _matcher(token: str, rules: Mapping[str, Rule]) -> set[str]:
    """Rule ids a token names; raises SelectionError for a token that names nothing."""
    wanted = token.strip()
    if wanted.lower() == "all":
        return set(rules)
    if wanted in rules:
        return {wanted}
    upper = wanted.upper()
    if upper in rules:
        return {upper}
    by_name = {r.name: r.id for r in rules.values()}
    if wanted.lower() in by_name:
        return {by_name[wanted.lower()]}
    if upper in FAMILIES:
        return {r.id for r in rules.values() if r.family == upper}
    if wanted.lower() in AREAS:
        return {r.id for r in rules.values() if r.area == wanted.lower()}
    raise SelectionError(f"{token!r} is not a rule id, rule name, family, area or 'all' (see `stockade rules list`)")


def select_rules(rules: Mapping[str, Rule], selection: Selection, known_frameworks: Sequence[str]) -> list[Rule]:
    """The rules to run. Without --rules or --framework, the rules that run by default; naming a
    rule, family, area or framework (or `all`) also brings in the opt-in rules it covers."""
    explicit = bool(selection.include or selection.frameworks)
    chosen = set(rules) if explicit else {rid for rid, rule in rules.items() if rule.default and not rule.deprecated}
    if selection.include:
        chosen = set().union(*(_matcher(t, rules) for t in selection.include))
    for token in selection.exclude:
        chosen -= _matcher(token, rules)
    if selection.frameworks:
        unknown = [f for f in selection.frameworks if f not in known_frameworks]
        if unknown:
            raise SelectionError(
                f"unknown framework {unknown[0]!r} (choose from {', '.join(sorted(known_frameworks))})"
            )
        chosen = {rid for rid in chosen if any(f in rules[rid].frameworks for f in selection.frameworks)}
    if selection.min_severity is not None:
        floor = selection.min_severity.rank
        chosen = {rid for rid in chosen if rules[rid].severity.rank >= floor}
    if not chosen:
        raise SelectionError("the rule selection matches no rule: nothing would be checked")
    return [rules[rid] for rid in sorted(chosen)]
