"""The optional stages: quotas, content policy, stream filter, observers, lifespan, disconnects."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.types import Message

from garrison.errors import GarrisonError
from garrison.gateway.keys import ApiKey
from garrison.gateway.proxy import RelayOutcome, StreamRelay
from garrison.gateway.record import ALLOW, BLOCK, REDACT, GuardVerdict, RequestRecord
from tests.unit.gateway.fakes import ALICE, Records, chat, gateway, sse_events


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    retry_after_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeQuotas:
    allow: bool = True
    down: bool = False
    admitted: list[int] = field(default_factory=list)
    charged: list[int] = field(default_factory=list)

    async def admit(self, key: ApiKey, estimated_tokens: int) -> Decision:
        if self.down:
            raise GarrisonError("quota storage redis://10.0.0.9:6379 is unreachable")
        self.admitted.append(estimated_tokens)
        headers = {"x-ratelimit-remaining-requests": "0" if not self.allow else "9"}
        if not self.allow:
            return Decision(False, "quota.rpm", 12.2, headers)
        return Decision(True, "", 0.0, headers)

    async def charge(self, key: ApiKey, tokens: int) -> None:
        self.charged.append(tokens)


def test_quota_admits_with_an_estimate_and_charges_real_usage() -> None:
    quotas = FakeQuotas()
    body = chat(messages=[{"role": "user", "content": "x" * 40}], max_tokens=100)
    with gateway(quotas=quotas) as (client, _):
        response = client.post("/v1/chat/completions", json=body, headers=ALICE)
    assert response.headers["x-ratelimit-remaining-requests"] == "9"
    assert quotas.admitted == [10 + 100]
    assert quotas.charged == [13]


def test_quota_exceeded_is_429_with_retry_after() -> None:
    quotas = FakeQuotas(allow=False)
    records = Records()
    with gateway(quotas=quotas, recorder=records) as (client, seen):
        response = client.post("/v1/chat/completions", json=chat(), headers=ALICE)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "13"
    assert response.headers["x-ratelimit-remaining-requests"] == "0"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"
    assert seen.requests == [] and quotas.charged == []
    assert (records.items[0].decision, records.items[0].reason) == (BLOCK, "quota.rpm")


def test_a_request_larger_than_a_whole_quota_window_is_told_it_never_fits() -> None:
    quotas = FakeQuotas()
    tight = {"Authorization": "Bearer sk-tight"}  # tpm 1000
    with gateway(quotas=quotas) as (client, seen):
        response = client.post("/v1/chat/completions", json=chat(max_tokens=5000), headers=tight)
        fits = client.post("/v1/chat/completions", json=chat(max_tokens=500), headers=tight)
    assert response.status_code == 429 and "retry-after" not in response.headers
    error = response.json()["error"]
    assert error["code"] == "request_exceeds_quota" and "can never fit" in error["message"]
    assert fits.status_code == 200
    assert quotas.admitted == [502]  # the oversized one never reached the quota storage
    assert len(seen.requests) == 1


def test_quota_storage_down_refuses_without_details() -> None:
    with gateway(quotas=FakeQuotas(down=True)) as (client, seen):
        response = client.post("/v1/chat/completions", json=chat(), headers=ALICE)
    assert response.status_code == 503
    assert "10.0.0.9" not in response.text
    assert response.headers["x-request-id"] in response.json()["error"]["message"]
    assert seen.requests == []


def test_quota_storage_that_does_not_answer_at_startup_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    @dataclass
    class Silent(FakeQuotas):
        display_uri: str = "redis://10.0.0.9:6379"

        async def check(self) -> bool:
            return False

    with caplog.at_level("WARNING"), gateway(quotas=Silent()):
        pass
    assert any(
        "quota storage redis://10.0.0.9:6379 does not answer" in r.message for r in caplog.records
    )


@dataclass(frozen=True)
class Result:
    action: str
    body: dict[str, Any]
    verdicts: tuple[GuardVerdict, ...] = ()
    reason: str = ""
    message: str = ""
    vault: Any = None


class FakeFilter:
    """Cuts the stream at the first event carrying "world"."""

    def __init__(self) -> None:
        self.cut = False
        self.reason = ""
        self.seen: list[bytes] = []
        self.verdicts: tuple[GuardVerdict, ...] = ()

    def feed(self, chunk: bytes) -> bytes:
        if self.cut:
            return b""
        self.seen.append(chunk)
        if b"world" in chunk:
            self.cut, self.reason = True, "guard.output"
            self.verdicts = (GuardVerdict("secrets", "output", "block", 1.0),)
            return chunk.split(b"world")[0].rsplit(b"\n\n", 1)[0] + b"\n\n"
        return chunk

    def close(self) -> bytes:
        return b"data: [DONE]\n\n"

    @property
    def text(self) -> str:
        return "Hello"


class FakePolicy:
    """Blocks prompts saying "attack", redacts "4111...", blocks answers when told to."""

    def __init__(self, block_answers: bool = False, fail: bool = False) -> None:
        self.block_answers = block_answers
        self.fail = fail
        self.filters: list[FakeFilter] = []

    def mode(self, route: str, stage: str, key: ApiKey | None) -> str:
        return "block"

    def check_request(self, route: str, body: dict[str, Any], key: ApiKey) -> Result:
        if self.fail:
            raise RuntimeError("guard model crashed at /opt/models/secret.bin")
        text = json.dumps(body)
        if "attack" in text:
            verdict = GuardVerdict("injection", "input", "block", 0.99)
            return Result("block", body, (verdict,), "guard.input", "the request was refused")
        if "tools" in body:
            return Result("block", body, (), "tool_policy", "tool 'shell' is not allowed")
        if "4111" in text:
            redacted = json.loads(text.replace("4111 1111 1111 1111", "<CARD>"))
            return Result("redact", redacted, (GuardVerdict("pii", "input", "redact"),))
        return Result("allow", body)

    def check_response(
        self,
        route: str,
        body: dict[str, Any],
        key: ApiKey,
        *,
        request: dict[str, Any] | None = None,
        vault: Any = None,
    ) -> Result:
        if self.block_answers:
            verdict = GuardVerdict("secrets", "output", "block")
            return Result("block", body, (verdict,), "guard.output", "the answer was refused")
        rewritten = json.loads(json.dumps(body).replace("world", "[redacted]"))
        return Result("redact", rewritten, (GuardVerdict("links", "output", "redact"),))

    def stream_filter(
        self, route: str, key: ApiKey, *, request: dict[str, Any] | None = None, vault: Any = None
    ) -> FakeFilter:
        self.filters.append(FakeFilter())
        return self.filters[-1]


def test_blocked_request_is_400_and_never_forwarded() -> None:
    records = Records()
    with gateway(content=FakePolicy(), recorder=records) as (client, seen):
        body = chat(messages=[{"role": "user", "content": "attack!"}])
        guard = client.post("/v1/chat/completions", json=body, headers=ALICE)
        tool = client.post("/v1/chat/completions", json=chat(tools=[{}]), headers=ALICE)
    assert guard.status_code == 400
    assert guard.json()["error"] == {
        "message": "the request was refused",
        "type": "invalid_request_error",
        "param": None,
        "code": "content_policy_violation",
    }
    assert tool.status_code == 403
    assert tool.json()["error"]["code"] == "tool_not_allowed"
    assert seen.requests == []
    assert [(r.decision, r.reason) for r in records.items] == [
        (BLOCK, "guard.input"),
        (BLOCK, "tool_policy"),
    ]
    assert records.items[0].guards == (GuardVerdict("injection", "input", "block", 0.99),)


def test_redacted_request_and_answer() -> None:
    records = Records()
    body = chat(messages=[{"role": "user", "content": "card 4111 1111 1111 1111"}])
    with gateway(content=FakePolicy(), recorder=records) as (client, seen):
        response = client.post("/v1/chat/completions", json=body, headers=ALICE)
    assert seen.last_body["messages"][0]["content"] == "card <CARD>"
    assert response.json()["choices"][0]["message"]["content"] == "Hello [redacted]"
    (record,) = records.items
    assert record.decision == REDACT
    assert [v.name for v in record.guards] == ["pii", "links"]


def test_blocked_answer_is_refused_but_charged() -> None:
    quotas = FakeQuotas()
    with gateway(content=FakePolicy(block_answers=True), quotas=quotas) as (client, _):
        response = client.post("/v1/chat/completions", json=chat(), headers=ALICE)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "content_filter"
    assert "Hello" not in response.text
    assert quotas.charged == [13]  # the upstream did the work


def test_stream_filter_can_cut_the_stream() -> None:
    records = Records()
    policy = FakePolicy()
    with gateway(content=policy, recorder=records) as (client, _):
        response = client.post("/v1/chat/completions", json=chat(stream=True), headers=ALICE)
    assert b"world" not in response.content
    assert b"Hello" in response.content
    assert response.content.endswith(b"data: [DONE]\n\n")
    (record,) = records.items
    assert (record.decision, record.reason) == (BLOCK, "guard.output")
    assert record.completion_text == "Hello"
    assert all(b'"choices": []' not in c for c in policy.filters[0].seen)


def test_a_crashing_stage_is_a_generic_500() -> None:
    records = Records()
    with gateway(content=FakePolicy(fail=True), recorder=records) as (client, _):
        response = client.post("/v1/chat/completions", json=chat(), headers=ALICE)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "secret.bin" not in response.text and "RuntimeError" not in response.text
    assert records.items[0].reason == "internal"


class Exploding:
    def observe(self, record: RequestRecord) -> None:
        raise RuntimeError("monitor bug")


def test_a_failing_observer_does_not_fail_the_request() -> None:
    records = Records()
    with gateway(monitors=Exploding(), metrics=None, recorder=records) as (client, _):
        response = client.post("/v1/chat/completions", json=chat(), headers=ALICE)
    assert response.status_code == 200
    assert records.items[0].decision == ALLOW


class Lifecycle(Records):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []

    async def start(self) -> None:
        self.events.append("start")

    async def aclose(self) -> None:
        self.events.append("aclose")

    def render(self) -> tuple[bytes, str]:
        return b"garrison_requests_total 1\n", "text/plain; version=0.0.4"


def test_lifespan_starts_and_closes_stages_and_metrics_are_served() -> None:
    stage = Lifecycle()
    with gateway(recorder=stage, metrics=stage) as (client, _):
        assert stage.events == ["start", "start"]
        metrics = client.get("/metrics")
    assert stage.events == ["start", "start", "aclose", "aclose"]
    assert metrics.text == "garrison_requests_total 1\n"
    assert metrics.headers["content-type"].startswith("text/plain")


class _SlowStream(httpx.AsyncByteStream):
    def __init__(self) -> None:
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for event in sse_events("m", include_usage=False)[:2]:
            yield event
        await asyncio.sleep(30)  # a long generation the client gives up on
        yield b"data: [DONE]\n\n"

    async def aclose(self) -> None:
        self.closed = True


class _Tap:
    cut = False

    def feed(self, chunk: bytes) -> bytes:
        return chunk

    def close(self) -> bytes:
        return b""


def test_client_disconnect_stops_the_upstream_stream() -> None:
    stream = _SlowStream()
    sent: list[Message] = []
    outcomes: list[RelayOutcome] = []

    async def main() -> None:
        gone = asyncio.Event()

        async def receive() -> Message:
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)
            if len(sent) == 3:  # start and two events: the client closes its connection
                gone.set()

        async def done(outcome: RelayOutcome) -> None:
            outcomes.append(outcome)

        response = httpx.Response(200, stream=stream)
        relay = StreamRelay(response, [], _Tap(), done, "req_1")
        await asyncio.wait_for(relay({"type": "http"}, receive, send), 5)

    asyncio.run(main())
    assert stream.closed
    assert len(outcomes) == 1 and outcomes[0].disconnected
    assert not any(m.get("more_body") is False for m in sent)
