"""Gateway keys: creation, validation, hashed storage, audit, revocation and the hot-path cache."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update

from garrison.errors import UsageError
from garrison.gateway import keys as keys_module
from garrison.gateway.keys import (
    SCOPES,
    Authenticator,
    KeyCache,
    KeyNotFound,
    KeyStore,
    key_status,
    key_to_dict,
    load_authenticator,
    parse_expiry,
)
from garrison.store import AuditLog, Store, open_store
from garrison.store.models import GatewayKey


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'garrison.db'}")
    yield opened
    opened.close()


@pytest.fixture
def keys(store: Store) -> KeyStore:
    return KeyStore(store)


@contextmanager
def _cache(store: Store, refresh_s: float = 2.0) -> Iterator[KeyCache]:
    cache = KeyCache(store, refresh_s)
    try:
        yield cache
    finally:
        cache.close()


@pytest.fixture
def cache(store: Store) -> Iterator[KeyCache]:
    with _cache(store) as opened:
        yield opened


def _dump(store: Store) -> str:
    """Every value of the key and audit tables, to search for leaked secrets."""
    with store.engine.connect() as conn:
        rows = [
            *conn.execute(text("SELECT * FROM gateway_keys")),
            *conn.execute(text("SELECT * FROM audit_records")),
        ]
    return "\n".join(str(tuple(row)) for row in rows)


def test_the_secret_is_shown_once_and_only_its_digest_is_stored(
    keys: KeyStore, store: Store
) -> None:
    secret, key = keys.create("team-a", models=["gpt-4o"], rpm=60, actor="alice")
    prefix, hex_id, random = secret.split("-", 2)
    assert prefix == "gk" and key.id == f"gk_{hex_id}" and len(random) >= 32
    assert secret not in _dump(store) and random not in _dump(store)
    with store.engine.connect() as conn:
        digest = conn.scalar(select(GatewayKey.digest).where(GatewayKey.id == key.id))
    assert digest == hashlib.sha256(secret.encode()).hexdigest()
    assert key.owner == "team-a" and key.models == ("gpt-4o",) and key.scopes == SCOPES


def test_each_act_is_audited_without_the_secret(keys: KeyStore, store: Store) -> None:
    _, key = keys.create("team-a", tpm=1000, actor="alice")
    keys.revoke(key.id, "leaked in a notebook", actor="bob")
    log = AuditLog(store)
    assert log.verify().ok
    created, revoked = log.records()
    assert (created.action, created.subject, created.actor) == (
        "gateway.key.create",
        key.id,
        "alice",
    )
    assert '"tpm":1000' in created.details and "digest" not in created.details
    assert (revoked.action, revoked.actor) == ("gateway.key.revoke", "bob")
    assert "leaked in a notebook" in revoked.details


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"owner": "  "}, "needs an owner"),
        ({"owner": "a", "scopes": ["chat", "admin"]}, "got admin"),
        ({"owner": "a", "scopes": []}, "got none"),
        ({"owner": "a", "scopes": "chat"}, "must be a list"),
        ({"owner": "a", "models": ["gpt-4o", ""]}, "non-empty names"),
        ({"owner": "a", "guard_mode": "ignore"}, "block, redact, log"),
        ({"owner": "a", "rpm": 0}, "rpm must be a positive"),
        ({"owner": "a", "tpm": -5}, "tpm must be a positive"),
        ({"owner": "a", "daily_tokens": "100"}, "daily_tokens must be"),
        ({"owner": "a", "rpm": True}, "rpm must be"),
        ({"owner": "a", "expires": datetime.now(UTC) - timedelta(minutes=1)}, "in the past"),
    ],
)
def test_invalid_keys_are_refused_with_a_message(
    keys: KeyStore, store: Store, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        keys.create(**fields)
    assert keys.list(include_revoked=True) == []
    assert AuditLog(store).records() == []


def test_list_hides_revoked_keys_unless_asked(keys: KeyStore) -> None:
    _, first = keys.create("a")
    _, second = keys.create("b", tools=[], guard_mode="redact")
    keys.revoke(first.id, "rotated")
    assert [k.id for k in keys.list()] == [second.id]
    listed = {k.id: k for k in keys.list(include_revoked=True)}
    assert key_status(listed[first.id]) == "revoked"
    assert listed[second.id].tools == () and listed[second.id].guard_mode == "redact"
    assert key_to_dict(listed[second.id])["status"] == "active"


def test_revoking_needs_a_known_active_key_and_a_reason(keys: KeyStore) -> None:
    _, key = keys.create("a")
    with pytest.raises(KeyNotFound, match="no gateway key 'gk_000000000000'"):
        keys.revoke("gk_000000000000", "x")
    with pytest.raises(UsageError, match="needs a reason"):
        keys.revoke(key.id, " ")
    revoked = keys.revoke(key.id, "done")
    assert revoked.revoked is not None and keys.get(key.id).revoked == revoked.revoked
    with pytest.raises(UsageError, match="already revoked"):
        keys.revoke(key.id, "again")


def test_parse_expiry_reads_a_day_as_valid_through_its_end() -> None:
    assert parse_expiry("2099-01-31") == datetime(2099, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert parse_expiry("2099-01-31T10:00:00+02:00").astimezone(UTC).hour == 8
    assert parse_expiry("2099-01-31T10:00:00").tzinfo is UTC
    with pytest.raises(UsageError, match="YYYY-MM-DD"):
        parse_expiry("31/01/2099")


def test_the_cache_authenticates_active_keys_only(keys: KeyStore, store: Store) -> None:
    secret, key = keys.create("a", expires=datetime.now(UTC) + timedelta(days=1))
    revoked_secret, revoked = keys.create("b")
    keys.revoke(revoked.id, "gone")
    cache = load_authenticator(store)
    try:
        authenticator: Authenticator = cache
        assert authenticator.authenticate(secret) == key
        assert authenticator.authenticate(revoked_secret) is None
        assert authenticator.authenticate(secret[:-1]) is None
        assert authenticator.authenticate("") is None
        assert authenticator.authenticate(secret + "x" * 600) is None
        assert authenticator.authenticate("gk-\udcff-surrogate") is None
    finally:
        cache.close()


def test_a_cached_key_stops_working_when_it_expires(keys: KeyStore, store: Store) -> None:
    secret, key = keys.create("a")
    soon = (datetime.now(UTC) + timedelta(seconds=0.3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with store.engine.begin() as conn:
        conn.execute(update(GatewayKey).where(GatewayKey.id == key.id).values(expires_at=soon))
    with _cache(store) as cache:
        assert cache.authenticate(secret) is not None
        time.sleep(0.4)
        assert cache.authenticate(secret) is None


def test_unknown_tokens_are_compared_too(
    keys: KeyStore, cache: KeyCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret, _ = keys.create("a")
    cache.refresh()
    compared: list[tuple[str, str]] = []

    def compare(a: str, b: str) -> bool:
        compared.append((a, b))
        return a == b

    monkeypatch.setattr(keys_module.hmac, "compare_digest", compare)
    assert cache.authenticate("gk-unknown") is None
    assert cache.authenticate(secret) is not None
    assert len(compared) == 2 and compared[0][0] != compared[0][1]


def test_a_revocation_reaches_a_running_cache_within_refresh_s(
    keys: KeyStore, tmp_path: Path
) -> None:
    secret, key = keys.create("a")
    other = open_store(f"sqlite:///{tmp_path / 'garrison.db'}")  # another process's view
    try:
        with _cache(other, refresh_s=0.2) as cache:
            assert cache.authenticate(secret) is not None  # starts the refresher
            keys.revoke(key.id, "compromised")
            revoked_at = time.monotonic()
            while cache.authenticate(secret) is not None:
                assert time.monotonic() - revoked_at < 0.2 + 1.0
                time.sleep(0.02)
    finally:
        other.close()


def test_a_store_outage_keeps_the_last_copy(
    keys: KeyStore, store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret, _ = keys.create("a")
    with _cache(store, refresh_s=0.05) as cache:
        assert cache.authenticate(secret) is not None

        def broken(self: KeyStore) -> list[Any]:
            raise OSError("database is gone")

        monkeypatch.setattr(KeyStore, "active", broken)
        time.sleep(0.2)
        assert cache.authenticate(secret) is not None
    assert "refresh failed" in caplog.text


def test_a_bad_refresh_interval_is_refused(store: Store) -> None:
    with pytest.raises(UsageError, match="must be positive"):
        KeyCache(store, refresh_s=0)
