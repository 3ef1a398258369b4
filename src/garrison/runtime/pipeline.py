"""Everything that watches finished requests, built from one MonitorConfig: metrics, JSON-line
events, OpenTelemetry spans, monitors and their alerts. The gateway calls `observe` once per
request and `aclose` on shutdown."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from garrison.gateway.record import RequestRecord
from garrison.runtime.alerts import AlertSink
from garrison.runtime.config import MonitorConfig
from garrison.runtime.events import EventExporter
from garrison.runtime.metrics import GatewayMetrics
from garrison.runtime.monitors import Monitors
from garrison.runtime.telemetry import Telemetry

logger = logging.getLogger(__name__)


class Runtime:
    def __init__(
        self,
        config: MonitorConfig,
        *,
        store_text: bool = False,
        telemetry: Telemetry | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics = GatewayMetrics()
        self.events = EventExporter.from_config(config, store_text=store_text)
        self.sink = AlertSink.from_config(config, listeners=[self.metrics.observe_alert])
        if self.events.enabled:
            self.sink.add_listener(self.events.alert)
        self.monitors = Monitors(config, self.sink, clock=clock)
        self.telemetry = telemetry if telemetry is not None else Telemetry.from_config(config)

    def observe(self, record: RequestRecord) -> None:
        self.metrics.observe(record)
        self.monitors.observe(record)
        try:
            self.events.request(record)
            if self.telemetry is not None:
                self.telemetry.span(record)
        except Exception:  # an export fault must not fail the request it describes
            logger.exception("event export failed request_id=%s", record.request_id)

    def close(self) -> None:
        self.sink.close()
        self.events.close()
        if self.telemetry is not None:
            self.telemetry.shutdown()

    async def aclose(self) -> None:
        import asyncio

        await asyncio.to_thread(self.close)
