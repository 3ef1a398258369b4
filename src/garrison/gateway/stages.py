"""The interfaces of the optional stages the gateway composes (quotas, guards, audit, monitors).

The app depends on these protocols only, so each stage can be left out, replaced in a test,
or implemented by another module without the app importing it.
"""

from __future__ import annotations

from typing import Any, Protocol

from garrison.gateway.keys import ApiKey, Authenticator
from garrison.gateway.record import GuardVerdict, RequestRecord

__all__ = [
    "Approvals",
    "Authenticator",
    "ContentPolicy",
    "Metrics",
    "Observer",
    "QuotaDecision",
    "Quotas",
    "RecordSink",
    "StageResult",
    "StreamFilter",
]


class QuotaDecision(Protocol):
    @property
    def allowed(self) -> bool: ...
    @property
    def reason(self) -> str: ...  # "", "quota.rpm", "quota.tpm" or "quota.daily"
    @property
    def retry_after_s(self) -> float: ...
    @property
    def headers(self) -> dict[str, str]: ...


class Quotas(Protocol):
    async def admit(self, key: ApiKey, estimated_tokens: int) -> QuotaDecision: ...
    async def charge(self, key: ApiKey, tokens: int) -> None: ...


class StageResult(Protocol):
    @property
    def action(self) -> str: ...  # "allow" | "block" | "redact"
    @property
    def body(self) -> dict[str, Any]: ...  # a new object when rewritten
    @property
    def verdicts(self) -> tuple[GuardVerdict, ...]: ...
    @property
    def reason(self) -> str: ...
    @property
    def message(self) -> str: ...  # safe to show the client
    @property
    def vault(self) -> Any: ...  # placeholders of redacted input, restored in the answer


class StreamFilter(Protocol):
    def feed(self, chunk: bytes) -> bytes: ...
    def close(self) -> bytes: ...
    @property
    def verdicts(self) -> tuple[GuardVerdict, ...]: ...
    @property
    def cut(self) -> bool: ...
    @property
    def text(self) -> str: ...
    @property
    def reason(self) -> str: ...  # why it cut: "guard.output", "tool_policy", "stream.limit"


class ContentPolicy(Protocol):
    """`request` is the client's request body, `vault` the request check's `vault`."""

    def mode(self, route: str, stage: str, key: ApiKey | None) -> str: ...  # "off": no guards
    def check_request(self, route: str, body: dict[str, Any], key: ApiKey) -> StageResult: ...
    def check_response(
        self,
        route: str,
        body: dict[str, Any],
        key: ApiKey,
        *,
        request: dict[str, Any] | None = None,
        vault: Any = None,
    ) -> StageResult: ...
    def stream_filter(
        self,
        route: str,
        key: ApiKey,
        *,
        request: dict[str, Any] | None = None,
        vault: Any = None,
    ) -> StreamFilter: ...


class RecordSink(Protocol):
    def submit(self, record: RequestRecord) -> None: ...


class Observer(Protocol):
    """Monitors and metrics: called once per request, must return quickly."""

    def observe(self, record: RequestRecord) -> None: ...


class Metrics(Observer, Protocol):
    def render(self) -> tuple[bytes, str]: ...  # the exposition and its content type


class Approvals(Protocol):
    def is_approved(self, digest: str) -> bool: ...
