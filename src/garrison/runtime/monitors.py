"""The gateway's monitors behind one call: every finished request feeds extraction and drift,
and what they raise goes to the alert sink."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from garrison.gateway.record import RequestRecord
from garrison.runtime.alerts import AlertSink
from garrison.runtime.config import MonitorConfig
from garrison.runtime.drift import Baseline, DriftMonitor
from garrison.runtime.extraction import ExtractionMonitor

logger = logging.getLogger(__name__)


class Monitors:
    """`observe` costs tens of microseconds: per-key counters and a bounded sketch on every
    request; drift statistics once every `drift.check_every` requests.

    State is per process and not locked: call `observe` from one thread (the event loop).
    With several workers each sees its share of a key's traffic, so set the extraction
    budget per worker.
    """

    def __init__(
        self,
        config: MonitorConfig,
        sink: AlertSink,
        *,
        clock: Callable[[], float] = time.monotonic,
        baseline: Baseline | None = None,
    ) -> None:
        self.config = config
        self.sink = sink
        self.extraction = (
            ExtractionMonitor(config.extraction, clock=clock) if config.extraction.enabled else None
        )
        self.drift = DriftMonitor(config.drift, baseline=baseline) if config.drift.enabled else None

    def observe(self, record: RequestRecord) -> None:
        # A fault in a monitor must not fail the request it watches: log it and go on.
        try:
            if self.extraction is not None:
                for alert in self.extraction.observe(record):
                    self.sink.emit(alert)
            if self.drift is not None:
                for alert in self.drift.observe(record):
                    self.sink.emit(alert)
        except Exception:
            logger.exception("monitor failed request_id=%s", record.request_id)
