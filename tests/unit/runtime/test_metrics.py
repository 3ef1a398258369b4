"""/metrics text parses as Prometheus exposition and its counts match the traffic."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from garrison.gateway.record import BLOCK, ERROR, GuardVerdict
from garrison.runtime.alerts import Alert
from garrison.runtime.metrics import GatewayMetrics
from tests.unit.runtime.traffic import record


def samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_counts_match_the_requests_observed() -> None:
    metrics = GatewayMetrics()
    verdict = GuardVerdict("injection", "input", "block", 0.9)
    for _ in range(3):
        metrics.observe(
            record(prompt_tokens=10, completion_tokens=5, latency_ms=1.5, upstream_ms=1.0)
        )
    metrics.observe(record(decision=BLOCK, status=400, reason="guard.input", guards=(verdict,)))
    metrics.observe(record(decision=BLOCK, status=429, reason="quota.rpm", latency_ms=0.2))
    metrics.observe(record(decision=ERROR, status=502, reason="upstream", route="embeddings"))
    metrics.observe_alert(Alert("extraction.volume", "over budget", "k1"))
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    got = samples(body)
    ns = "garrison_gateway_"

    def value(name: str, **labels: str) -> float:
        return got[(ns + name, tuple(sorted(labels.items())))]

    assert value("requests_total", route="chat", status="200", decision="allow") == 3
    assert value("requests_total", route="chat", status="429", decision="block") == 1
    assert value("requests_total", route="embeddings", status="502", decision="error") == 1
    assert value("blocks_total", reason="guard.input") == 1
    assert value("blocks_total", reason="quota.rpm") == 1
    assert value("tokens_total", kind="prompt") == 30
    assert value("tokens_total", kind="completion") == 15
    assert value("guard_verdicts_total", guard="injection", stage="input", verdict="block") == 1
    assert value("alerts_total", kind="extraction.volume") == 1
    assert value("request_duration_seconds_count", route="chat") == 5
    # Millisecond buckets: 0.2 ms and 1.5 ms land apart.
    assert value("request_duration_seconds_bucket", route="chat", le="0.0005") == 2  # 0 and 0.2 ms
    assert value("request_duration_seconds_bucket", route="chat", le="0.002") == 5
    assert value("upstream_duration_seconds_count", route="chat") == 3
    assert abs(value("upstream_duration_seconds_sum", route="chat") - 0.003) < 1e-9


def test_two_gateways_in_one_process_keep_their_own_counts() -> None:
    first, second = GatewayMetrics(), GatewayMetrics()
    first.observe(record())
    got = samples(second.render()[0])
    assert not any(name.endswith("requests_total") for name, _ in got)


_WORKER = """
import sys
from garrison.gateway.record import RequestRecord
from garrison.runtime.metrics import GatewayMetrics
metrics = GatewayMetrics()
for _ in range(int(sys.argv[1])):
    metrics.observe(RequestRecord("r", "2025-01-01T00:00:00Z", "chat", 200, "allow"))
if sys.argv[2] == "render":
    sys.stdout.write(metrics.render()[0].decode())
"""


def test_several_workers_add_up_in_multiprocess_mode(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def worker(count: int, action: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", _WORKER, str(count), action],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    worker(3, "-")
    worker(4, "-")
    got = samples(worker(0, "render").encode())
    labels = (("decision", "allow"), ("route", "chat"), ("status", "200"))
    assert got[("garrison_gateway_requests_total", labels)] == 7
    assert got[("garrison_gateway_request_duration_seconds_count", (("route", "chat"),))] == 7
