"""Open the store: resolve its URL, create the engine, migrate the schema to head."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from garrison.errors import GarrisonError

if TYPE_CHECKING:
    from garrison.policy import Policy

ENV_URL = "GARRISON_DB_URL"
# Constant keys of pg_advisory_xact_lock; any fixed int64 works as long as it is shared.
AUDIT_LOCK = 0x6761727269736F6E  # "garrison"
MIGRATION_LOCK = AUDIT_LOCK + 1
_BUSY_TIMEOUT_S = 60


class StoreError(GarrisonError):
    """The store cannot be opened or used (bad URL, unreachable server, missing file)."""


@dataclass(frozen=True, slots=True)
class Store:
    engine: Engine
    url: URL

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        return self.url.render_as_string(hide_password=True)

    @contextmanager
    def locked_transaction(self, lock: int = AUDIT_LOCK) -> Iterator[Connection]:
        """A write transaction that excludes every other writer holding the same lock.

        SQLite takes its single write lock at BEGIN IMMEDIATE; PostgreSQL takes an advisory
        lock that is released at commit. Either way a read-then-insert inside is atomic.
        """
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock})
                yield conn

    def close(self) -> None:
        self.engine.dispose()


URL_FORMS = "use sqlite:////abs/path/garrison.db or postgresql://user@host:5432/db"


def database_url(policy: Policy | None = None) -> str:
    """$GARRISON_DB_URL, else the policy's store URL, else a SQLite file in the user data dir."""
    env = os.environ.get(ENV_URL, "").strip()
    if env:
        return env
    configured = policy.store_url if policy is not None else None
    if isinstance(configured, str) and configured:
        return configured
    import platformdirs

    data_dir = Path(platformdirs.user_data_dir("garrison"))
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data_dir / 'garrison.db'}"


def open_store(url: str, *, create: bool = True) -> Store:
    """Connect and migrate to head. With create=False a missing SQLite file is an error."""
    parsed = _checked_url(url, create)
    try:
        engine = _create_engine(parsed)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StoreError(f"unsupported store URL {_safe(parsed)}: {exc}") from None
    store = Store(engine, parsed)
    try:
        _migrate(store)
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StoreError(f"cannot open the store at {store.display_url}: {reason}") from None
    return store


def check_url(url: str) -> None:
    """What open_store checks before connecting, for commands that open it after long work."""
    _checked_url(url, create=True)


def _checked_url(url: str, create: bool) -> URL:
    parsed = _parse_url(url)
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(f"unsupported store URL {_safe(parsed)}: {URL_FORMS}")
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_path(parsed, create)
    return parsed


def _parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise StoreError(f"not a database URL: {url!r}; {URL_FORMS}") from None


def _safe(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _check_sqlite_path(url: URL, create: bool) -> None:
    database = url.database or ""
    if database in ("", ":memory:"):
        raise StoreError("an in-memory SQLite store cannot be shared; give a file path")
    path = Path(database)
    if not create and not path.is_file():
        raise StoreError(f"no store at {path}")
    if not path.parent.is_dir():
        raise StoreError(f"directory does not exist: {path.parent}")


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": _BUSY_TIMEOUT_S})
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from pysqlite so BEGIN IMMEDIATE can be issued.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_S * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _on_sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _migrate(store: Store) -> None:
    from garrison.store.migrate import upgrade_to_head

    # Under the lock, concurrent first opens migrate once and the rest find the schema at head.
    with store.locked_transaction(MIGRATION_LOCK) as conn:
        upgrade_to_head(conn)
