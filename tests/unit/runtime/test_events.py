"""Events go out as JSON lines a SIEM can read, with digests instead of prompts."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path

import pytest

from garrison.errors import UsageError
from garrison.gateway.record import BLOCK, GuardVerdict
from garrison.runtime.alerts import Alert, AlertSink
from garrison.runtime.config import MonitorConfig
from garrison.runtime.events import EventExporter, syslog_target
from tests.unit.runtime.traffic import record

SECRET = "my card is 4111 1111 1111 1111"


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_request_events_carry_digests_not_text(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    exporter = EventExporter(path)
    verdict = GuardVerdict("pii", "input", "block", 0.97)
    exporter.request(
        record(SECRET, decision=BLOCK, status=400, reason="guard.input", guards=(verdict,))
    )
    exporter.request(record("second", completion="", latency_ms=1.23456, upstream_ms=0.5))
    # Flushed line by line: readable before the exporter closes.
    first, second = lines(path)
    assert "4111" not in path.read_text()
    assert first["type"] == "request"
    assert first["prompt_sha256"] == hashlib.sha256(SECRET.encode()).hexdigest()
    assert first["decision"] == "block" and first["reason"] == "guard.input"
    assert first["guards"] == [{"name": "pii", "stage": "input", "verdict": "block", "score": 0.97}]
    assert "prompt_text" not in first
    assert second["completion_sha256"] is None
    assert second["latency_ms"] == 1.235 and second["upstream_ms"] == 0.5
    exporter.close()


def test_text_is_exported_only_when_the_gateway_keeps_text(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    exporter = EventExporter(path, store_text=True)
    exporter.request(record(SECRET))
    exporter.close()
    assert lines(path)[0]["prompt_text"] == SECRET


def test_alerts_are_events_too(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    exporter = EventExporter(path)
    sink = AlertSink(listeners=[exporter.alert])
    sink.emit(Alert("drift.script", "script drifted", None, "medium", {"psi": 0.4}))
    exporter.close()
    (event,) = lines(path)
    assert event["type"] == "alert" and event["kind"] == "drift.script"
    assert event["evidence"] == {"psi": 0.4}


def test_the_file_is_appended_to_and_rotated_by_size(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"type": "earlier"}\n')
    exporter = EventExporter(path, max_bytes=2_048, backups=2)
    for index in range(40):
        exporter.request(record(f"prompt {index}"))
    exporter.close()
    rotated = sorted(p.name for p in tmp_path.iterdir())
    assert rotated == ["events.jsonl", "events.jsonl.1", "events.jsonl.2"]
    for name in rotated:
        assert all(event["type"] in {"request", "earlier"} for event in lines(tmp_path / name))
        assert (tmp_path / name).stat().st_size <= 2_048


def test_the_pid_placeholder_gives_each_worker_its_file(tmp_path: Path) -> None:
    config = MonitorConfig(events_path=tmp_path / "events-{pid}.jsonl")
    exporter = EventExporter.from_config(config)
    exporter.request(record())
    exporter.close()
    assert (tmp_path / f"events-{os.getpid()}.jsonl").exists()


def test_a_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="events directory does not exist"):
        EventExporter(tmp_path / "nope" / "events.jsonl")


def test_events_reach_syslog_over_udp() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        exporter = EventExporter(syslog_address=f"127.0.0.1:{server.getsockname()[1]}")
        exporter.request(record(SECRET, key_id="k9"))
        datagram = server.recv(65_536).decode()
        exporter.close()
    assert datagram.startswith("<134>garrison: ")  # local0.info
    event = json.loads(datagram.removeprefix("<134>garrison: ").rstrip("\x00"))
    assert event["key_id"] == "k9" and "4111" not in datagram


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("/dev/log", ("/dev/log", None)),
        ("siem.local", (("siem.local", 514), socket.SOCK_DGRAM)),
        ("siem.local:5514", (("siem.local", 5514), socket.SOCK_DGRAM)),
        ("udp://10.0.0.1:514", (("10.0.0.1", 514), socket.SOCK_DGRAM)),
        ("tcp://siem.local:6514", (("siem.local", 6514), socket.SOCK_STREAM)),
    ],
)
def test_syslog_addresses(address: str, expected: object) -> None:
    assert syslog_target(address) == expected


@pytest.mark.parametrize("address", ["siem:notaport", "tcp://:514", "host:70000"])
def test_a_bad_syslog_address_is_a_usage_error(address: str) -> None:
    with pytest.raises(UsageError, match="syslog address"):
        syslog_target(address)


def test_nothing_configured_exports_nothing() -> None:
    exporter = EventExporter()
    assert not exporter.enabled
    exporter.request(record())  # a no-op, not an error
