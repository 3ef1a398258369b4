"""Gateway keys on real SQLite and PostgreSQL stores: audit chain, concurrent creators,
and a revocation reaching another process's cache."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from garrison.gateway.keys import KeyCache, KeyStore
from garrison.store import AuditLog, Store, open_store


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def test_create_list_revoke_keep_the_audit_chain_valid(store: Store) -> None:
    keys = KeyStore(store)
    secret, key = keys.create("team-a", models=["gpt-4o"], scopes=["chat"], rpm=10, actor="alice")
    _, other = keys.create("team-b", tools=[], daily_tokens=10**9)
    keys.revoke(key.id, "rotated", actor="bob")
    assert [k.id for k in keys.list()] == [other.id]
    assert {k.id for k in keys.list(include_revoked=True)} == {key.id, other.id}
    assert keys.get(other.id).tools == () and keys.get(other.id).daily_tokens == 10**9
    log = AuditLog(store)
    assert log.verify().ok
    assert [r.action for r in log.records()] == [
        "gateway.key.create",
        "gateway.key.create",
        "gateway.key.revoke",
    ]
    assert all(secret not in r.details for r in log.records())


def test_concurrent_creators_get_distinct_keys_and_one_chain(store_url: str) -> None:
    stores = [open_store(store_url) for _ in range(4)]
    ids: list[str] = []

    def create(store: Store) -> None:
        for _ in range(5):
            ids.append(KeyStore(store).create("team")[1].id)

    threads = [threading.Thread(target=create, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert len(set(ids)) == 20
        result = AuditLog(stores[0]).verify()
        assert result.ok and result.records == 20
    finally:
        for s in stores:
            s.close()


def test_a_revocation_in_one_process_reaches_another_within_refresh_s(
    store: Store, store_url: str
) -> None:
    secret, key = KeyStore(store).create("team-a")
    gateway_store = open_store(store_url)
    cache = KeyCache(gateway_store, refresh_s=0.25)
    try:
        assert cache.authenticate(secret) == key
        KeyStore(store).revoke(key.id, "compromised")
        revoked_at = time.monotonic()
        while cache.authenticate(secret) is not None:
            assert time.monotonic() - revoked_at < 0.25 + 1.0
            time.sleep(0.02)
    finally:
        cache.close()
        gateway_store.close()
