"""Quotas in memory: requests per minute, tokens per minute and per day, and their headers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from garrison.errors import UsageError
from garrison.gateway.keys import ApiKey
from garrison.gateway.quotas import QuotaDecision, Quotas, QuotaUnavailable, format_reset

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


def key(**limits: Any) -> ApiKey:
    return ApiKey(id=f"gk_{uuid.uuid4().hex[:12]}", owner="team-a", **limits)


def test_a_key_without_limits_never_touches_the_storage() -> None:
    quotas = Quotas()

    async def broken(*_: Any, **__: Any) -> bool:
        raise AssertionError("storage used")

    quotas._requests.hit = broken  # type: ignore[method-assign]
    quotas._tokens.hit = broken  # type: ignore[method-assign]
    unlimited = key()
    decision = run(quotas.admit(unlimited, 10_000))
    run(quotas.charge(unlimited, 10_000))
    assert decision == QuotaDecision(True, "", 0.0, {})


def test_requests_beyond_rpm_are_refused_with_retry_after() -> None:
    quotas, limited = Quotas(), key(rpm=3)

    async def five() -> list[QuotaDecision]:
        return [await quotas.admit(limited, 1) for _ in range(5)]

    decisions = run(five())
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    first, refused = decisions[0], decisions[3]
    assert first.headers == {
        "x-ratelimit-limit-requests": "3",
        "x-ratelimit-remaining-requests": "2",
        "x-ratelimit-reset-requests": "1m0s",
    }
    assert refused.reason == "quota.rpm"
    assert 59 < refused.retry_after_s <= 60 and refused.headers["retry-after"] == "60"
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"


def test_concurrent_admits_in_one_process_allow_exactly_rpm() -> None:
    quotas, limited = Quotas(), key(rpm=100)

    async def burst() -> list[QuotaDecision]:
        return await asyncio.gather(*(quotas.admit(limited, 1) for _ in range(1000)))

    assert sum(d.allowed for d in run(burst())) == 100


def test_keys_have_separate_quotas() -> None:
    quotas, first, second = Quotas(), key(rpm=1), key(rpm=1)

    async def admits() -> list[bool]:
        return [(await quotas.admit(k, 1)).allowed for k in (first, first, second)]

    assert run(admits()) == [True, False, True]


def test_tokens_are_tested_on_admit_and_consumed_on_charge() -> None:
    quotas, limited = Quotas(), key(tpm=1000)

    async def scenario() -> list[QuotaDecision]:
        fits = await quotas.admit(limited, 600)
        await quotas.charge(limited, 700)  # the real usage, more than estimated
        too_big = await quotas.admit(limited, 400)
        small = await quotas.admit(limited, 300)
        await quotas.charge(limited, 5000)  # an overrun is recorded, not dropped
        after_overrun = await quotas.admit(limited, 1)
        return [fits, too_big, small, after_overrun]

    fits, too_big, small, after_overrun = run(scenario())
    assert fits.allowed and fits.headers["x-ratelimit-remaining-tokens"] == "1000"
    assert not too_big.allowed and too_big.reason == "quota.tpm"
    assert too_big.headers["x-ratelimit-remaining-tokens"] == "300"
    assert 0 < too_big.retry_after_s <= 60
    assert small.allowed
    assert not after_overrun.allowed and after_overrun.reason == "quota.tpm"


def test_a_request_larger_than_tpm_gets_an_empty_window() -> None:
    quotas, limited = Quotas(), key(tpm=100)
    assert run(quotas.admit(limited, 10_000)).allowed


def test_daily_tokens_reset_at_utc_midnight() -> None:
    quotas, limited = Quotas(), key(daily_tokens=1000, tpm=10**6)

    async def scenario() -> QuotaDecision:
        await quotas.charge(limited, 1000)
        return await quotas.admit(limited, 1)

    refused = run(scenario())
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert not refused.allowed and refused.reason == "quota.daily"
    assert abs(refused.retry_after_s - (midnight - now).total_seconds()) < 5


def test_zero_or_negative_usage_charges_nothing() -> None:
    quotas, limited = Quotas(), key(tpm=10)

    async def scenario() -> bool:
        await quotas.charge(limited, 0)
        await quotas.charge(limited, -50)
        return (await quotas.admit(limited, 10)).allowed

    assert run(scenario())


def test_an_unknown_storage_is_refused() -> None:
    with pytest.raises(UsageError, match=r"memory:// or redis://"):
        Quotas("memcached://127.0.0.1:11211")


def test_an_unreachable_redis_refuses_rather_than_serving_unmetered() -> None:
    quotas = Quotas("redis://:hunter2@127.0.0.1:1/0")
    with pytest.raises(QuotaUnavailable) as raised:
        run(quotas.admit(key(rpm=1), 1))
    assert str(raised.value) == "quota storage redis://127.0.0.1:1 is unreachable"
    with pytest.raises(QuotaUnavailable):
        run(quotas.charge(key(tpm=1), 1))


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.02, "20ms"), (0.0, "0ms"), (1.0, "1s"), (59.2, "1m0s"), (360.0, "6m0s"), (3723, "1h2m3s")],
)
def test_reset_durations_read_like_openais(seconds: float, text: str) -> None:
    assert format_reset(seconds) == text
