"""Many writer processes must still produce one linear chain: no fork, no gap."""

from __future__ import annotations

import itertools
import multiprocessing
import time

from garrison.store import AuditLog, open_store

WRITERS = 8
APPENDS = 500


def _write(url: str, writer: int) -> None:
    store = open_store(url)  # each process has its own engine and connections
    try:
        log = AuditLog(store)
        for i in range(APPENDS):
            log.append("scan", f"writer-{writer}", {"i": i}, actor=f"w{writer}")
    finally:
        store.close()


def test_concurrent_writers_keep_the_chain_linear(store_url: str) -> None:
    # No store exists yet: the writers also race to create the schema.
    context = multiprocessing.get_context("spawn")
    start = time.monotonic()
    workers = [context.Process(target=_write, args=(store_url, w)) for w in range(WRITERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0] * WRITERS
    elapsed = time.monotonic() - start

    store = open_store(store_url)
    try:
        log = AuditLog(store)
        result = log.verify()
        assert result.ok, result.problem
        assert result.records == result.head_seq == WRITERS * APPENDS
        per_writer: dict[str, list[int]] = {}
        actors = []
        for record in log.iter_records():
            per_writer.setdefault(record["actor"], []).append(record["seq"])
            actors.append(record["actor"])
        # The writers really ran at the same time, so the lock was contended.
        assert sum(a != b for a, b in itertools.pairwise(actors)) > WRITERS
        # Each writer's appends appear in the order it made them.
        assert all(seqs == sorted(seqs) and len(seqs) == APPENDS for seqs in per_writer.values())
    finally:
        store.close()
    assert elapsed < 90, f"{WRITERS}x{APPENDS} appends took {elapsed:.1f}s"
