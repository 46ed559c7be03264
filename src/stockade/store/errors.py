"""The store's errors (a :class:`~stockade.errors.StockadeError`, like every error Stockade raises)."""

from __future__ import annotations

from stockade.errors import StockadeError


class StoreError(StockadeError):
    """The history store cannot be opened or used as asked: a malformed or unsupported URL, a
    missing PostgreSQL driver, a database that cannot be reached."""
