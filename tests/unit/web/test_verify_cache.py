"""The dashboard's cache of the audit log's latest verify: age, TTL, one verify at a time."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from garrison.errors import UsageError
from garrison.store.audit import Problem, ProblemKind, VerifyResult
from garrison.web.verify_cache import VerifyCache, duration

GOOD = VerifyResult(records=3, checkpoints=0, head_seq=3, head_hash="a" * 64)
BAD = VerifyResult(3, 0, 3, "a" * 64, Problem(ProblemKind.EDITED, 2, "record 2 was edited"))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Verifier:
    """Returns the results it is given in turn; counts calls and the most at once."""

    def __init__(self, *results: VerifyResult, gate: threading.Event | None = None) -> None:
        self.results = list(results)
        self.gate = gate
        self.calls = 0
        self.running = 0
        self.most_at_once = 0
        self.lock = threading.Lock()

    def __call__(self) -> VerifyResult:
        with self.lock:
            self.calls += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            result = self.results[min(self.calls, len(self.results)) - 1]
        if self.gate is not None:
            assert self.gate.wait(5), "the test never opened the gate"
        else:
            time.sleep(0.002)
        with self.lock:
            self.running -= 1
        return result


def test_the_first_state_verifies_and_later_ones_reuse_it_with_its_age() -> None:
    clock, verify = Clock(), Verifier(GOOD)
    cache = VerifyCache(verify, ttl_s=60, clock=clock)
    assert cache.state().result == GOOD and verify.calls == 1
    clock.now += 12
    state = cache.state()
    assert verify.calls == 1
    assert state.age == "12 s" and not state.refreshing


def test_a_stale_result_is_shown_at_once_while_one_thread_verifies_again() -> None:
    clock, gate = Clock(), threading.Event()
    gate.set()
    verify = Verifier(GOOD, BAD, gate=gate)
    cache = VerifyCache(verify, ttl_s=60, clock=clock)
    cache.state()
    gate.clear()
    clock.now += 61
    states = [cache.state() for _ in range(5)]  # none of these waits for the gated verify
    assert all(s.result == GOOD and s.refreshing for s in states)
    assert cache._refresher is not None and cache._refresher.daemon
    gate.set()
    cache.wait_for_refresh(5)
    assert verify.calls == 2  # five stale loads, one background verify
    state = cache.state()
    assert state.result == BAD and state.age == "0 s" and not state.refreshing


def test_no_thread_starts_while_the_result_is_fresh() -> None:
    clock = Clock()
    cache = VerifyCache(Verifier(GOOD), ttl_s=60, clock=clock)
    cache.state()
    clock.now += 59
    cache.state()
    assert cache._refresher is None


def test_verify_now_runs_a_fresh_verify_within_the_ttl() -> None:
    clock, verify = Clock(), Verifier(GOOD, BAD)
    cache = VerifyCache(verify, ttl_s=60, clock=clock)
    cache.state()
    clock.now += 1
    assert cache.verify_now().result == BAD and verify.calls == 2
    assert cache.state().result == BAD


def test_at_most_one_verify_runs_however_many_callers() -> None:
    verify = Verifier(GOOD)
    cache = VerifyCache(verify, ttl_s=0.001)

    def load() -> None:
        for i in range(20):
            cache.verify_now() if i % 5 == 0 else cache.state()

    threads = [threading.Thread(target=load) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    cache.wait_for_refresh(5)
    assert verify.most_at_once == 1


def test_forced_verifies_that_wait_share_the_next_one() -> None:
    gate = threading.Event()
    verify = Verifier(GOOD, BAD, gate=gate)
    cache = VerifyCache(verify)
    first = threading.Thread(target=cache.state)
    first.start()
    time.sleep(0.02)  # the first verify is running, held at the gate
    seen: list[VerifyResult] = []
    forced = [
        threading.Thread(target=lambda: seen.append(cache.verify_now().result)) for _ in range(5)
    ]
    for t in forced:
        t.start()
    time.sleep(0.05)  # all five asked while the first ran: none may reuse its result
    gate.set()
    first.join(5)
    for t in forced:
        t.join(5)
    assert seen == [BAD] * 5 and verify.calls == 2


def test_concurrent_first_loads_share_one_verify() -> None:
    gate = threading.Event()
    verify = Verifier(GOOD, gate=gate)
    cache = VerifyCache(verify)
    seen: list[VerifyResult] = []
    threads = [threading.Thread(target=lambda: seen.append(cache.state().result)) for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    gate.set()
    for t in threads:
        t.join(5)
    assert seen == [GOOD] * 6 and verify.calls == 1


def test_a_failed_background_verify_keeps_the_older_result(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, calls = Clock(), []

    def verify() -> VerifyResult:
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("database went away")
        return GOOD

    cache = VerifyCache(verify, ttl_s=60, clock=clock)
    cache.state()
    clock.now += 90
    with caplog.at_level(logging.ERROR, logger="garrison.web.verify_cache"):
        cache.state()
        cache.wait_for_refresh(5)
    assert "background audit verify failed" in caplog.text
    state = cache.state()  # stale still, so it tries again
    assert state.result == GOOD and state.age == "1 min"
    cache.wait_for_refresh(5)
    assert len(calls) == 3


def test_a_forced_verify_reports_its_own_failure() -> None:
    def verify() -> VerifyResult:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        VerifyCache(verify).verify_now()


@pytest.mark.parametrize("ttl", [0, -1])
def test_the_ttl_must_be_positive(ttl: float) -> None:
    with pytest.raises(UsageError, match="must be positive"):
        VerifyCache(Verifier(GOOD), ttl_s=ttl)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.4, "0 s"), (59.9, "59 s"), (60, "1 min"), (7200, "2.0 h")]
)
def test_durations_read_as_a_person_would_say_them(seconds: float, text: str) -> None:
    assert duration(seconds) == text
