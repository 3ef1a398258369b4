"""Append, checkpoint and verify; every kind of tampering is reported at the right record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from garrison.errors import UsageError
from garrison.store import (
    AuditLog,
    ProblemKind,
    Store,
    VerifyResult,
    generate_signing_key,
    open_store,
)
from garrison.store.audit import record_hash

COLUMNS = ("ts", "actor", "action", "subject", "details", "prev_hash", "hash")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture
def log(store: Store) -> AuditLog:
    audit = AuditLog(store)
    for i in range(1, 11):
        audit.append("scan", f"model-{i}.pt", {"verdict": "clean", "n": i}, actor="ci")
    return audit


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return generate_signing_key()


def sql(store: Store, statement: str, **params: Any) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(statement), params)


def row(store: Store, seq: int) -> dict[str, Any]:
    with store.engine.connect() as conn:
        found = conn.execute(text("SELECT * FROM audit_records WHERE seq = :s"), {"s": seq})
        return dict(found.one()._mapping)


def assert_problem(result: VerifyResult, kind: ProblemKind, seq: int) -> None:
    assert result.problem is not None, "tampering was not detected"
    assert (result.problem.kind, result.problem.seq) == (kind, seq), result.problem.message
    assert str(seq) in result.problem.message


def test_append_builds_a_verifiable_chain(log: AuditLog, key: Ed25519PrivateKey) -> None:
    record = log.append("approve", "model.pt", {"by": "alice"}, actor="alice")
    assert record.seq == 11
    assert record.prev_hash == log.records(limit=2)[0].hash
    assert record.hash == record_hash(row(log.store, 11))
    log.checkpoint(key)
    result = log.verify(key.public_key())
    assert result.ok
    assert (result.records, result.checkpoints, result.head_seq) == (11, 1, 11)
    assert result.head_hash == record.hash


def test_empty_log_verifies_and_cannot_be_checkpointed(
    store: Store, key: Ed25519PrivateKey
) -> None:
    log = AuditLog(store)
    assert log.verify().ok
    with pytest.raises(UsageError, match="empty"):
        log.checkpoint(key)


def test_records_filters_by_action_and_limit(log: AuditLog) -> None:
    log.append("sign", "model-3.pt")
    assert [r.seq for r in log.records(limit=3)] == [9, 10, 11]
    assert [r.seq for r in log.records(action="sign")] == [11]


def test_details_must_be_json(log: AuditLog) -> None:
    with pytest.raises(UsageError, match="JSON"):
        log.append("scan", "x", {"bad": object()})


def test_edited_field_is_detected(log: AuditLog) -> None:
    sql(log.store, "UPDATE audit_records SET details = :d WHERE seq = 4", d='{"verdict":"ok"}')
    assert_problem(log.verify(), ProblemKind.EDITED, 4)


def test_deleted_middle_record_is_detected(log: AuditLog) -> None:
    sql(log.store, "DELETE FROM audit_records WHERE seq = 5")
    assert_problem(log.verify(), ProblemKind.GAP, 5)


def test_swapped_records_are_detected(log: AuditLog) -> None:
    three, six = row(log.store, 3), row(log.store, 6)
    assignments = ", ".join(f"{c} = :{c}" for c in COLUMNS)
    for seq, content in ((3, six), (6, three)):
        values = {c: content[c] for c in COLUMNS}
        sql(log.store, f"UPDATE audit_records SET {assignments} WHERE seq = {seq}", **values)
    assert_problem(log.verify(), ProblemKind.EDITED, 3)


def test_forged_record_with_valid_hash_but_wrong_link_is_detected(log: AuditLog) -> None:
    # An attacker who cannot rewrite the whole chain appends a self-consistent record.
    forged = {**row(log.store, 10), "seq": 11, "prev_hash": "f" * 64, "subject": "evil.pt"}
    forged["hash"] = record_hash(forged)
    columns = ("seq", *COLUMNS)
    sql(
        log.store,
        f"INSERT INTO audit_records ({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + c for c in columns)})",
        **{c: forged[c] for c in columns},
    )
    assert_problem(log.verify(), ProblemKind.BROKEN_LINK, 11)


def test_rewritten_history_is_caught_by_a_checkpoint(log: AuditLog, key: Ed25519PrivateKey) -> None:
    log.checkpoint(key)
    # Without the key, the attacker rehashes every record after an edit: the chain is
    # consistent again, but no longer ends in the signed head.
    prev = row(log.store, 1)["hash"]
    for seq in range(2, 11):
        record = row(log.store, seq)
        record["prev_hash"] = prev
        if seq == 2:
            record["subject"] = "malware.pt"
        record["hash"] = prev = record_hash(record)
        sql(
            log.store,
            "UPDATE audit_records SET subject = :subject, prev_hash = :prev_hash, hash = :hash "
            "WHERE seq = :seq",
            **{k: record[k] for k in ("subject", "prev_hash", "hash", "seq")},
        )
    assert_problem(log.verify(), ProblemKind.CHECKPOINT_MISMATCH, 10)


def test_truncation_after_a_checkpoint_is_detected(log: AuditLog, key: Ed25519PrivateKey) -> None:
    log.checkpoint(key)
    sql(log.store, "DELETE FROM audit_records WHERE seq > 7")
    assert_problem(log.verify(), ProblemKind.TRUNCATED, 10)


def test_truncation_of_records_after_the_checkpoint_is_not_detectable(
    log: AuditLog, key: Ed25519PrivateKey
) -> None:
    # The documented limit: records newer than the last checkpoint can be dropped silently.
    log.checkpoint(key)
    log.append("scan", "late.pt")
    sql(log.store, "DELETE FROM audit_records WHERE seq = 11")
    assert log.verify().ok


def test_corrupted_checkpoint_signature_is_detected(log: AuditLog, key: Ed25519PrivateKey) -> None:
    log.checkpoint(key)
    sql(log.store, "UPDATE audit_checkpoints SET signature = :s", s="A" * 88)
    assert_problem(log.verify(), ProblemKind.BAD_SIGNATURE, 10)


def test_checkpoint_moved_to_another_head_is_detected(
    log: AuditLog, key: Ed25519PrivateKey
) -> None:
    log.checkpoint(key)
    sql(log.store, "UPDATE audit_checkpoints SET record_seq = 9, head_hash = :h", h="0" * 64)
    assert_problem(log.verify(), ProblemKind.BAD_SIGNATURE, 9)


def test_checkpoint_by_another_key_is_rejected(log: AuditLog, key: Ed25519PrivateKey) -> None:
    # An attacker can sign with their own key; only a pinned public key catches that.
    log.checkpoint(key)
    assert log.verify().ok
    assert_problem(log.verify(generate_signing_key().public_key()), ProblemKind.WRONG_KEY, 10)
