"""The audit recorder: what it stores, that it never loses a record, and how it fails."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.exc import OperationalError

from garrison.errors import UsageError
from garrison.gateway.record import ALLOW, BLOCK, ERROR, REDACT, GuardVerdict, RequestRecord
from garrison.gateway.recorder import ACTION_BLOCK, ACTION_REQUEST, Recorder, text_digest
from garrison.store import AuditLog, Store, open_store
from garrison.store.db import AUDIT_LOCK
from garrison.store.models import GatewayRequest

PROMPT = "Summarise the quarterly report"
COMPLETION = "Revenue grew 4%."


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'garrison.db'}")
    yield opened
    opened.close()


def record(request_id: str, decision: str = ALLOW, **overrides: Any) -> RequestRecord:
    values: dict[str, Any] = {
        "request_id": request_id,
        "ts": "2026-11-27T10:00:00.000000Z",
        "route": "chat",
        "status": 200 if decision in (ALLOW, REDACT) else 403,
        "decision": decision,
        "key_id": "gk_3f9a1c2e",
        "owner": "team-search",
        "model": "gpt-4o-mini",
        "prompt_tokens": 12,
        "completion_tokens": 5,
        "latency_ms": 41.5,
        "upstream_ms": 39.25,
        "guards": (GuardVerdict("injection", "input", "pass", 0.02),),
        "prompt_text": PROMPT,
        "completion_text": COMPLETION,
    }
    values.update(overrides)
    return RequestRecord(**values)


def rows(store: Store) -> list[dict[str, Any]]:
    query = select(*GatewayRequest.__table__.columns).order_by(GatewayRequest.id)
    with store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class FlakyStore(Store):
    """Fails its first `failures[0]` transactions, before or after they commit."""

    failures: list[int] = field(default_factory=lambda: [1])
    after_commit: bool = False

    @contextmanager
    def locked_transaction(self, lock: int = AUDIT_LOCK) -> Iterator[Connection]:
        failing = self.failures[0] > 0
        if failing:
            self.failures[0] -= 1
            if not self.after_commit:
                raise OperationalError("BEGIN", {}, Exception("connection refused"))
        with Store.locked_transaction(self, lock) as conn:
            yield conn
        if failing:  # committed, but the caller never hears so
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))


def test_prompt_and_completion_are_stored_as_hashes_by_default(store: Store) -> None:
    with Recorder(store) as recorder:
        recorder.submit(record("req-1"))
    (row,) = rows(store)
    assert row["prompt"] == sha256(PROMPT) == text_digest(PROMPT)
    assert row["completion"] == sha256(COMPLETION)
    assert json.loads(row["guards"]) == [
        {"name": "injection", "stage": "input", "verdict": "pass", "score": 0.02}
    ]
    assert (row["key_id"], row["owner"], row["model"]) == (
        "gk_3f9a1c2e",
        "team-search",
        "gpt-4o-mini",
    )
    assert (row["prompt_tokens"], row["completion_tokens"], row["latency_ms"]) == (12, 5, 41.5)
    (audit,) = AuditLog(store).records()
    assert PROMPT not in audit.details and COMPLETION not in audit.details


def test_store_text_keeps_the_text_but_the_audit_log_only_hashes(store: Store) -> None:
    with Recorder(store, store_text=True) as recorder:
        recorder.submit(record("req-1"))
        recorder.submit(record("req-2", prompt_text="", completion_text=""))
    first, empty = rows(store)
    assert (first["prompt"], first["completion"]) == (PROMPT, COMPLETION)
    assert (empty["prompt"], empty["completion"]) == ("", "")
    details = json.loads(AuditLog(store).records()[0].details)
    assert (details["prompt"], details["completion"]) == (sha256(PROMPT), sha256(COMPLETION))


def test_each_request_gets_one_linked_audit_record_named_for_its_decision(store: Store) -> None:
    decisions = {"a": ALLOW, "r": REDACT, "b": BLOCK, "e": ERROR}
    with Recorder(store) as recorder:
        for request_id, decision in decisions.items():
            recorder.submit(record(request_id, decision, reason="" if decision == ALLOW else "x"))
    log = AuditLog(store)
    by_seq = {r.seq: r for r in log.records()}
    actions = {row["request_id"]: by_seq[row["audit_seq"]].action for row in rows(store)}
    assert actions == {
        "a": ACTION_REQUEST,
        "r": ACTION_REQUEST,
        "b": ACTION_BLOCK,
        "e": ACTION_BLOCK,
    }
    for row in rows(store):
        audit = by_seq[row["audit_seq"]]
        details = json.loads(audit.details)
        assert audit.subject == row["request_id"] and audit.actor == "team-search"
        assert details["decision"] == row["decision"] and details["reason"] == row["reason"]
        assert details["model"] == "gpt-4o-mini" and details["prompt_tokens"] == 12
    assert log.verify().ok


def test_two_hundred_concurrent_tasks_lose_nothing(store: Store) -> None:
    async def main() -> None:
        async with Recorder(store, batch=32, flush_interval_s=0.01) as recorder:

            async def request(i: int) -> None:
                await asyncio.sleep(0)
                recorder.submit(record(f"req-{i}", BLOCK if i % 7 == 0 else ALLOW))

            await asyncio.gather(*(request(i) for i in range(200)))

    asyncio.run(main())
    assert sorted(r["request_id"] for r in rows(store)) == sorted(f"req-{i}" for i in range(200))
    result = AuditLog(store).verify()
    assert result.ok and result.records == 200


def test_a_failed_write_is_retried_without_losing_records(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = FlakyStore(store.engine, store.url, failures=[2])
    with caplog.at_level(logging.ERROR), Recorder(flaky, batch=8) as recorder:
        for i in range(20):
            recorder.submit(record(f"req-{i}"))
    assert len(rows(store)) == 20 and recorder.written == 20
    assert AuditLog(store).verify().records == 20
    assert "audit write failed" in caplog.text and "connection refused" in caplog.text


def test_a_retry_after_a_lost_commit_acknowledgement_writes_nothing_twice(store: Store) -> None:
    flaky = FlakyStore(store.engine, store.url, after_commit=True)
    with Recorder(flaky) as recorder:
        for i in range(5):
            recorder.submit(record(f"req-{i}"))
    assert len(rows(store)) == 5
    assert AuditLog(store).verify().records == 5


def test_a_reused_request_id_is_kept_under_a_new_id(store: Store) -> None:
    with Recorder(store) as recorder:
        recorder.submit(record("same"))
        recorder.submit(record("same", BLOCK))
    first, second = rows(store)
    assert first["request_id"] == "same" and second["request_id"].startswith("same#")
    details = json.loads(AuditLog(store).records()[1].details)
    assert details["duplicate_of"] == "same"


def test_text_no_database_accepts_is_stored_cleaned(store: Store) -> None:
    hostile = "ignore\x00previous \ud800instructions"
    with Recorder(store, store_text=True) as recorder:
        recorder.submit(record("req-1", prompt_text=hostile, model="m\x00\udfff"))
    (row,) = rows(store)
    assert row["prompt"] == "ignore\ufffdprevious ?instructions"
    assert row["model"] == "m\ufffd?"
    assert json.loads(AuditLog(store).records()[0].details)["prompt"] == sha256(row["prompt"])


def test_close_gives_up_after_its_timeout_and_says_how_many_were_not_written(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    down = FlakyStore(store.engine, store.url, failures=[10**6])
    recorder = Recorder(down)
    recorder.open()
    for i in range(3):
        recorder.submit(record(f"req-{i}"))
    with caplog.at_level(logging.ERROR):
        assert recorder.close(timeout=0.3) == 3
    assert "records unwritten count=3" in caplog.text
    assert recorder.pending == 3 and rows(store) == []
    with pytest.raises(UsageError, match="closed"):
        recorder.submit(record("late"))


def test_close_without_start_writes_in_the_caller(store: Store) -> None:
    recorder = Recorder(store)
    recorder.submit(record("req-1"))
    assert recorder.close() == 0
    assert [r["request_id"] for r in rows(store)] == ["req-1"]


def test_a_full_backlog_makes_submit_wait_instead_of_dropping(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = FlakyStore(store.engine, store.url, failures=[2])
    with caplog.at_level(logging.WARNING), Recorder(flaky, batch=4, max_pending=4) as recorder:
        for i in range(12):  # the writer is backing off: the queue fills and submit waits
            recorder.submit(record(f"req-{i}"))
    assert "audit backlog full" in caplog.text
    assert [r["request_id"] for r in rows(store)] == [f"req-{i}" for i in range(12)]


def test_submit_beyond_the_bound_without_a_writer_queues_rather_than_hangs(store: Store) -> None:
    recorder = Recorder(store, batch=4, max_pending=4)
    for i in range(10):
        recorder.submit(record(f"req-{i}"))
    assert recorder.pending == 10
    assert recorder.close() == 0 and len(rows(store)) == 10


def test_batch_size_is_bounded(store: Store) -> None:
    with pytest.raises(UsageError, match="batch size"):
        Recorder(store, batch=0)
