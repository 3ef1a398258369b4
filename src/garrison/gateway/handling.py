"""The steps every gateway request shares: key, scope, model, quotas, content policy, record.

A route handler (`openai_routes`, `kserve_routes`) runs its steps inside `Gateway.run`, which
turns any GatewayError into its OpenAI-shaped answer and any other exception into a generic
500, and always ends with `finish`: the quota charge and one RequestRecord to the observers.
"""

from __future__ import annotations

import inspect
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.requests import ClientDisconnect
from starlette.types import Scope, Send

from garrison.errors import GarrisonError
from garrison.gateway import bounds, errors
from garrison.gateway.config import GatewayConfig
from garrison.gateway.errors import GatewayError
from garrison.gateway.keys import ApiKey, Authenticator
from garrison.gateway.proxy import Upstream
from garrison.gateway.record import ALLOW, BLOCK, ERROR, REDACT, GuardVerdict, RequestRecord
from garrison.gateway.stages import (
    Approvals,
    ContentPolicy,
    Metrics,
    Observer,
    Quotas,
    RecordSink,
    StageResult,
    StreamFilter,
)

logger = logging.getLogger(__name__)

JSON_TYPE = (b"content-type", b"application/json")
TOOL_POLICY = "tool_policy"  # the verdict name and record reason of the tool-call policy


def new_request_id() -> str:
    return f"req_{secrets.token_hex(12)}"


@dataclass(slots=True)
class Call:
    """What one request has gathered so far; `Gateway.finish` turns it into its record."""

    request_id: str
    route: str
    started: float
    ts: str
    headers: bounds.RequestHeaders = field(default_factory=bounds.RequestHeaders)
    key: ApiKey | None = None
    model: str | None = None
    prompt_text: str = ""
    completion_text: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    upstream_ms: float | None = None
    guards: tuple[GuardVerdict, ...] = ()
    decision: str = ALLOW
    reason: str = ""
    vault: Any = None  # the content policy's placeholders, restored in the answer
    quota_headers: dict[str, str] = field(default_factory=dict)
    responded: bool = False

    def response_headers(self, extra: dict[str, str] | None = None) -> list[tuple[bytes, bytes]]:
        out = [JSON_TYPE, (b"x-request-id", self.request_id.encode())]
        for k, v in (extra if extra is not None else self.quota_headers).items():
            out.append((k.encode("latin-1"), v.encode("latin-1")))
        return out

    def count(self, usage: Any) -> None:
        """Token counts from the upstream's usage, else estimated at four characters a token."""
        usage = usage if isinstance(usage, dict) else {}
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        self.prompt_tokens = prompt if _is_count(prompt) else len(self.prompt_text) // 4
        self.completion_tokens = (
            completion if _is_count(completion) else len(self.completion_text) // 4
        )

    def mark(self, decision: str, reason: str) -> None:
        """Record a stage's outcome; a block or an error outranks a redaction."""
        if decision == REDACT and self.decision != ALLOW:
            return
        self.decision, self.reason = decision, reason or self.reason


