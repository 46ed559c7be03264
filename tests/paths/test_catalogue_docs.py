"""docs/paths.md carries the attack catalogue exactly as the code defines it."""

from __future__ import annotations

from pathlib import Path

from stockade.paths.catalogue import ATTACKS, Attack, catalogue_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "paths.md"


def test_the_documented_table_is_the_catalogue() -> None:
    assert catalogue_markdown() in DOC.read_text()


def test_every_attack_step_has_its_entry_and_a_likelihood_in_range() -> None:
    assert set(ATTACKS) == set(Attack)
    assert all(0 < info.likelihood <= 1 for info in ATTACKS.values())
