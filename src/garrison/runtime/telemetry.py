"""OpenTelemetry: one span per gateway request, built from its RequestRecord.

The span is made once the request is over (start = arrival, end = arrival + latency), so the
request path pays nothing while the request runs. OpenTelemetry is imported only when
enabled; exporters batch on their own thread.
"""

from __future__ import annotations

import importlib
import os
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from garrison.errors import MissingExtraError
from garrison.gateway.record import ERROR, RequestRecord

if TYPE_CHECKING:
    from garrison.runtime.config import MonitorConfig

TRACER_NAME = "garrison.gateway"
SERVICE_NAME = "garrison-gateway"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Telemetry:
    """Spans to `tracer_provider`, or to the provider the process set up globally."""

    def __init__(self, tracer_provider: Any | None = None) -> None:
        try:
            from opentelemetry import trace
            from opentelemetry.trace import SpanKind, Status, StatusCode
        except ModuleNotFoundError:
            raise MissingExtraError("opentelemetry", "gateway") from None
        provider = tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
        self._provider: Any = provider
        self._tracer = provider.get_tracer(TRACER_NAME)
        self._server = SpanKind.SERVER
        self._error = Status(StatusCode.ERROR)
        self._owned = False

    @classmethod
    def from_config(cls, config: MonitorConfig) -> Telemetry | None:
        """None when `otel` is off; otherwise spans to the configured exporter."""
        if not config.otel:
            return None
        if config.otel_exporter == "global":
            return cls()
        telemetry = cls(_sdk_provider(config.otel_exporter))
        telemetry._owned = True
        return telemetry

    def span(self, record: RequestRecord) -> None:
        start_ns = _start_ns(record)
        attributes: dict[str, str | int | float] = {
            "garrison.request_id": record.request_id,
            "garrison.route": record.route,
            "garrison.decision": record.decision,
            "http.response.status_code": record.status,
            "gen_ai.usage.input_tokens": record.prompt_tokens,
            "gen_ai.usage.output_tokens": record.completion_tokens,
        }
        if record.reason:
            attributes["garrison.reason"] = record.reason
        if record.key_id is not None:
            attributes["garrison.key_id"] = record.key_id
        if record.model is not None:
            attributes["gen_ai.request.model"] = record.model
        if record.upstream_ms is not None:
            attributes["garrison.upstream_ms"] = record.upstream_ms
        span = self._tracer.start_span(
            f"gateway {record.route}", kind=self._server, attributes=attributes, start_time=start_ns
        )
        for verdict in record.guards:
            if verdict.verdict != "pass":
                span.add_event(
                    "guard",
                    {
                        "guard": verdict.name,
                        "stage": verdict.stage,
                        "verdict": verdict.verdict,
                        "score": verdict.score,
                    },
                    timestamp=start_ns,
                )
        if record.decision == ERROR or record.status >= 500:
            span.set_status(self._error)
        span.end(end_time=start_ns + int(record.latency_ms * 1_000_000))

    def shutdown(self) -> None:
        """Flush and stop the exporter this object set up (not a global one)."""
        if self._owned:
            self._provider.shutdown()


def _start_ns(record: RequestRecord) -> int:
    try:
        arrived = datetime.fromisoformat(record.ts)
        if arrived.tzinfo is None:
            arrived = arrived.replace(tzinfo=UTC)
        # Integer arithmetic: a float timestamp loses the last digits of nanoseconds.
        return (arrived - _EPOCH) // timedelta(microseconds=1) * 1_000
    except ValueError:
        return time.time_ns() - int(record.latency_ms * 1_000_000)


def _sdk_provider(exporter: str) -> Any:
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ModuleNotFoundError:
        raise MissingExtraError("opentelemetry-sdk", "gateway") from None
    if exporter == "console":
        span_exporter: Any = ConsoleSpanExporter()
    else:
        try:
            otlp = importlib.import_module("opentelemetry.exporter.otlp.proto.http.trace_exporter")
        except ModuleNotFoundError:
            raise MissingExtraError("opentelemetry-exporter-otlp-proto-http", "gateway") from None
        span_exporter = otlp.OTLPSpanExporter()  # OTEL_EXPORTER_OTLP_* variables configure it
    # Resource.create reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME; ours is the default.
    named = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": SERVICE_NAME}
    provider = TracerProvider(resource=Resource.create(named))
    provider.add_span_processor(BatchSpanProcessor(span_exporter))
    return provider
