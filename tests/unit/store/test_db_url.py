from __future__ import annotations

from pathlib import Path

import pytest

from garrison.store import StoreError, database_url, open_store


def test_env_var_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GARRISON_DB_URL", "postgresql+psycopg://u@db/garrison")
    assert database_url(None) == "postgresql+psycopg://u@db/garrison"


def test_default_is_sqlite_in_user_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("GARRISON_DB_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    url = database_url(None)
    assert url == f"sqlite:///{tmp_path / 'data' / 'garrison' / 'garrison.db'}"
    assert (tmp_path / "data" / "garrison").is_dir()


def test_open_store_enables_wal_and_foreign_keys(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 60000
    finally:
        store.close()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "garbage"])
def test_unusable_urls_raise_store_error(url: str) -> None:
    with pytest.raises(StoreError):
        open_store(url)
