"""A fake OpenAI/KServe upstream, an in-memory authenticator, and uvicorn in a thread."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from garrison.gateway.app import create_app
from garrison.gateway.config import GatewayConfig
from garrison.gateway.keys import ApiKey
from garrison.gateway.record import RequestRecord

USAGE = {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}
MODELS = ("llama-3-8b", "mistral-7b", "secret-model")
UPSTREAM = "http://upstream.test/v1"
KEYS = {
    "sk-alice": ApiKey(id="gk_alice", owner="alice"),
    "sk-bob": ApiKey(id="gk_bob", owner="bob", models=("llama-3-8b",), scopes=("chat", "models")),
    "sk-old": ApiKey(id="gk_old", owner="carol", revoked="2026-01-01T00:00:00.000000Z"),
    "sk-tight": ApiKey(id="gk_tight", owner="dave", tpm=1000, daily_tokens=5000),
}
ALICE = {"Authorization": "Bearer sk-alice"}
BOB = {"Authorization": "Bearer sk-bob"}
SECRET = "Traceback (most recent call last): db password hunter2 at /srv/vllm/engine.py"


class DictKeys:
    """An Authenticator over a dict of token -> key; revoked keys authenticate as None."""

    def __init__(self, keys: dict[str, ApiKey]) -> None:
        self.keys = keys

    def authenticate(self, token: str) -> ApiKey | None:
        key = self.keys.get(token)
        return None if key is None or key.revoked is not None else key


@dataclass
class Records:
    """Collects what the gateway hands its recorder, monitors or metrics."""

    items: list[RequestRecord] = field(default_factory=list)

    def submit(self, record: RequestRecord) -> None:
        self.items.append(record)

    def observe(self, record: RequestRecord) -> None:
        self.items.append(record)


@dataclass
class Seen:
    """What the fake upstream received, for tests to assert on."""

    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    @property
    def last_headers(self) -> dict[str, str]:
        return self.requests[-1][1]

    @property
    def last_body(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.requests[-1][2])
        return body


def chat_answer(model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello world"},
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
    }


def sse_events(model: str, include_usage: bool) -> list[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if include_usage:
            out["usage"] = None
        return out

    chunks = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hello"}),
        chunk({"content": " world"}),
        chunk({}, "stop"),
    ]
    if include_usage:
        chunks.append(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": model,
                "choices": [],
                "usage": USAGE,
            }
        )
    events = [b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks]
    return [*events, b"data: [DONE]\n\n"]


def fake_upstream(seen: Seen) -> Starlette:
    """An OpenAI-compatible and KServe V2 server; the model name picks a failure to act out."""

    async def remember(request: Request) -> bytes:
        body = await request.body()
        seen.requests.append((request.url.path, dict(request.headers), body))
        return body

    async def failure(model: str) -> Response | None:
        if model == "fail-500":
            return Response(SECRET, 500, media_type="text/plain")
        if model == "fail-400":
            error = {
                "message": "max_tokens is too large",
                "type": "invalid_request_error",
                "param": "max_tokens",
                "code": None,
            }
            return JSONResponse({"error": error}, 400)
        if model == "bad-400":
            return Response("<html>" + SECRET + "</html>", 400, media_type="text/html")
        if model == "fail-401":
            return JSONResponse({"error": {"message": "bad upstream key " + SECRET}}, 401)
        if model == "not-json":
            return Response("OK", 200, media_type="text/plain")
        return None

    async def chat(request: Request) -> Response:
        body = json.loads(await remember(request))
        model = body.get("model", "")
        failed = await failure(model)
        if failed is not None:
            return failed
        if body.get("stream"):
            options = body.get("stream_options") or {}
            events = sse_events(model, bool(options.get("include_usage")))

            async def generate() -> AsyncIterator[bytes]:
                for event in events:
                    yield event
                    await asyncio.sleep(0)

            return StreamingResponse(generate(), media_type="text/event-stream")
        return Response(json.dumps(chat_answer(model)), media_type="application/json")

    async def completions(request: Request) -> Response:
        body = json.loads(await remember(request))
        answer = {
            "id": "cmpl-1",
            "object": "text_completion",
            "model": body["model"],
            "choices": [{"index": 0, "text": " there", "finish_reason": "stop"}],
            "usage": USAGE,
        }
        return JSONResponse(answer)

    async def embeddings(request: Request) -> Response:
        body = json.loads(await remember(request))
        failed = await failure(body.get("model", ""))
        if failed is not None:
            return failed
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": [0.25] * 64}
            for i in range(len(inputs))
        ]
        usage = {"prompt_tokens": 3 * len(inputs), "total_tokens": 3 * len(inputs)}
        return JSONResponse(
            {"object": "list", "data": data, "model": body["model"], "usage": usage}
        )

    async def models(request: Request) -> Response:
        await remember(request)
        data = [{"id": m, "object": "model", "created": 1, "owned_by": "me"} for m in MODELS]
        return JSONResponse({"object": "list", "data": data})

    async def infer(request: Request) -> Response:
        body = json.loads(await remember(request))
        name = request.path_params["name"]
        if name == "fail-500":
            return Response(SECRET, 500)
        if name == "bad-input":
            return JSONResponse({"error": "unexpected input shape"}, 400)
        outputs = [{**t, "name": "output0"} for t in body.get("inputs", [])]
        return JSONResponse({"model_name": name, "id": body.get("id", ""), "outputs": outputs})

    async def metadata(request: Request) -> Response:
        await remember(request)
        name = request.path_params["name"]
        return JSONResponse({"name": name, "platform": "fake", "inputs": [], "outputs": []})

    async def ready(request: Request) -> Response:
        return JSONResponse({"ready": True})

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/completions", completions, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/v1/models", models),
            Route("/v2/models/{name}/infer", infer, methods=["POST"]),
            Route("/v2/models/{name}", metadata),
            Route("/v2/health/ready", ready),
        ]
    )


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """`app` under uvicorn on a free port of 127.0.0.1, in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        else:
            raise RuntimeError("uvicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@contextmanager
def gateway(
    config: GatewayConfig | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    **stages: Any,
) -> Iterator[tuple[TestClient, Seen]]:
    """A TestClient on a gateway in front of the fake upstream (or `transport`)."""
    seen = Seen()
    app = create_app(
        config or GatewayConfig(upstream=UPSTREAM),
        keys=DictKeys(KEYS),
        transport=transport or httpx.ASGITransport(app=fake_upstream(seen)),
        **stages,
    )
    with TestClient(app) as client:
        yield client, seen


def chat(model: str = "llama-3-8b", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "Say hello"}], **extra}
