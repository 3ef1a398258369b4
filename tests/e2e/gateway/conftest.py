"""Store URLs of both backends (SQLite file, PostgreSQL schema), shared with integration."""

from tests.integration.conftest import pg_schema_url, store_url

__all__ = ["pg_schema_url", "store_url"]
