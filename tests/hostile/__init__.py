"""Hostile inputs (issue #10): each case reproduces an attack and a variant of it."""
