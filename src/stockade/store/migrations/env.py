"""Alembic's entry point: always run on the connection :mod:`stockade.store.migrate` hands over."""

from __future__ import annotations

from alembic import context

from stockade.store.schema import metadata

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
