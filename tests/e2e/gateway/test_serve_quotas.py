"""Four `garrison gateway serve` workers sharing Redis hold a key to its limit exactly."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from garrison.cli.main import app
from tests.e2e.gateway.harness import GUARDS_OFF, RawResponse, gateway_serve, raw_post, redis_url
from tests.unit.gateway.fakes import Seen, chat, fake_upstream, serving

BURST = 1000
LIMIT = 100


def test_four_workers_sharing_redis_let_exactly_the_limit_through(tmp_path: Path) -> None:
    redis = redis_url()
    db = f"sqlite:///{tmp_path / 'garrison.db'}"
    command = ["keys", "create", "--owner", "burst", "--rpm", str(LIMIT), "--format", "json"]
    created = CliRunner().invoke(app, [*command, "--db", db])
    assert created.exit_code == 0, created.stderr
    secret = json.loads(created.stdout)["secret"]  # a new key id: a fresh window in Redis
    seen = Seen()
    with (
        serving(fake_upstream(seen)) as upstream,
        gateway_serve(
            tmp_path, f"{upstream}/v1", db=db, policy=GUARDS_OFF, workers=4, redis=redis
        ) as gateway,
    ):
        responses = asyncio.run(_burst(gateway.base, secret))
        counted = _counted_requests(gateway.base, BURST)

    assert Counter(r.status_code for r in responses) == {200: LIMIT, 429: BURST - LIMIT}
    assert len(seen.requests) == LIMIT  # refused requests never reach the model
    for refused in (r for r in responses if r.status_code == 429):
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["x-request-id"].startswith("req_")
        assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    # Prometheus multiprocess mode: any worker's /metrics adds up all four.
    assert counted == {("200", "allow"): LIMIT, ("429", "block"): BURST - LIMIT}


async def _burst(base: str, secret: str) -> list[RawResponse]:
    """BURST requests at once, each on its own connection."""
    headers = {"authorization": f"Bearer {secret}"}
    posts = [raw_post(base, "/v1/chat/completions", chat(), headers) for _ in range(BURST)]
    return await asyncio.wait_for(asyncio.gather(*posts), timeout=60)


def _counted_requests(base: str, total: int) -> dict[tuple[str, str], int]:
    """(status, decision) -> requests, once /metrics has counted `total` of them (a record
    is observed just after its answer is sent)."""
    deadline = time.monotonic() + 10
    while True:
        text = httpx.get(f"{base}/metrics", timeout=5).text
        counts: dict[tuple[str, str], int] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "garrison_gateway_requests_total":
                    labels = (sample.labels["status"], sample.labels["decision"])
                    counts[labels] = counts.get(labels, 0) + int(sample.value)
        if sum(counts.values()) >= total or time.monotonic() > deadline:
            return counts
        time.sleep(0.1)


def test_the_openai_client_sees_the_shared_limit_as_rate_limit_errors(tmp_path: Path) -> None:
    import openai

    redis = redis_url()
    db = f"sqlite:///{tmp_path / 'garrison.db'}"
    command = ["keys", "create", "--owner", "client", "--rpm", "20", "--format", "json"]
    created = CliRunner().invoke(app, [*command, "--db", db])
    assert created.exit_code == 0, created.stderr
    secret = json.loads(created.stdout)["secret"]
    with (
        serving(fake_upstream(Seen())) as upstream,
        gateway_serve(
            tmp_path, f"{upstream}/v1", db=db, policy=GUARDS_OFF, workers=4, redis=redis
        ) as gateway,
    ):

        async def main() -> Counter[str]:
            api = openai.AsyncOpenAI(
                base_url=f"{gateway.base}/v1", api_key=secret, max_retries=0, timeout=30
            )

            async def one() -> str:
                try:
                    await api.chat.completions.create(**chat())
                except openai.RateLimitError:
                    return "rate-limited"
                return "answered"

            async with api:
                return Counter(await asyncio.gather(*(one() for _ in range(60))))

        outcomes = asyncio.run(main())
    assert outcomes == {"answered": 20, "rate-limited": 40}
