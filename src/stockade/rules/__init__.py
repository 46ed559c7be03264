"""Rules: one module per rule under its family folder; :func:`load_rules` discovers them all."""

from __future__ import annotations

from stockade.rules.registry import load_rules, rule_aliases

__all__ = ["load_rules", "rule_aliases"]
