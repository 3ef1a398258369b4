"""Prometheus metrics of the gateway, served at /metrics.

The metrics live in their own CollectorRegistry, so two gateways in one process (tests) do not
collide. Several uvicorn workers: set PROMETHEUS_MULTIPROC_DIR to an empty directory before
the workers start (prometheus_client reads it when first imported); each worker then writes
its samples there and `render()` in any worker adds up every worker's. Empty the directory
before each start, or counts from the last run are added in.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from garrison.errors import MissingExtraError
from garrison.gateway.record import BLOCK, RequestRecord

if TYPE_CHECKING:
    from garrison.runtime.alerts import Alert

# Seconds; fine below 10 ms, where the gateway's own overhead lives, coarse above.
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.002,
    0.003,
    0.005,
    0.0075,
    0.01,
    0.015,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class GatewayMetrics:
    def __init__(self, *, namespace: str = "garrison_gateway") -> None:
        try:
            from prometheus_client import CollectorRegistry, Counter, Histogram
        except ModuleNotFoundError:
            raise MissingExtraError("prometheus_client", "gateway") from None
        self.registry = CollectorRegistry()
        self.multiprocess_dir = os.environ.get(MULTIPROC_ENV) or None
        ns, reg = namespace, self.registry
        self._requests = Counter(
            "requests",
            "Requests answered",
            ["route", "status", "decision"],
            namespace=ns,
            registry=reg,
        )
        self._blocks = Counter("blocks", "Requests blocked", ["reason"], namespace=ns, registry=reg)
        self._tokens = Counter("tokens", "Tokens used", ["kind"], namespace=ns, registry=reg)
        self._guards = Counter(
            "guard_verdicts",
            "Guard verdicts",
            ["guard", "stage", "verdict"],
            namespace=ns,
            registry=reg,
        )
        self._alerts = Counter("alerts", "Alerts raised", ["kind"], namespace=ns, registry=reg)
        self._latency = Histogram(
            "request_duration_seconds",
            "Time from request to the last byte answered",
            ["route"],
            namespace=ns,
            registry=reg,
            buckets=LATENCY_BUCKETS,
        )
        self._upstream = Histogram(
            "upstream_duration_seconds",
            "Time the upstream took",
            ["route"],
            namespace=ns,
            registry=reg,
            buckets=LATENCY_BUCKETS,
        )
        self._prompt_tokens = self._tokens.labels("prompt")
        self._completion_tokens = self._tokens.labels("completion")
        # labels() takes a lock and builds a key each call; label sets are few, so keep them.
        self._children: dict[tuple[Any, ...], Any] = {}

    def observe(self, record: RequestRecord) -> None:
        route = record.route
        self._child(self._requests, route, str(record.status), record.decision).inc()
        if record.decision == BLOCK:
            self._child(self._blocks, record.reason or "unknown").inc()
        if record.prompt_tokens:
            self._prompt_tokens.inc(record.prompt_tokens)
        if record.completion_tokens:
            self._completion_tokens.inc(record.completion_tokens)
        self._child(self._latency, route).observe(record.latency_ms / 1000.0)
        if record.upstream_ms is not None:
            self._child(self._upstream, route).observe(record.upstream_ms / 1000.0)
        for verdict in record.guards:
            self._child(self._guards, verdict.name, verdict.stage, verdict.verdict).inc()

    def observe_alert(self, alert: Alert) -> None:
        """Count an alert; fits AlertSink's listeners."""
        self._child(self._alerts, alert.kind).inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type, for a /metrics response."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        if self.multiprocess_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        from prometheus_client import multiprocess

        merged = CollectorRegistry()
        collector: Any = multiprocess.MultiProcessCollector  # untyped in prometheus_client
        collector(merged, path=self.multiprocess_dir)
        return generate_latest(merged), CONTENT_TYPE_LATEST

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child
