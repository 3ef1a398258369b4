"""Forwarding to the upstream model server: one pooled transport, failures mapped, SSE relayed.

Every failure becomes a GatewayError with a fixed message and the request id; the
exception and the upstream's 5xx body go to the log, never to the client.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
import httpx
from starlette.types import Receive, Scope, Send

from garrison.gateway import errors
from garrison.gateway.config import GatewayConfig
from garrison.gateway.connections import UpstreamTransport

logger = logging.getLogger(__name__)

_MAX_ERROR_BODY = 64 * 1024  # of an upstream's error answer: enough for any real message
_MAX_ANSWER = 256 * 1024 * 1024  # of a successful answer (large embedding batches)
_MAX_EVENT = 1024 * 1024  # an SSE event longer than this is passed on unread
_EVENT_END = re.compile(rb"\r?\n\r?\n")
_DONE = b"[DONE]"


class Upstream:
    """The OpenAI and KServe servers behind the gateway, reached through one pooled transport."""

    def __init__(
        self, config: GatewayConfig, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        if config.upstream is None:
            raise ValueError("the gateway needs an upstream URL")
        self.openai_base = config.upstream
        self.kserve_base = config.kserve_base or config.upstream
        self._config = config
        self._given = transport
        self._transport: httpx.AsyncBaseTransport | None = None
        # Identity encoding: the gateway reads the bytes it relays, and the hop is usually local.
        self._headers = {"content-type": "application/json", "accept-encoding": "identity"}
        if config.upstream_api_key is not None:
            self._headers["authorization"] = f"Bearer {config.upstream_api_key.get_secret_value()}"

    @property
    def transport(self) -> httpx.AsyncBaseTransport:
        if self._transport is None:
            c = self._config
            self._transport = self._given or UpstreamTransport(
                max_connections=c.max_connections,
                connect_timeout_s=c.connect_timeout_s,
                read_timeout_s=c.read_timeout_s,
            )
        return self._transport

    async def aclose(self) -> None:
        if self._transport is not None:
            transport, self._transport = self._transport, None
            await transport.aclose()

    async def request(
        self,
        method: str,
        url: str,
        request_id: str,
        *,
        content: bytes | None = None,
        accept: str | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """The upstream's 2xx answer (unread when `stream`), or the GatewayError it amounts to."""
        headers = {**self._headers, "x-request-id": request_id}
        if accept and accept.isprintable():
            headers["accept"] = accept
        try:
            request = httpx.Request(method, _url(url), headers=headers, content=content)
            response = await self.transport.handle_async_request(request)
            ok = 200 <= response.status_code < 300
            if ok and stream:
                return response
            try:
                body = await _read_bounded(response, _MAX_ANSWER if ok else _MAX_ERROR_BODY)
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            logger.warning("upstream timeout: request=%s %s", request_id, type(exc).__name__)
            raise errors.upstream_timeout(request_id) from None
        except httpx.HTTPError as exc:
            logger.warning("upstream unreachable: request=%s %s", request_id, type(exc).__name__)
            raise errors.upstream_unavailable(request_id) from None
        if ok and body is not None:
            return httpx.Response(
                response.status_code, headers=response.headers, content=body, request=request
            )
        status = response.status_code
        if ok or not 400 <= status < 500:
            logger.warning("upstream error: request=%s status=%d", request_id, status)
            raise errors.upstream_failed(request_id)
        if status in (401, 403, 407):
            logger.error(
                "upstream refused the gateway's credentials: request=%s status=%d",
                request_id,
                status,
            )
        raise errors.upstream_client_error(status, body or b"", request_id)


@functools.lru_cache(maxsize=1024)
def _url(url: str) -> httpx.URL:
    return httpx.URL(url)  # parsed once per distinct URL, not per request


