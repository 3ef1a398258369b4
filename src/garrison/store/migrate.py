"""Run the packaged Alembic migrations programmatically; users need no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(conn: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def upgrade_to_head(conn: Connection) -> None:
    """Upgrade inside the caller's transaction; cheap when already at head."""
    config = alembic_config(conn)
    head = ScriptDirectory.from_config(config).get_current_head()
    current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        command.upgrade(config, "head")
