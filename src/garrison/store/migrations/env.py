"""Alembic environment: always online, on the connection garrison.store hands in."""

from __future__ import annotations

from alembic import context

from garrison.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("garrison migrations run through garrison.store.open_store")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
