"""The official async `openai` client against `garrison gateway serve`: concurrent calls,
streaming, legacy completions, and the refusals a client sees as typed exceptions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openai
import pytest

from tests.e2e.gateway.harness import (
    GUARDS_OFF,
    audit_actions,
    create_key,
    gateway_serve,
    request_rows,
)
from tests.unit.gateway.fakes import Seen, fake_upstream, serving


@dataclass
class Served:
    base_url: str
    db: str
    key: str
    limited_key: str
    tmp: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("async")
    db = f"sqlite:///{tmp / 'garrison.db'}"
    key = create_key(db, "async-team")
    limited = create_key(db, "limited-team", rpm=3)
    with (
        serving(fake_upstream(Seen())) as upstream,
        gateway_serve(tmp, f"{upstream}/v1", db=db, policy=GUARDS_OFF) as gateway,
    ):
        yield Served(f"{gateway.base}/v1", db, key, limited, tmp)


def client(served: Served, key: str | None = None) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=served.base_url, api_key=key or served.key, max_retries=0, timeout=20
    )


HELLO = [{"role": "user", "content": "Say hello"}]


def test_concurrent_async_calls_are_answered_and_each_is_recorded(served: Served) -> None:
    async def main() -> list[str]:
        async with client(served) as api:

            async def one() -> str:
                raw = await api.chat.completions.with_raw_response.create(
                    model="llama-3-8b", messages=HELLO
                )
                answer = raw.parse()
                assert answer.choices[0].message.content == "Hello world"
                return raw.headers["x-request-id"]

            return list(await asyncio.gather(*(one() for _ in range(40))))

    ids = asyncio.run(main())
    assert len(set(ids)) == 40
    rows: list[dict[str, object]] = []
    for _ in range(50):  # the recorder writes in batches, off the request path
        rows = request_rows(served.db)
        if {r["request_id"] for r in rows} >= set(ids):
            break
        time.sleep(0.1)
    recorded = {r["request_id"]: r for r in rows}
    assert set(ids) <= set(recorded)
    assert all(recorded[i]["decision"] == "allow" for i in ids)
    assert all(str(recorded[i]["prompt"]).startswith("sha256:") for i in ids)
    assert audit_actions(served.db).count("gateway.request") >= 40


def test_async_streaming_and_legacy_completions(served: Served) -> None:
    async def main() -> tuple[str, str]:
        async with client(served) as api:
            stream = await api.chat.completions.create(
                model="llama-3-8b", messages=HELLO, stream=True
            )
            text = "".join([c.choices[0].delta.content or "" async for c in stream])
            legacy = await api.completions.create(model="llama-3-8b", prompt="Hello")
            return text, legacy.choices[0].text

    assert asyncio.run(main()) == ("Hello world", " there")


def test_a_key_over_its_request_rate_gets_a_rate_limit_error(served: Served) -> None:
    async def main() -> openai.RateLimitError:
        async with client(served, served.limited_key) as api:
            for _ in range(3):
                await api.chat.completions.create(model="llama-3-8b", messages=HELLO)
            with pytest.raises(openai.RateLimitError) as raised:
                await api.chat.completions.create(model="llama-3-8b", messages=HELLO)
            return raised.value

    error = asyncio.run(main())
    assert error.status_code == 429
    assert int(error.response.headers["retry-after"]) >= 1
    assert error.request_id is not None and error.request_id.startswith("req_")


def test_refusals_arrive_as_the_clients_typed_errors(served: Served) -> None:
    async def main() -> None:
        async with client(served, "gk-unknown-0000") as api:
            with pytest.raises(openai.AuthenticationError):
                await api.chat.completions.create(model="llama-3-8b", messages=HELLO)
        async with client(served) as api:
            huge = [{"role": "user", "content": "x" * 2_000_000}]
            with pytest.raises(openai.APIStatusError) as raised:
                await api.chat.completions.create(model="llama-3-8b", messages=huge)
            assert raised.value.status_code == 413
            with pytest.raises(openai.InternalServerError) as failed:
                await api.chat.completions.create(model="fail-500", messages=HELLO)
            assert failed.value.status_code == 502
            assert "hunter2" not in failed.value.message

    asyncio.run(main())
