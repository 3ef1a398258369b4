"""The audit recorder on real SQLite and PostgreSQL stores: concurrency, several processes,
an outage in the middle of traffic."""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import random
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.synchronize import Barrier

import pytest
from sqlalchemy import select, text

from garrison.gateway.record import ALLOW, BLOCK, RequestRecord
from garrison.gateway.recorder import Recorder
from garrison.store import AuditLog, Store, open_store
from garrison.store.models import GatewayRequest

PROCESSES = 3
PER_PROCESS = 150


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def record(request_id: str, decision: str = ALLOW) -> RequestRecord:
    return RequestRecord(
        request_id=request_id,
        ts="2026-11-27T10:00:00.000000Z",
        route="chat",
        status=200 if decision == ALLOW else 403,
        decision=decision,
        reason="" if decision == ALLOW else "guard.input",
        key_id="gk_0001",
        owner="team-a",
        model="gpt-4o-mini",
        prompt_tokens=10,
        completion_tokens=3,
        latency_ms=12.0,
        prompt_text=f"prompt of {request_id}",
        completion_text="ok",
    )


def assert_recorded_once(store: Store, request_ids: set[str]) -> None:
    """Every request has exactly one row and one audit record naming it; the chain verifies."""
    columns = (GatewayRequest.request_id, GatewayRequest.audit_seq)
    with store.engine.connect() as conn:
        rows = conn.execute(select(*columns)).all()
    assert len(rows) == len(request_ids)
    assert {row.request_id for row in rows} == request_ids
    log = AuditLog(store)
    subjects = {r.seq: r.subject for r in log.records()}
    assert len(subjects) == len(request_ids)
    assert all(subjects[row.audit_seq] == row.request_id for row in rows)
    result = log.verify()
    assert result.ok, result.problem


def test_two_hundred_concurrent_requests_are_all_recorded(store: Store) -> None:
    async def request(recorder: Recorder, i: int) -> None:
        await asyncio.sleep(random.random() / 100)  # arrivals spread over several flushes
        recorder.submit(record(f"req-{i}", BLOCK if i % 5 == 0 else ALLOW))

    async def main() -> None:
        recorder = Recorder(store, flush_interval_s=0.002)
        await recorder.start()
        await asyncio.gather(*(request(recorder, i) for i in range(200)))
        assert await recorder.aclose() == 0

    asyncio.run(main())
    assert_recorded_once(store, {f"req-{i}" for i in range(200)})


def test_submits_from_many_threads_are_all_recorded(store: Store) -> None:
    def submit_some(recorder: Recorder, thread: int) -> None:
        for i in range(10):
            recorder.submit(record(f"t{thread}-{i}"))

    with Recorder(store, batch=16, flush_interval_s=0.002) as recorder:
        threads = [threading.Thread(target=submit_some, args=(recorder, t)) for t in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert_recorded_once(store, {f"t{t}-{i}" for t in range(20) for i in range(10)})


def _gateway_worker(url: str, worker: int, ready: Barrier) -> None:
    store = open_store(url)  # each process has its own engine, as each gateway worker would
    ready.wait(timeout=60)  # start together, so the workers really contend for the chain

    async def serve() -> None:
        async with Recorder(store, batch=16, flush_interval_s=0.001) as recorder:
            for i in range(PER_PROCESS):
                recorder.submit(record(f"w{worker}-{i}"))
                await asyncio.sleep(0.002)  # traffic long enough for the workers to overlap

    try:
        asyncio.run(serve())
    finally:
        store.close()


def test_recorders_in_several_processes_build_one_chain(store: Store, store_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(PROCESSES)
    workers = [
        context.Process(target=_gateway_worker, args=(store_url, w, ready))
        for w in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0] * PROCESSES
    wanted = {f"w{w}-{i}" for w in range(PROCESSES) for i in range(PER_PROCESS)}
    assert_recorded_once(store, wanted)
    subjects = [r.subject for r in AuditLog(store).records()]
    writers = [subject.split("-")[0] for subject in subjects]
    if store.dialect == "postgresql":
        # More writer switches than running one after another gives: the workers contended.
        # (SQLite's busy handler is unfair, so there one worker often writes all of its
        # records first; the chain is just as linear.)
        assert sum(a != b for a, b in itertools.pairwise(writers)) > PROCESSES - 1
    for w in range(PROCESSES):  # and each worker's records keep its submission order
        mine = [subject for subject in subjects if subject.startswith(f"w{w}-")]
        assert mine == [f"w{w}-{i}" for i in range(PER_PROCESS)]


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_an_outage_mid_traffic_loses_nothing(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    def rename(old: str, new: str) -> None:
        with store.engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))

    with caplog.at_level(logging.ERROR), Recorder(store, flush_interval_s=0.01) as recorder:
        for i in range(50):
            recorder.submit(record(f"before-{i}"))
        _wait_for(lambda: recorder.pending == 0)
        rename("gateway_requests", "gateway_requests_away")  # every write now fails
        for i in range(50):
            recorder.submit(record(f"during-{i}"))
        _wait_for(lambda: "audit write failed" in caplog.text)
        assert recorder.pending == 50
        rename("gateway_requests_away", "gateway_requests")
        _wait_for(lambda: recorder.pending == 0)
    wanted = {f"{phase}-{i}" for phase in ("before", "during") for i in range(50)}
    assert_recorded_once(store, wanted)
