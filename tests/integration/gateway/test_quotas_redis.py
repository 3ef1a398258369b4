"""Quotas shared through a real Redis by several worker processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from typing import Any

import pytest

from garrison.gateway.keys import ApiKey
from garrison.gateway.quotas import QuotaDecision, Quotas

REDIS_URL = os.environ.get("GARRISON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PROCESSES = 4
PER_PROCESS = 250

# One gateway worker: build its Quotas, say "ready", wait for "go", admit a burst concurrently.
WORKER = """
import asyncio, sys
from garrison.gateway.keys import ApiKey
from garrison.gateway.quotas import Quotas

async def main(url, key_id, count):
    quotas = Quotas(url)
    key = ApiKey(id=key_id, owner="test", rpm=100)
    assert await quotas.check()
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    decisions = await asyncio.gather(*(quotas.admit(key, 1) for _ in range(count)))
    print(sum(d.allowed for d in decisions), flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


@pytest.fixture
def redis_url() -> str:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required in CI: {exc}")
        pytest.skip(f"Redis not reachable: {exc}")
    finally:
        client.close()
    return REDIS_URL


def unique_key(**limits: Any) -> ApiKey:
    # A fresh id per run: windows of earlier runs stay in Redis for up to a day.
    return ApiKey(id=f"test-{uuid.uuid4().hex}", owner="test", **limits)


def test_four_processes_admit_exactly_rpm_between_them(redis_url: str) -> None:
    key_id = unique_key().id
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, redis_url, key_id, str(PER_PROCESS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        for worker in workers:  # every worker is connected before any admits
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        allowed = [int(worker.communicate(timeout=60)[0]) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    assert all(worker.returncode == 0 for worker in workers)
    assert sum(allowed) == 100, allowed


def test_two_workers_share_token_windows(redis_url: str) -> None:
    key = unique_key(tpm=1000, daily_tokens=1500)

    async def scenario() -> list[QuotaDecision]:
        first, second = Quotas(redis_url), Quotas(redis_url)
        await first.charge(key, 900)
        over_tpm = await second.admit(key, 200)
        await second.charge(key, 700)
        over_daily = await first.admit(key, 1)
        return [over_tpm, over_daily]

    over_tpm, over_daily = asyncio.run(scenario())
    assert not over_tpm.allowed and over_tpm.reason == "quota.tpm"
    assert over_tpm.headers["x-ratelimit-remaining-tokens"] == "100"
    assert not over_daily.allowed and over_daily.reason == "quota.daily"


def test_rpm_refusals_carry_headers_and_retry_after(redis_url: str) -> None:
    key = unique_key(rpm=2)

    async def scenario() -> list[QuotaDecision]:
        quotas = Quotas(redis_url)
        return [await quotas.admit(key, 1) for _ in range(3)]

    first, _, refused = asyncio.run(scenario())
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    assert refused.reason == "quota.rpm" and refused.headers["retry-after"] == "60"
