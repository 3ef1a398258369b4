from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from garrison.store import open_store
from garrison.store.models import Base


def test_migrated_schema_matches_the_models(store_url: str) -> None:
    store = open_store(store_url)
    try:
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        store.close()
    assert diff == []


def test_reopening_a_migrated_store_keeps_its_data(store_url: str) -> None:
    from garrison.store import AuditLog

    first = open_store(store_url)
    AuditLog(first).append("scan", "model.pt")
    first.close()
    second = open_store(store_url)
    try:
        assert {"audit_records", "audit_checkpoints", "alembic_version"} <= set(
            inspect(second.engine).get_table_names()
        )
        assert AuditLog(second).verify().records == 1
    finally:
        second.close()