async def _read_bounded(response: httpx.Response, limit: int) -> bytes | None:
    """The body, or None when it is longer than `limit`."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class SSETap:
    """Reads a streamed answer event by event: token usage, completion text.

    Whole events go out as they complete, byte for byte, except the usage-only event the
    gateway asked for on the client's behalf, which is dropped when `drop_usage_event`.
    """

    def __init__(self, *, drop_usage_event: bool, collect_text: bool) -> None:
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None
        self._drop_usage = drop_usage_event
        self._collect = collect_text
        self._parts: list[str] = []
        self._buffer = b""

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def feed(self, chunk: bytes) -> bytes:
        buffer = self._buffer + chunk if self._buffer else chunk
        out: list[bytes] = []
        start = 0
        for end in _EVENT_END.finditer(buffer):
            event = buffer[start : end.end()]
            start = end.end()
            if self._keep(event):
                out.append(event)
        self._buffer = buffer[start:]
        if len(self._buffer) > _MAX_EVENT:
            out.append(self._buffer)
            self._buffer = b""
        return out[0] if len(out) == 1 else b"".join(out)

    def close(self) -> bytes:
        rest, self._buffer = self._buffer, b""
        return rest if not rest.strip() or self._keep(rest) else b""

    def _keep(self, event: bytes) -> bool:
        data = _event_data(event)
        if data is None or data == _DONE:
            return True
        try:
            chunk = json.loads(data)
        except (ValueError, RecursionError):
            return True
        if not isinstance(chunk, dict):
            return True
        usage = chunk.get("usage")
        choices = chunk.get("choices")
        if isinstance(usage, dict):
            self.prompt_tokens = _count(usage.get("prompt_tokens"), self.prompt_tokens)
            self.completion_tokens = _count(usage.get("completion_tokens"), self.completion_tokens)
            if self._drop_usage and not choices:
                return False
        if self._collect and isinstance(choices, list):
            self._parts.extend(_choice_texts(choices))
        return True


def _event_data(event: bytes) -> bytes | None:
    lines = [line[5:].strip() for line in event.splitlines() if line.startswith(b"data:")]
    if not lines:
        return None
    return lines[0] if len(lines) == 1 else b"\n".join(lines)


def _count(value: Any, default: int | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _choice_texts(choices: list[Any]) -> list[str]:
    out = []
    for choice in choices:
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta")
        text = delta.get("content") if isinstance(delta, dict) else choice.get("text")
        if isinstance(text, str):
            out.append(text)
    return out


class Pipe(Protocol):
    """What a relay sends the upstream's bytes through (the tap, then the content filter)."""

    def feed(self, chunk: bytes) -> bytes: ...
    def close(self) -> bytes: ...
    @property
    def cut(self) -> bool: ...


@dataclass(slots=True)
class RelayOutcome:
    disconnected: bool = False  # the client went away before the end
    failed: bool = False  # the upstream (or a filter) failed part way
    cut: bool = False  # the filter ended the stream


class StreamRelay:
    """An ASGI response relaying an upstream event stream as its bytes arrive.

    It stops reading the upstream (which aborts the generation there) when the client
    disconnects or the pipe cuts the stream, and calls `on_done` exactly once either way.
    """

    def __init__(
        self,
        response: httpx.Response,
        headers: list[tuple[bytes, bytes]],
        pipe: Pipe,
        on_done: Callable[[RelayOutcome], Awaitable[None]],
        request_id: str,
    ) -> None:
        self._response = response
        self._headers = headers
        self._pipe = pipe
        self._on_done = on_done
        self._request_id = request_id
        self.outcome = RelayOutcome()
        self._ended = False  # the last body was sent: a disconnect now is the normal end

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._watch, receive, group.cancel_scope)
                await self._relay(send)
                group.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await self._response.aclose()
                await self._on_done(self.outcome)

    async def _watch(self, receive: Receive, scope: anyio.CancelScope) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        if not self._ended:
            self.outcome.disconnected = True
            scope.cancel()

    async def _relay(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self._headers})
        pipe = self._pipe
        try:
            async for chunk in self._response.aiter_bytes():
                out = pipe.feed(chunk)
                if out:
                    await send({"type": "http.response.body", "body": out, "more_body": True})
                if pipe.cut:
                    self.outcome.cut = True
                    break
            tail = pipe.close()
        except httpx.HTTPError as exc:
            logger.warning(
                "upstream stream broke: request=%s %s", self._request_id, type(exc).__name__
            )
            self.outcome.failed = True
            tail = b""
        except Exception:
            logger.exception("stream relay failed: request=%s", self._request_id)
            self.outcome.failed = True
            tail = b""
        if self.outcome.failed:
            error = errors.upstream_failed(self._request_id)
            tail += b"data: " + error.body() + b"\n\n"
        self._ended = True
        await send({"type": "http.response.body", "body": tail, "more_body": False})
