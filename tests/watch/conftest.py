"""The watch tests record into both stores, as the store tests do."""

from tests.store.conftest import postgres_admin, postgres_url, store_url

__all__ = ["postgres_admin", "postgres_url", "store_url"]