class Gateway:
    """The configuration, the upstream and the optional stages, and the steps that use them."""

    def __init__(
        self,
        config: GatewayConfig,
        keys: Authenticator,
        *,
        quotas: Quotas | None = None,
        content: ContentPolicy | None = None,
        recorder: RecordSink | None = None,
        monitors: Observer | None = None,
        metrics: Metrics | None = None,
        approvals: Approvals | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if config.upstream is None:
            raise GarrisonError(
                "the gateway needs an upstream: pass --upstream or set upstream in [gateway]"
            )
        if config.require_approved and approvals is None:
            raise GarrisonError("require_approved needs the approved-model registry")
        self.config = config
        self.keys = keys
        self.quotas = quotas
        self.content = content
        self.recorder = recorder
        self.monitors = monitors
        self.metrics = metrics
        self.approvals = approvals
        self.upstream = Upstream(config, transport)
        self._stages = [
            s
            for s in (keys, quotas, content, recorder, monitors, metrics, approvals)
            if s is not None
        ]

    async def start(self) -> None:
        """Start the stages that have a `start` (the recorder's writer, for one)."""
        for stage in self._stages:
            await _call_if_present(stage, "start")
        if self.quotas is not None and not await _answers(self.quotas):
            # Requests will be refused (503) until it answers: say so now, not per request.
            logger.warning(
                "quota storage %s does not answer; metered keys get 503 until it does",
                getattr(self.quotas, "display_uri", "?"),
            )

    async def aclose(self) -> None:
        """Close the upstream client, then each stage (`aclose` or `close`), last first."""
        await self.upstream.aclose()
        for stage in reversed(self._stages):
            try:
                if not await _call_if_present(stage, "aclose"):
                    await _call_if_present(stage, "close")
            except Exception:
                logger.exception("closing %s failed", type(stage).__name__)

    # -- the steps -----------------------------------------------------------------------

    def begin(self, route: str) -> Call:
        return Call(
            request_id=new_request_id(),
            route=route,
            started=time.perf_counter(),
            ts=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        )

    async def run(self, call: Call, send: Send, steps: Callable[[], Awaitable[None]]) -> None:
        """Run a route's steps; whatever happens, the client gets one answer and one record."""
        try:
            await steps()
        except GatewayError as error:
            await self.refuse(call, error, send)
        except ClientDisconnect:
            call.mark(ERROR, "disconnected")
            await self.finish(call, 499)
        except Exception:
            logger.exception("gateway error: request=%s", call.request_id)
            await self.refuse(call, errors.internal_error(call.request_id), send)

    def authorize(self, scope: Scope, call: Call, scope_name: str) -> ApiKey:
        """Header bounds, the declared body size, the key (401) and its scope (403)."""
        cfg = self.config
        headers = call.headers = bounds.read_headers(scope["headers"], cfg.max_header_bytes)
        if headers.content_length is not None and headers.content_length > cfg.max_body_bytes:
            raise errors.body_too_large(cfg.max_body_bytes)
        token = bounds.bearer_token(headers)
        if token is None:
            raise errors.missing_key()
        key = self.keys.authenticate(token)
        if key is None:
            raise errors.invalid_key()
        call.key = key
        if scope_name not in key.scopes:
            raise errors.scope_denied(scope_name)
        return key

    def admitted(self, model: str | None) -> bool:
        """With require_approved, only configured models whose digests are approved."""
        if not self.config.require_approved:
            return True
        digest = self.config.models.get(model) if model is not None else None
        approvals = self.approvals
        return digest is not None and approvals is not None and approvals.is_approved(digest)

    def check_model(self, call: Call, key: ApiKey, model: str | None) -> None:
        call.model = model
        if not key.allows_model(model):
            raise errors.model_denied(model)
        if not self.admitted(model):
            raise errors.model_not_approved(model)

    async def admit(self, call: Call, key: ApiKey, estimated_tokens: int) -> None:
        if self.quotas is None:
            return
        for limit, what in ((key.tpm, "tokens-per-minute"), (key.daily_tokens, "daily token")):
            if limit is not None and estimated_tokens > limit:
                raise errors.never_fits(estimated_tokens, limit, what)
        try:
            decision = await self.quotas.admit(key, estimated_tokens)
        except GarrisonError as exc:  # the quota storage is down: refuse rather than go unmetered
            logger.error("quotas unavailable: request=%s %s", call.request_id, exc)
            raise errors.quota_unavailable(call.request_id) from None
        if not decision.allowed:
            raise errors.quota_exceeded(decision.reason, decision.retry_after_s, decision.headers)
        call.quota_headers = decision.headers

    def check_request(self, call: Call, key: ApiKey, body: dict[str, Any]) -> dict[str, Any]:
        """The body to forward: the client's, or the content policy's rewrite of it."""
        if self.content is None:
            return body
        result = self.content.check_request(call.route, body, key)
        call.guards += result.verdicts
        call.vault = result.vault
        return _apply(call, result, "input")

    def check_answer(
        self, call: Call, answer: dict[str, Any], request: dict[str, Any]
    ) -> dict[str, Any]:
        if self.content is None or call.key is None:
            return answer
        result = self.content.check_response(
            call.route, answer, call.key, request=request, vault=call.vault
        )
        call.guards += result.verdicts
        return _apply(call, result, "output")

    def stream_filter(
        self, call: Call, key: ApiKey, request: dict[str, Any]
    ) -> StreamFilter | None:
        """The content policy's filter for a streamed answer; None when it has nothing to do.

        With output guards off, nothing to restore and no tools offered, the filter would
        only re-parse every event (several microseconds each) to find tool calls the client
        never offered and so cannot run: the fast path skips it.
        """
        content = self.content
        if content is None:
            return None
        if (
            call.vault is None
            and "tools" not in request
            and "functions" not in request
            and content.mode(call.route, "output", key) == "off"
        ):
            return None
        return content.stream_filter(call.route, key, request=request, vault=call.vault)

    async def forward(
        self, call: Call, method: str, url: str, content: bytes | None, *, stream: bool = False
    ) -> httpx.Response:
        started = time.perf_counter()
        try:
            return await self.upstream.request(
                method,
                url,
                call.request_id,
                content=content,
                accept=call.headers.accept,
                stream=stream,
            )
        finally:
            call.upstream_ms = (time.perf_counter() - started) * 1000.0

    async def respond(self, call: Call, send: Send, status: int, body: bytes) -> None:
        call.responded = True
        await send_body(send, status, body, call.response_headers())
        await self.finish(call, status)

    async def refuse(self, call: Call, error: GatewayError, send: Send) -> None:
        call.mark(error.decision, error.reason)
        if not call.responded:
            call.responded = True
            await send_body(send, error.status, error.body(), call.response_headers(error.headers))
        await self.finish(call, error.status)

    async def finish(self, call: Call, status: int) -> None:
        """Charge what the upstream used and hand the record to every observer."""
        if self.quotas is not None and call.key is not None and call.upstream_ms is not None:
            try:
                await self.quotas.charge(call.key, call.prompt_tokens + call.completion_tokens)
            except Exception:
                logger.warning("quota charge failed: request=%s", call.request_id, exc_info=True)
        if self.recorder is None and self.monitors is None and self.metrics is None:
            return
        record = _record(call, status)
        if self.recorder is not None:
            _observe(self.recorder.submit, record)
        if self.monitors is not None:
            _observe(self.monitors.observe, record)
        if self.metrics is not None:
            _observe(self.metrics.observe, record)


def _record(call: Call, status: int) -> RequestRecord:
    key = call.key
    return RequestRecord(
        request_id=call.request_id,
        ts=call.ts,
        route=call.route,
        status=status,
        decision=call.decision,
        reason=call.reason,
        key_id=key.id if key is not None else None,
        owner=key.owner if key is not None else None,
        model=call.model,
        prompt_tokens=call.prompt_tokens,
        completion_tokens=call.completion_tokens,
        latency_ms=(time.perf_counter() - call.started) * 1000.0,
        upstream_ms=call.upstream_ms,
        guards=call.guards,
        prompt_text=call.prompt_text,
        completion_text=call.completion_text,
    )


def _apply(call: Call, result: StageResult, stage: str) -> dict[str, Any]:
    if result.action == BLOCK:
        raise errors.content_blocked(result.reason, result.message, stage)
    if result.action == REDACT:
        call.mark(REDACT, redaction_reason(result.verdicts))
    return result.body


def redaction_reason(verdicts: tuple[GuardVerdict, ...]) -> str:
    """ "tool_policy" when calls or tools were stripped, else "" (text was redacted)."""
    stripped = any(v.name == TOOL_POLICY and v.verdict != "pass" for v in verdicts)
    return TOOL_POLICY if stripped else ""


def _observe(observe: Callable[[RequestRecord], None], record: RequestRecord) -> None:
    try:
        observe(record)
    except Exception:  # one broken observer must not fail the request or starve the others
        logger.exception("observer failed: request=%s", record.request_id)


async def _answers(quotas: Any) -> bool:
    check = getattr(quotas, "check", None)
    if check is None:
        return True
    try:
        return bool(await check())
    except Exception:
        return False


async def _call_if_present(stage: object, name: str) -> bool:
    method = getattr(stage, name, None)
    if method is None or not callable(method):
        return False
    result = method()
    if inspect.isawaitable(result):
        await result
    return True


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def json_object(data: bytes, request_id: str) -> dict[str, Any]:
    """An upstream's 2xx answer as a JSON object; anything else is the upstream failing."""
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        logger.warning("upstream answer is not a JSON object: request=%s", request_id)
        raise errors.upstream_failed(request_id)
    return value


async def send_body(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
