"""Alerts reach the log always and the webhook when it is up, without slowing the caller."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from garrison.runtime.alerts import Alert, AlertSink
from garrison.runtime.config import MonitorConfig


class Receiver:
    """A local webhook: answers with `statuses` in turn (then 200) and keeps what it got."""

    def __init__(self, statuses: tuple[int, ...] = ()) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.attempts = 0
        self.got = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.attempts += 1
                code = (
                    statuses[receiver.attempts - 1] if receiver.attempts <= len(statuses) else 200
                )
                if code == 200:
                    receiver.bodies.append(json.loads(body))
                    receiver.headers.append(dict(self.headers))
                    receiver.got.set()
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def alert(kind: str = "extraction.volume", key_id: str | None = "k1") -> Alert:
    return Alert(kind, "key made 401 queries", key_id, "medium", {"queries": 401, "budget": 400})


def test_the_webhook_receives_the_alert_as_json(receiver: Receiver) -> None:
    config = MonitorConfig(webhook_url=receiver.url, webhook_headers={"authorization": "Bearer t"})
    sink = AlertSink.from_config(config)
    assert sink.emit(alert())
    assert receiver.got.wait(5)
    sink.close()
    body = receiver.bodies[0]
    assert body["kind"] == "extraction.volume"
    assert body["key_id"] == "k1"
    assert body["evidence"] == {"queries": 401, "budget": 400}
    assert body["source"] == "garrison" and body["ts"].endswith("Z")
    assert sink.delivered == 1 and sink.failed == 0
    assert receiver.headers[0]["authorization"] == "Bearer t"
    assert receiver.headers[0]["content-type"] == "application/json"


def test_every_alert_is_logged_key_value(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "garrison.runtime.alerts")
    AlertSink().emit(alert())
    assert (
        "alert kind=extraction.volume key_id=k1 severity=medium queries=401 budget=400 "
        'message="key made 401 queries"'
    ) in caplog.text


def test_server_errors_are_retried_and_refusals_are_not() -> None:
    flaky = Receiver(statuses=(503, 500))
    sink = AlertSink(flaky.url, backoff_s=0.01)
    sink.emit(alert())
    assert flaky.got.wait(5)
    sink.close()
    assert flaky.attempts == 3 and sink.delivered == 1
    flaky.close()
    refusing = Receiver(statuses=(400, 400))
    sink = AlertSink(refusing.url, backoff_s=0.01)
    sink.emit(alert())
    sink.close()
    refusing.close()
    assert refusing.attempts == 1 and sink.failed == 1


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_webhook_is_logged_and_never_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "garrison.runtime.alerts")
    sink = AlertSink(f"http://127.0.0.1:{_closed_port()}/hook", retries=1, backoff_s=0.01)
    assert sink.emit(alert())
    sink.close()
    assert sink.failed == 1
    assert "alert kind=extraction.volume" in caplog.text  # the alert itself is in the log
    assert "alert webhook delivery failed kind=extraction.volume" in caplog.text


def test_a_hanging_webhook_does_not_slow_the_caller(caplog: pytest.LogCaptureFixture) -> None:
    # Accepts connections and never answers: each delivery would wait for its timeout.
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(64)
        url = f"http://127.0.0.1:{hole.getsockname()[1]}/hook"
        sink = AlertSink(url, timeout_s=1.0, retries=0, cooldown_s=0)
        started = time.perf_counter()
        for index in range(50):
            sink.emit(alert(key_id=f"k{index}"))
        elapsed = time.perf_counter() - started
        sink.close(timeout_s=0.2)
    assert elapsed < 0.5  # far below one delivery's timeout: emit only queues
    assert sink.emitted == 50
    assert "alert(s) undelivered" in caplog.text  # closing does not wait for all of them


def test_a_full_queue_drops_the_webhook_copy_but_logs_the_alert(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "garrison.runtime.alerts")
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(8)
        sink = AlertSink(
            f"http://127.0.0.1:{hole.getsockname()[1]}/", timeout_s=0.3, retries=0, queue_size=2,
            cooldown_s=0,
        )  # fmt: skip
        for index in range(10):
            sink.emit(alert(key_id=f"k{index}"))
        sink.close(timeout_s=0.2)
    assert sink.dropped >= 7
    assert "alert webhook queue full" in caplog.text
    assert caplog.text.count("alert kind=extraction.volume") == 10


def test_the_same_alert_is_suppressed_within_the_cooldown() -> None:
    now = [0.0]
    seen: list[Alert] = []
    sink = AlertSink(cooldown_s=60, clock=lambda: now[0], listeners=[seen.append])
    assert sink.emit(alert())
    assert not sink.emit(alert())
    assert not sink.emit(alert())
    assert sink.emit(alert(key_id="k2"))  # another key
    assert sink.emit(alert(kind="extraction.diversity"))  # another kind
    now[0] = 61.0
    assert sink.emit(alert())
    assert seen[-1].evidence["suppressed"] == 2
    assert sink.suppressed == 2 and sink.emitted == 4


def test_tracked_slots_stay_bounded() -> None:
    now = [0.0]
    sink = AlertSink(cooldown_s=60, clock=lambda: now[0], max_tracked=100)
    for index in range(1_000):
        sink.emit(alert(key_id=f"k{index}"))
    assert len(sink._last) <= 100


def test_a_failing_listener_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[Alert] = []

    def broken(_: Alert) -> None:
        raise RuntimeError("listener bug")

    sink = AlertSink(listeners=[broken, seen.append])
    assert sink.emit(alert())
    assert len(seen) == 1 and "alert listener failed" in caplog.text


def test_the_config_builds_the_sink_and_checks_the_url() -> None:
    sink = AlertSink.from_config(MonitorConfig(webhook_url="https://hooks.example/x"))
    assert sink.webhook_url == "https://hooks.example/x"
    with pytest.raises(ValueError, match="webhook_url must start with http"):
        MonitorConfig(webhook_url="file:///etc/passwd")
