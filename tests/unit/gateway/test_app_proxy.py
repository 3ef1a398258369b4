"""Forwarding: bytes passed through intact, streams relayed, upstream failures kept generic."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from garrison.gateway.config import ENV_UPSTREAM_API_KEY, GatewayConfig
from garrison.gateway.record import ALLOW, ERROR
from tests.unit.gateway.fakes import (
    ALICE,
    SECRET,
    UPSTREAM,
    USAGE,
    Records,
    chat,
    chat_answer,
    free_port,
    gateway,
    sse_events,
)


def test_chat_answer_is_passed_through_byte_for_byte() -> None:
    records = Records()
    config = GatewayConfig(upstream=UPSTREAM).with_env({ENV_UPSTREAM_API_KEY: "sk-upstream"})
    with gateway(config, recorder=records) as (client, seen):
        response = client.post("/v1/chat/completions", json=chat(), headers=ALICE)
    assert response.status_code == 200
    assert response.content == json.dumps(chat_answer("llama-3-8b")).encode()
    sent = seen.last_headers
    assert sent["authorization"] == "Bearer sk-upstream"  # never the client's key
    assert sent["x-request-id"] == response.headers["x-request-id"]
    (record,) = records.items
    assert (record.status, record.decision, record.route) == (200, ALLOW, "chat")
    assert (record.prompt_tokens, record.completion_tokens) == (11, 2)
    assert record.prompt_text == "Say hello"
    assert record.completion_text == "Hello world"
    assert record.request_id == response.headers["x-request-id"]
    assert record.upstream_ms is not None and record.latency_ms >= record.upstream_ms


def test_client_key_is_not_forwarded_without_an_upstream_key() -> None:
    with gateway() as (client, seen):
        client.post("/v1/chat/completions", json=chat(), headers=ALICE)
    assert "authorization" not in seen.last_headers
    assert "sk-alice" not in json.dumps(seen.last_headers)


def test_unchanged_body_is_forwarded_as_sent() -> None:
    raw = b'{"model": "llama-3-8b",   "messages": [], "temperature": 0.5}'
    with gateway() as (client, seen):
        client.post("/v1/chat/completions", content=raw, headers=ALICE)
    assert seen.requests[-1][2] == raw


def test_stream_with_usage_requested_is_relayed_intact() -> None:
    records = Records()
    body = chat(stream=True, stream_options={"include_usage": True})
    with (
        gateway(recorder=records) as (client, seen),
        client.stream("POST", "/v1/chat/completions", json=body, headers=ALICE) as response,
    ):
        received = b"".join(response.iter_bytes())
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-request-id"].startswith("req_")
    assert received == b"".join(sse_events("llama-3-8b", include_usage=True))
    assert seen.last_body["stream_options"] == {"include_usage": True}
    (record,) = records.items
    assert (record.prompt_tokens, record.completion_tokens) == (11, 2)
    assert record.completion_text == "Hello world"
    assert record.reason == ""


def test_stream_usage_is_asked_for_and_dropped_again() -> None:
    records = Records()
    with gateway(recorder=records) as (client, seen):
        response = client.post("/v1/chat/completions", json=chat(stream=True), headers=ALICE)
    assert seen.last_body["stream_options"] == {"include_usage": True}
    events = [e for e in response.content.split(b"\n\n") if e]
    assert events[-1] == b"data: [DONE]"
    chunks = [json.loads(e.removeprefix(b"data: ")) for e in events[:-1]]
    assert all(c["choices"] for c in chunks)  # the usage-only chunk is gone
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "Hello world"
    assert (records.items[0].prompt_tokens, records.items[0].completion_tokens) == (11, 2)


def test_completions_and_embeddings() -> None:
    records = Records()
    with gateway(recorder=records) as (client, _):
        completion = client.post(
            "/v1/completions", json={"model": "m", "prompt": "Hi", "max_tokens": 5}, headers=ALICE
        )
        embedding = client.post(
            "/v1/embeddings", json={"model": "m", "input": ["a", "b"]}, headers=ALICE
        )
    assert completion.json()["choices"][0]["text"] == " there"
    assert len(embedding.json()["data"]) == 2
    assert [(r.route, r.prompt_tokens, r.completion_tokens) for r in records.items] == [
        ("completions", 11, 2),
        ("embeddings", 6, 0),
    ]
    assert records.items[1].prompt_text == "a\nb"


def _body(response: Any) -> str:
    return str(response.text) + json.dumps(dict(response.headers))


def test_upstream_down_is_502_with_the_request_id_only() -> None:
    records = Records()
    config = GatewayConfig(upstream=f"http://127.0.0.1:{free_port()}/v1", connect_timeout_s=2)
    with gateway(config, transport=httpx.AsyncHTTPTransport(), recorder=records) as (client, _):
        response = client.post("/v1/chat/completions", json=chat(), headers=ALICE)
    assert response.status_code == 502
    request_id = response.headers["x-request-id"]
    err = response.json()["error"]
    assert err == {
        "message": f"the model server is unavailable (request id {request_id})",
        "type": "server_error",
        "param": None,
        "code": "upstream_unavailable",
    }
    assert (records.items[0].decision, records.items[0].reason) == (ERROR, "upstream")


def test_upstream_timeout_is_504() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out at 10.0.0.7:8000", request=request)

    with gateway(transport=httpx.MockTransport(timeout)) as (client, _):
        response = client.post("/v1/chat/completions", json=chat(), headers=ALICE)
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"
    assert "10.0.0.7" not in _body(response)


@pytest.mark.parametrize(
    ("model", "status", "code"),
    [
        ("fail-500", 502, "upstream_error"),
        ("fail-401", 502, "upstream_error"),  # the gateway's upstream key: not the client's fault
        ("bad-400", 400, "upstream_rejected"),
        ("not-json", 502, "upstream_error"),
    ],
)
def test_upstream_failures_never_leak(model: str, status: int, code: str) -> None:
    with gateway() as (client, _):
        response = client.post("/v1/chat/completions", json=chat(model), headers=ALICE)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert "hunter2" not in _body(response) and "Traceback" not in _body(response)


def test_wellformed_upstream_client_error_passes_through() -> None:
    with gateway() as (client, _):
        response = client.post("/v1/chat/completions", json=chat("fail-400"), headers=ALICE)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "message": "max_tokens is too large",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": None,
    }


class _Breaking(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        for event in sse_events("m", include_usage=True)[:2]:
            yield event
        raise httpx.ReadError("connection reset by 10.0.0.7 " + SECRET)


def test_stream_that_breaks_ends_with_an_error_event() -> None:
    def breaking(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=_Breaking()
        )

    records = Records()
    with gateway(transport=httpx.MockTransport(breaking), recorder=records) as (client, _):
        response = client.post("/v1/chat/completions", json=chat(stream=True), headers=ALICE)
    events = [e for e in response.content.split(b"\n\n") if e]
    assert len(events) == 3
    assert json.loads(events[-1][6:])["error"]["code"] == "upstream_error"
    assert "hunter2" not in response.text and "10.0.0.7" not in response.text
    assert (records.items[0].decision, records.items[0].reason) == (ERROR, "upstream")


def test_stream_refused_upstream_gets_a_plain_error() -> None:
    with gateway() as (client, _):
        response = client.post(
            "/v1/chat/completions", json=chat("fail-500", stream=True), headers=ALICE
        )
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/json"


def test_kserve_infer_and_metadata_are_forwarded() -> None:
    tensors = {"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP32", "data": [1, 2]}]}
    records = Records()
    with gateway(recorder=records) as (client, seen):
        infer = client.post("/v2/models/llama-3-8b/infer", json=tensors, headers=ALICE)
        metadata = client.get("/v2/models/llama-3-8b", headers=ALICE)
        refused = client.post("/v2/models/bad-input/infer", json=tensors, headers=ALICE)
        failed = client.post("/v2/models/fail-500/infer", json=tensors, headers=ALICE)
        odd_name = client.get("/v2/models/..%2Fadmin", headers=ALICE)
        binary = client.post(
            "/v2/models/m/infer",
            json=tensors,
            headers={**ALICE, "inference-header-content-length": "10"},
        )
    assert infer.status_code == 200
    assert infer.json()["outputs"][0]["data"] == [1, 2]
    assert seen.requests[0][0] == "/v2/models/llama-3-8b/infer"
    assert metadata.json()["name"] == "llama-3-8b"
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "unexpected input shape"
    assert failed.status_code == 502 and "hunter2" not in failed.text
    assert odd_name.status_code in (400, 404)
    assert binary.status_code == 400
    assert [r.route for r in records.items][:3] == ["infer", "infer", "infer"]


def test_kserve_needs_the_infer_scope() -> None:
    with gateway() as (client, _):
        response = client.post(
            "/v2/models/llama-3-8b/infer", json={}, headers={"Authorization": "Bearer sk-bob"}
        )
    assert response.status_code == 403


def test_health_probes_need_no_key() -> None:
    with gateway() as (client, _):
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/v2/health/live").json() == {"live": True}
        assert client.get("/v2/health/ready").json() == {"ready": True}
    config = GatewayConfig(upstream=f"http://127.0.0.1:{free_port()}/v1")
    with gateway(config, transport=httpx.AsyncHTTPTransport()) as (client, _):
        down = client.get("/v2/health/ready")
    assert (down.status_code, down.json()) == (503, {"ready": False})


def test_unknown_routes_and_methods_are_openai_shaped() -> None:
    with gateway() as (client, _):
        missing = client.get("/v1/nothing", headers=ALICE)
        method = client.get("/v1/chat/completions", headers=ALICE)
    assert missing.status_code == 404
    assert method.status_code == 405
    for response in (missing, method):
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
        assert response.headers["x-request-id"].startswith("req_")


def test_usage_counts_fall_back_to_an_estimate() -> None:
    def no_usage(request: httpx.Request) -> httpx.Response:
        answer: dict[str, Any] = chat_answer("m")
        del answer["usage"]
        return httpx.Response(200, json=answer)

    records = Records()
    body = chat(messages=[{"role": "user", "content": "x" * 400}])
    with gateway(transport=httpx.MockTransport(no_usage), recorder=records) as (client, _):
        client.post("/v1/chat/completions", json=body, headers=ALICE)
    assert (records.items[0].prompt_tokens, records.items[0].completion_tokens) == (100, 2)
    assert USAGE["prompt_tokens"] != 100
