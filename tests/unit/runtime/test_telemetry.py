"""One OpenTelemetry span per request, timed from the record."""

from __future__ import annotations

import builtins
import importlib
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from garrison.errors import MissingExtraError
from garrison.gateway.record import BLOCK, ERROR, GuardVerdict
from garrison.runtime.config import MonitorConfig
from garrison.runtime.telemetry import Telemetry
from tests.unit.runtime.traffic import record


@pytest.fixture
def exported() -> tuple[Telemetry, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Telemetry(provider), exporter


def test_a_span_describes_the_request(exported: tuple[Telemetry, InMemorySpanExporter]) -> None:
    telemetry, exporter = exported
    guard = GuardVerdict("injection", "input", "block", 0.93)
    telemetry.span(
        record(
            "secret prompt",
            model="gpt-4o-mini",
            decision=BLOCK,
            status=400,
            reason="guard.input",
            latency_ms=2.5,
            prompt_tokens=12,
            guards=(guard, GuardVerdict("pii", "input", "pass", 0.0)),
        )
    )
    (span,) = exporter.get_finished_spans()
    assert span.name == "gateway chat" and span.kind is SpanKind.SERVER
    attributes = dict(span.attributes or {})
    assert attributes["garrison.key_id"] == "k1"
    assert attributes["garrison.decision"] == "block"
    assert attributes["garrison.reason"] == "guard.input"
    assert attributes["http.response.status_code"] == 400
    assert attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert attributes["gen_ai.usage.input_tokens"] == 12
    assert "secret prompt" not in str(attributes)
    assert span.start_time == 1_735_787_045_678_000_000  # the record's arrival time
    assert span.end_time is not None and span.end_time - span.start_time == 2_500_000
    assert [dict(e.attributes or {})["guard"] for e in span.events] == ["injection"]
    assert span.status.status_code is StatusCode.UNSET


def test_failures_mark_the_span_as_error(exported: tuple[Telemetry, InMemorySpanExporter]) -> None:
    telemetry, exporter = exported
    telemetry.span(record(decision=ERROR, status=502, reason="upstream", upstream_ms=30.0))
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {})["garrison.upstream_ms"] == 30.0


def test_off_by_default() -> None:
    assert Telemetry.from_config(MonitorConfig()) is None


def test_the_console_exporter_gets_its_own_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    telemetry = Telemetry.from_config(MonitorConfig(otel=True, otel_exporter="console"))
    assert telemetry is not None
    provider = telemetry._provider
    assert isinstance(provider, TracerProvider)
    assert provider.resource.attributes["service.name"] == "garrison-gateway"
    telemetry.span(record(key_id="k-console"))
    telemetry.shutdown()  # flushes the batch, then stops it


def test_a_missing_exporter_names_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = importlib.import_module

    def no_exporter(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("opentelemetry.exporter"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", no_exporter)
    with pytest.raises(MissingExtraError, match="opentelemetry-exporter-otlp-proto-http"):
        Telemetry.from_config(MonitorConfig(otel=True, otel_exporter="otlp"))


def test_missing_opentelemetry_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_otel(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("opentelemetry"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_otel)
    with pytest.raises(MissingExtraError, match=r"garrison-ml\[gateway\]"):
        Telemetry()
