"""What watches the gateway's traffic: extraction and drift monitors, alerts to the log and a
webhook, Prometheus metrics, JSON-line events and OpenTelemetry spans.

Re-exports resolve on first use; prometheus_client, httpx and OpenTelemetry are imported only
by the objects that need them (`pip install 'garrison-ml[gateway]'`).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Alert": "garrison.runtime.alerts",
    "AlertSink": "garrison.runtime.alerts",
    "Baseline": "garrison.runtime.drift",
    "DriftConfig": "garrison.runtime.config",
    "DriftMonitor": "garrison.runtime.drift",
    "EventExporter": "garrison.runtime.events",
    "ExtractionConfig": "garrison.runtime.config",
    "ExtractionMonitor": "garrison.runtime.extraction",
    "GatewayMetrics": "garrison.runtime.metrics",
    "MonitorConfig": "garrison.runtime.config",
    "Monitors": "garrison.runtime.monitors",
    "Runtime": "garrison.runtime.pipeline",
    "Telemetry": "garrison.runtime.telemetry",
    "budget_from_report": "garrison.runtime.extraction",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'garrison.runtime' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
