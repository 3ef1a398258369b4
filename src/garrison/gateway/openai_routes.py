"""The OpenAI-compatible routes: chat and text completions (plain or streamed), embeddings,
and the model list filtered to what the key may use."""

from __future__ import annotations

from typing import Any

from starlette.types import Receive, Scope, Send

from garrison.gateway import bounds
from garrison.gateway.handling import Call, Gateway, dumps, json_object, redaction_reason
from garrison.gateway.keys import ApiKey
from garrison.gateway.proxy import RelayOutcome, SSETap, StreamRelay
from garrison.gateway.record import BLOCK, ERROR, REDACT
from garrison.gateway.shape import check_shape
from garrison.gateway.stages import StreamFilter
from garrison.gateway.texts import completion_text, estimated_tokens, prompt_text, usage_near_end

# Route name (also the scope a key needs) -> path under the upstream's /v1.
PATHS = {"chat": "/chat/completions", "completions": "/completions", "embeddings": "/embeddings"}


async def handle_generate(
    gateway: Gateway, route: str, scope: Scope, receive: Receive, send: Send
) -> None:
    """POST /v1/chat/completions, /v1/completions and /v1/embeddings."""
    call = gateway.begin(route)

    async def steps() -> None:
        cfg = gateway.config
        key = gateway.authorize(scope, call, route)
        raw = await bounds.read_body(receive, cfg.max_body_bytes, call.headers.content_length)
        request = bounds.parse_object(raw, cfg.max_json_depth)
        model = request.get("model")
        gateway.check_model(call, key, model if isinstance(model, str) else None)
        check_shape(route, request)
        call.prompt_text = prompt_text(route, request)
        await gateway.admit(call, key, estimated_tokens(call.prompt_text, request))
        body = gateway.check_request(call, key, request)
        unchanged = raw if body is request else None
        if route != "embeddings" and body.get("stream") is True:
            await _stream(gateway, call, key, body, unchanged, request, scope, receive, send)
        else:
            await _complete(gateway, call, body, unchanged, request, send)

    await gateway.run(call, send, steps)


async def _complete(
    gateway: Gateway,
    call: Call,
    body: dict[str, Any],
    raw: bytes | None,
    request: dict[str, Any],
    send: Send,
) -> None:
    url = gateway.upstream.openai_base + PATHS[call.route]
    response = await gateway.forward(call, "POST", url, raw if raw is not None else dumps(body))
    data = response.content
    if call.route == "embeddings":
        call.count(usage_near_end(data))  # vectors are large: read only the usage at the end
    else:
        answer = json_object(data, call.request_id)
        call.completion_text = completion_text(answer)
        call.count(answer.get("usage"))
        checked = gateway.check_answer(call, answer, request)
        if checked is not answer:
            data = dumps(checked)
    await gateway.respond(call, send, response.status_code, data)


async def _stream(
    gateway: Gateway,
    call: Call,
    key: ApiKey,
    body: dict[str, Any],
    raw: bytes | None,
    request: dict[str, Any],
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    options = body.get("stream_options")
    wants_usage = isinstance(options, dict) and options.get("include_usage") is True
    if not wants_usage and (options is None or isinstance(options, dict)):
        # Ask for the usage event so quotas see real counts; the tap drops it again.
        body = {**body, "stream_options": {**(options or {}), "include_usage": True}}
        raw = None
    url = gateway.upstream.openai_base + PATHS[call.route]
    content = raw if raw is not None else dumps(body)
    response = await gateway.forward(call, "POST", url, content, stream=True)
    filt = gateway.stream_filter(call, key, request)
    tap = SSETap(drop_usage_event=not wants_usage, collect_text=filt is None)
    content_type = response.headers.get("content-type", "text/event-stream")
    headers = [
        (b"content-type", content_type.encode("latin-1")),
        (b"cache-control", b"no-cache"),
        *call.response_headers()[1:],
    ]

    async def done(outcome: RelayOutcome) -> None:
        _stream_done(call, tap, filt, outcome)
        await gateway.finish(call, 200)

    call.responded = True
    relay = StreamRelay(response, headers, _Pipe(tap, filt), done, call.request_id)
    await relay(scope, receive, send)


def _stream_done(call: Call, tap: SSETap, filt: StreamFilter | None, outcome: RelayOutcome) -> None:
    if filt is not None:
        call.completion_text = filt.text
        call.guards += filt.verdicts
        if filt.cut:
            call.mark(BLOCK, filt.reason or "guard.output")
        elif any(v.verdict == REDACT for v in filt.verdicts):
            call.mark(REDACT, redaction_reason(filt.verdicts))
    else:
        call.completion_text = tap.text
    if outcome.failed:
        call.mark(ERROR, "upstream")
    elif outcome.disconnected and not call.reason:
        call.reason = "disconnected"
    call.count({"prompt_tokens": tap.prompt_tokens, "completion_tokens": tap.completion_tokens})


class _Pipe:
    """The tap reads usage from the upstream's bytes; the content filter sees what remains."""

    __slots__ = ("filt", "tap")

    def __init__(self, tap: SSETap, filt: StreamFilter | None) -> None:
        self.tap = tap
        self.filt = filt

    def feed(self, chunk: bytes) -> bytes:
        out = self.tap.feed(chunk)
        return self.filt.feed(out) if self.filt is not None and out else out

    def close(self) -> bytes:
        out = self.tap.close()
        if self.filt is None:
            return out
        return (self.filt.feed(out) if out else b"") + self.filt.close()

    @property
    def cut(self) -> bool:
        return self.filt is not None and self.filt.cut


async def handle_models(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """GET /v1/models: the upstream's list, less the models this key may not use."""
    call = gateway.begin("models")

    async def steps() -> None:
        key = gateway.authorize(scope, call, "models")
        url = gateway.upstream.openai_base + "/models"
        listing = json_object(
            (await gateway.forward(call, "GET", url, None)).content, call.request_id
        )
        models = listing.get("data")
        if isinstance(models, list):
            listing["data"] = [
                m
                for m in models
                if isinstance(m, dict)
                and isinstance(m.get("id"), str)
                and key.allows_model(m["id"])
                and gateway.admitted(m["id"])
            ]
        await gateway.respond(call, send, 200, dumps(listing))

    await gateway.run(call, send, steps)
