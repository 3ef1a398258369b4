"""An OpenAI-compatible chat client for red-teaming: rate limit, bounded concurrency, retries.

Every HTTP request, retries included, first takes a token from one shared bucket, so the
target never sees more than the rate the user set. Failures are classified so the runner can
record them and go on, or stop early when going on is pointless (a wrong key).
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import random
import time
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from garrison.errors import GarrisonError, UsageError
from garrison.llm.redteam.probes import ChatRequest, ChatResponse, ToolCall

if TYPE_CHECKING:
    import httpx

API_KEY_ENV = "GARRISON_REDTEAM_API_KEY"
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class TargetError(GarrisonError):
    """A request to the target failed; `kind` is unreachable, timeout, auth, malformed,
    server or client."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class AuthError(TargetError):
    """The target refused the key: every further request would fail the same way."""

    def __init__(self, message: str) -> None:
        super().__init__("auth", message)


@dataclass(frozen=True, slots=True)
class ClientConfig:
    base_url: str
    model: str
    api_key: str | None = None  # falls back to $GARRISON_REDTEAM_API_KEY
    rate: float | None = None  # requests per second, retries included; None: unlimited
    concurrency: int = 4
    timeout_s: float = 60.0
    max_retries: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 120.0
    temperature: float | None = 0.0
    max_tokens: int | None = 512

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise UsageError(f"target {self.base_url!r} must be an http:// or https:// URL")
        if not self.model:
            raise UsageError("a model name is required (--model)")
        if self.rate is not None and self.rate <= 0:
            raise UsageError("the rate must be a positive number of requests per second")
        if self.concurrency < 1:
            raise UsageError("concurrency must be at least 1")

    @property
    def endpoint(self) -> str:
        base = self.base_url.rstrip("/")
        if base.endswith("/chat/completions"):
            return base
        if base.endswith("/v1"):
            return base + "/chat/completions"
        return base + "/v1/chat/completions"

    def key(self) -> str | None:
        return self.api_key or os.environ.get(API_KEY_ENV) or None


class RateLimiter:
    """A token bucket of capacity one: requests are spaced at least 1/rate seconds apart,
    so no window of any length holds more than the rate allows."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with equal jitter: half fixed, half random, never above `cap`."""
    delay = min(cap, base * 2.0**attempt)
    return delay / 2 + rng.uniform(0, delay / 2)


def retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), if any."""
    value = str(headers.get("retry-after") or "")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class ChatClient:
    """Use as `async with ChatClient(config) as client: await client.complete(request)`."""

    def __init__(self, config: ClientConfig, seed: int | None = None) -> None:
        self.config = config
        self.requests_sent = 0
        self._rng = random.Random(seed)
        self._limiter = RateLimiter(config.rate)
        self._slots = asyncio.Semaphore(config.concurrency)
        self._http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> ChatClient:
        import httpx

        headers = {"content-type": "application/json"}
        key = self.config.key()
        if key:
            headers["authorization"] = f"Bearer {key}"
        self._http = httpx.AsyncClient(headers=headers, timeout=self.config.timeout_s)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def payload(self, request: ChatRequest) -> dict[str, Any]:
        body = request.body(self.config.model)
        if self.config.temperature is not None:
            body["temperature"] = self.config.temperature
        if self.config.max_tokens is not None:
            body["max_tokens"] = self.config.max_tokens
        return body

    async def complete(self, request: ChatRequest) -> ChatResponse:
        async with self._slots:
            return await self._with_retries(self.payload(request))

    async def _with_retries(self, body: dict[str, Any]) -> ChatResponse:
        cfg = self.config
        for attempt in range(cfg.max_retries + 1):
            last = attempt == cfg.max_retries
            try:
                return await self._send(body)
            except _Retry as retry:
                if last:
                    raise retry.error from None
                wait = backoff_delay(attempt, cfg.backoff_base_s, cfg.backoff_max_s, self._rng)
                if retry.after is not None:
                    if retry.after > cfg.max_retry_after_s:
                        raise TargetError(
                            retry.error.kind,
                            f"{retry.error} and asks to wait {retry.after:.0f} s; resume later",
                        ) from None
                    wait = max(wait, retry.after)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def _send(self, body: dict[str, Any]) -> ChatResponse:
        import httpx

        assert self._http is not None, "use ChatClient as an async context manager"
        await self._limiter.acquire()
        self.requests_sent += 1
        url = self.config.endpoint
        try:
            response = await self._http.post(url, json=body)
        except httpx.TimeoutException:
            raise _Retry(TargetError("timeout", f"{url} did not answer in time")) from None
        except httpx.TransportError as exc:
            raise _Retry(TargetError("unreachable", f"cannot reach {url}: {exc}")) from None
        status = response.status_code
        if status in (401, 403):
            raise AuthError(
                f"{url} refused the API key (HTTP {status}); set {API_KEY_ENV} or --api-key"
            )
        if status in RETRY_STATUSES:
            kind = "rate-limited" if status == 429 else "server"
            error = TargetError(kind, f"{url} answered HTTP {status}")
            raise _Retry(error, retry_after(response.headers))
        if status >= 400:
            raise TargetError("client", f"{url} answered HTTP {status}: {response.text[:200]}")
        return parse_completion(response.content, url)


class _Retry(Exception):
    def __init__(self, error: TargetError, after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.after = after


def parse_completion(raw: bytes, url: str = "the target") -> ChatResponse:
    """The first choice of a chat-completion body; anything else is a `malformed` error."""
    import json

    try:
        data = json.loads(raw)
        message = data["choices"][0]["message"]
        content = message.get("content") or ""
        calls = tuple(
            ToolCall(str(c["function"]["name"]), str(c["function"].get("arguments") or ""))
            for c in message.get("tool_calls") or ()
        )
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        snippet = raw[:120].decode("utf-8", "replace")
        raise TargetError(
            "malformed", f"{url} sent an answer that is not a chat completion: {snippet!r}"
        ) from None
    if not isinstance(content, str):
        raise TargetError("malformed", f"{url} sent non-text message content")
    return ChatResponse(content=content, tool_calls=calls)
