"""Monitors and the Runtime: one observe per request feeds monitors, alerts and exports."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from garrison.runtime import MonitorConfig, Monitors, Runtime
from garrison.runtime.alerts import Alert, AlertSink
from garrison.runtime.config import DriftConfig, ExtractionConfig
from tests.unit.runtime.traffic import diverse_prompts, record, repetitive_prompts

CONFIG = MonitorConfig(
    extraction=ExtractionConfig(max_queries=400),
    drift=DriftConfig(baseline_size=200, window_size=100, check_every=50),
)


def test_monitors_send_extraction_and_drift_alerts_to_the_sink() -> None:
    seen: list[Alert] = []
    monitors = Monitors(CONFIG, AlertSink(listeners=[seen.append]))
    for prompt in repetitive_prompts(200):
        monitors.observe(record(prompt, key_id="app"))
    assert seen == []
    for prompt in diverse_prompts(500):
        monitors.observe(record(prompt, key_id="attacker"))
    kinds = {(a.kind, a.key_id) for a in seen}
    assert ("extraction.diversity", "attacker") in kinds
    assert ("extraction.volume", "attacker") in kinds
    assert ("drift.prompt_length", None) in kinds
    assert monitors.extraction is not None and monitors.drift is not None
    state = monitors.extraction.state("app")
    assert state is not None and state.queries == 200


def test_disabled_monitors_do_nothing() -> None:
    config = MonitorConfig(
        extraction=ExtractionConfig(enabled=False), drift=DriftConfig(enabled=False)
    )
    seen: list[Alert] = []
    monitors = Monitors(config, AlertSink(listeners=[seen.append]))
    for prompt in diverse_prompts(50):
        monitors.observe(record(prompt))
    assert monitors.extraction is None and monitors.drift is None and seen == []


def test_a_monitor_fault_is_logged_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monitors = Monitors(CONFIG, AlertSink())
    assert monitors.extraction is not None

    def broken(_: Any) -> tuple[Alert, ...]:
        raise RuntimeError("bug")

    monkeypatch.setattr(monitors.extraction, "observe", broken)
    monitors.observe(record(request_id="req-42"))
    assert "monitor failed request_id=req-42" in caplog.text


def test_the_runtime_exports_metrics_events_and_alerts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "garrison.runtime.alerts")
    events = tmp_path / "events.jsonl"
    runtime = Runtime(CONFIG.model_copy(update={"events_path": events}))
    for prompt in diverse_prompts(450):
        runtime.observe(record(prompt, key_id="attacker", prompt_tokens=3))
    runtime.close()
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert sum(e["type"] == "request" for e in lines) == 450
    alerts = [e["kind"] for e in lines if e["type"] == "alert"]
    assert alerts == ["extraction.diversity", "extraction.volume"]
    assert "alert kind=extraction.volume key_id=attacker" in caplog.text
    body, _ = runtime.metrics.render()
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }
    assert values[("garrison_gateway_tokens_total", (("kind", "prompt"),))] == 1_350
    assert values[("garrison_gateway_alerts_total", (("kind", "extraction.volume"),))] == 1


def test_the_runtime_closes_from_async_code() -> None:
    runtime = Runtime(MonitorConfig())
    runtime.observe(record())
    asyncio.run(runtime.aclose())
