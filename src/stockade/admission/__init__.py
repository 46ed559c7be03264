"""Admission control: Stockade's rules at the API server's door (``stockade admission``).

The webhook is a thin client of the library: the decision for an object comes from the same
rules, exceptions and Pod Security evaluator as ``stockade scan`` and ``stockade watch``.
"""
