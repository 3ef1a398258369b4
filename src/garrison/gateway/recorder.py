"""Record every gateway decision in the store and the audit chain, in batches, off the event loop.

`submit` only appends to an in-memory queue; one writer thread drains it and writes each batch
(rows of `gateway_requests` plus one audit record per request) in a single locked transaction,
so several gateway processes sharing one store still build one linear chain.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, insert, select

from garrison.errors import UsageError
from garrison.gateway.record import ALLOW, REDACT, RequestRecord
from garrison.store.audit import AuditEntry, append_many_in
from garrison.store.db import Store
from garrison.store.models import GatewayRequest

logger = logging.getLogger(__name__)

ACTION_REQUEST = "gateway.request"  # allowed (or redacted) requests
ACTION_BLOCK = "gateway.block"  # blocked requests and errors
MAX_BATCH = 10_000  # one IN (...) list per batch must stay under SQLite's variable limit
_BACKOFF_FIRST_S = 0.1
_BACKOFF_MAX_S = 5.0
_JOIN_GRACE_S = 5.0  # a transaction already running when the close deadline passes
_ROOM_POLL_S = 0.005


@dataclass(slots=True)
class _Prepared:
    row: dict[str, Any]
    details: dict[str, Any]
    action: str
    actor: str


class Recorder:
    """Batched, never-dropping writer of RequestRecords.

    With `store_text` False the prompt and completion are kept as "sha256:<hex>"; the audit
    record always carries the hashes, never the text. Submitting never blocks unless
    `max_pending` records are already waiting (the store has been down a while): then the
    caller waits for room rather than a record being dropped.
    """

    def __init__(
        self,
        store: Store,
        *,
        store_text: bool = False,
        batch: int = 256,
        flush_interval_s: float = 0.2,
        max_pending: int = 50_000,
        close_timeout_s: float = 10.0,
    ) -> None:
        if not 1 <= batch <= MAX_BATCH:
            raise UsageError(f"audit batch size must be between 1 and {MAX_BATCH}, not {batch}")
        self._store = store
        self._store_text = store_text
        self._batch = batch
        self._flush_interval_s = flush_interval_s
        self._max_pending = max(max_pending, batch)
        self._close_timeout_s = close_timeout_s
        self._queue: deque[RequestRecord] = deque()
        self._held: list[RequestRecord] = []  # the batch being written, kept across failures
        self._in_flight = 0
        self._attempts = 0
        self._written = 0
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._deadline = math.inf
        self._closed = False
        self._waiting_for_room = False
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        """Records submitted but not yet committed."""
        return len(self._queue) + self._in_flight

    @property
    def written(self) -> int:
        return self._written

    def submit(self, record: RequestRecord) -> None:
        if self._closed:
            raise UsageError("the audit recorder is closed: start a new one to record requests")
        if len(self._queue) >= self._max_pending:
            self._wait_for_room()
        self._queue.append(record)
        if len(self._queue) >= self._batch:
            self._wake.set()

    def open(self) -> None:
        """Start the writer thread (the synchronous form of `start`)."""
        if self._closed:
            raise UsageError("the audit recorder is closed: start a new one to record requests")
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="garrison-audit-recorder", daemon=True
            )
            self._thread.start()

    async def start(self) -> None:
        self.open()

    def close(self, timeout: float | None = None) -> int:
        """Write everything pending, giving up after `timeout` seconds of failing writes;
        return how many records could not be written (0 when all were)."""
        limit = self._close_timeout_s if timeout is None else timeout
        if not self._closed:
            self._closed = True
            self._deadline = time.monotonic() + limit
            self._stopping.set()
            self._wake.set()
            if self._thread is None:
                self._run()  # never started: write in the caller
        if self._thread is not None:
            self._thread.join(max(self._deadline - time.monotonic(), 0.0) + _JOIN_GRACE_S)
        left = self.pending
        if left:
            logger.error("audit recorder closed with records unwritten count=%d", left)
        return left

    async def aclose(self, timeout: float | None = None) -> int:
        return await asyncio.to_thread(self.close, timeout)

    def __enter__(self) -> Recorder:
        self.open()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Recorder:
        await self.start()
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _wait_for_room(self) -> None:
        writer = self._thread
        if writer is None or not writer.is_alive():
            return  # nothing would make room: queue beyond the bound rather than hang or drop
        if not self._waiting_for_room:
            self._waiting_for_room = True
            logger.warning(
                "audit backlog full, submit waits for the writer pending=%d", self.pending
            )
        self._wake.set()
        while len(self._queue) >= self._max_pending and writer.is_alive():
            time.sleep(_ROOM_POLL_S)
        self._waiting_for_room = False

    def _run(self) -> None:
        while True:
            self._wake.wait(self._flush_interval_s)
            self._wake.clear()
            self._drain()
            if self._stopping.is_set() and (not self.pending or self._past_deadline()):
                return

    def _past_deadline(self) -> bool:
        return self._stopping.is_set() and time.monotonic() >= self._deadline

    def _drain(self) -> None:
        while not self._past_deadline() and (self._held or self._take()):
            if not self._write_held():
                return

    def _take(self) -> bool:
        count = min(len(self._queue), self._batch)
        if count == 0:
            return False
        self._in_flight = count  # counted before popping, so `pending` never under-reports
        self._held = [self._queue.popleft() for _ in range(count)]
        self._attempts = 0
        return True

    def _write_held(self) -> bool:
        """Write the held batch, retrying with backoff; False once the close deadline passed."""
        delay = _BACKOFF_FIRST_S
        while True:
            try:
                self._write(self._held, retry=self._attempts > 0)
            except Exception as exc:  # any failure: the records stay held and are retried
                self._attempts += 1
                logger.error(
                    "audit write failed, records kept for retry records=%d attempt=%d error=%s",
                    self.pending,
                    self._attempts,
                    _one_line(exc),
                )
                logger.debug("audit write failure", exc_info=True)
                if not self._pause(delay):
                    return False
                delay = min(delay * 2, _BACKOFF_MAX_S)
                continue
            if self._attempts:
                logger.warning("audit writes resumed attempts=%d", self._attempts)
            self._written += len(self._held)
            self._held = []
            self._in_flight = 0
            return True

    def _pause(self, delay: float) -> bool:
        if not self._stopping.is_set():
            self._stopping.wait(delay)  # a close cuts the wait short: its deadline governs now
            return True
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(delay, remaining))
        return True

    def _write(self, records: list[RequestRecord], *, retry: bool) -> None:
        prepared = [_prepare(record, store_text=self._store_text) for record in records]
        with self._store.locked_transaction() as conn:
            prepared = _unique(conn, prepared, retry=retry)
            if not prepared:
                return
            entries = [
                AuditEntry(p.action, p.row["request_id"], p.details, p.actor) for p in prepared
            ]
            audit = append_many_in(conn, entries)
            rows = [{**p.row, "audit_seq": a.seq} for p, a in zip(prepared, audit, strict=True)]
            conn.execute(insert(GatewayRequest), rows)


def _prepare(record: RequestRecord, *, store_text: bool = False) -> _Prepared:
    """The row (without audit_seq) and the audit details of one record."""
    prompt, prompt_hash = _text_and_digest(record.prompt_text)
    completion, completion_hash = _text_and_digest(record.completion_text)
    guards = [
        {
            "name": _clean(g.name),
            "stage": _clean(g.stage),
            "verdict": _clean(g.verdict),
            "score": _finite(g.score),
        }
        for g in record.guards
    ]
    fields: dict[str, Any] = {
        "ts": _clean(record.ts)[:32],
        "route": _clean(record.route)[:32],
        "status": int(record.status),
        "decision": _clean(record.decision)[:16],
        "reason": _clean(record.reason),
        "key_id": _clip(record.key_id, 100),
        "owner": _clip(record.owner, None),
        "model": _clip(record.model, None),
        "prompt_tokens": int(record.prompt_tokens),
        "completion_tokens": int(record.completion_tokens),
        "latency_ms": _finite(record.latency_ms),
        "upstream_ms": None if record.upstream_ms is None else _finite(record.upstream_ms),
    }
    row = {
        "request_id": _clean(record.request_id)[:128],
        **fields,
        "guards": json.dumps(guards, separators=(",", ":")),
        "prompt": prompt if store_text else prompt_hash,
        "completion": completion if store_text else completion_hash,
    }
    details = {**fields, "guards": guards, "prompt": prompt_hash, "completion": completion_hash}
    action = ACTION_REQUEST if record.decision in (ALLOW, REDACT) else ACTION_BLOCK
    actor = (fields["owner"] or fields["key_id"] or "anonymous")[:200]
    return _Prepared(row, details, action, actor)


def text_digest(text: str) -> str:
    """ "sha256:<hex>" of the text as the recorder stores it; "" for no text."""
    return _text_and_digest(text)[1]


def _unique(conn: Connection, prepared: list[_Prepared], *, retry: bool) -> list[_Prepared]:
    """Keep request ids unique without losing a record: a reused id gets a suffix."""
    ids = [p.row["request_id"] for p in prepared]
    taken = set(
        conn.scalars(select(GatewayRequest.request_id).where(GatewayRequest.request_id.in_(ids)))
    )
    if not taken and len(set(ids)) == len(ids):
        return prepared
    if retry and taken >= set(ids):
        return []  # the previous attempt committed; only its acknowledgement was lost
    for p in prepared:
        original = p.row["request_id"]
        if original in taken:
            p.row["request_id"] = f"{original}#{uuid.uuid4().hex[:12]}"
            p.details = {**p.details, "duplicate_of": original}
            logger.warning(
                "duplicate request id recorded under a new id request_id=%s stored_as=%s",
                original,
                p.row["request_id"],
            )
        taken.add(p.row["request_id"])
    return prepared


def _text_and_digest(text: str) -> tuple[str, str]:
    """The text as stored (see `_clean`) and its digest, encoding a long prompt only once."""
    if not text:
        return "", ""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "replace")
        text = data.decode("utf-8")
    return text, "sha256:" + hashlib.sha256(data).hexdigest()


def _clean(text: str) -> str:
    """Text every backend accepts: PostgreSQL refuses NUL and no UTF-8 codec takes a lone
    surrogate, and a client's JSON body can carry both."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _clip(text: str | None, limit: int | None) -> str | None:
    return None if text is None else _clean(text)[:limit]


def _finite(value: float) -> float:
    # SQLite stores NaN as NULL, which a NOT NULL column refuses.
    value = float(value)
    return round(value, 3) if math.isfinite(value) else 0.0


def _one_line(exc: BaseException) -> str:
    message = str(getattr(exc, "orig", None) or exc).strip()
    return f"{type(exc).__name__}: {message.splitlines()[0] if message else ''}"
