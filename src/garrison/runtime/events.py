"""Gateway events as JSON lines, to a rotated file or to syslog, for the SIEM a team runs.

One line per request and per alert. Prompts and completions appear as SHA-256 digests;
their text only when the gateway is configured to keep text (`store_text`).

With several workers, give each its own file (`{pid}` in the path) or use syslog: two
processes rotating one file would lose lines.
"""

from __future__ import annotations

import hashlib
import json
import logging
import logging.handlers
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from garrison.errors import UsageError
from garrison.gateway.record import RequestRecord
from garrison.runtime.alerts import Alert

if TYPE_CHECKING:
    from garrison.runtime.config import MonitorConfig

SYSLOG_PORT = 514


class EventExporter:
    def __init__(
        self,
        path: Path | str | None = None,
        *,
        syslog_address: str | None = None,
        max_bytes: int = 100 * 1024 * 1024,
        backups: int = 5,
        store_text: bool = False,
    ) -> None:
        self.store_text = store_text
        self._handlers: list[logging.Handler] = []
        if path is not None:
            self._handlers.append(_file_handler(Path(path), max_bytes, backups))
        if syslog_address is not None:
            self._handlers.append(_syslog_handler(syslog_address))
        formatter = logging.Formatter("%(message)s")
        for handler in self._handlers:
            handler.setFormatter(formatter)

    @classmethod
    def from_config(cls, config: MonitorConfig, *, store_text: bool = False) -> EventExporter:
        return cls(
            config.events_path,
            syslog_address=config.syslog_address,
            max_bytes=config.events_max_bytes,
            backups=config.events_backups,
            store_text=store_text,
        )

    @property
    def enabled(self) -> bool:
        return bool(self._handlers)

    def request(self, record: RequestRecord) -> None:
        if self._handlers:
            self._write(request_event(record, store_text=self.store_text))

    def alert(self, alert: Alert) -> None:
        """Export an alert; fits AlertSink's listeners."""
        if self._handlers:
            self._write({"type": "alert", **alert.to_dict()})

    def close(self) -> None:
        for handler in self._handlers:
            handler.close()
        self._handlers = []

    def _write(self, event: dict[str, Any]) -> None:
        line = json.dumps(event, separators=(",", ":"))
        entry = logging.LogRecord("garrison.events", logging.INFO, __file__, 0, line, None, None)
        for handler in self._handlers:
            handler.handle(entry)


def request_event(record: RequestRecord, *, store_text: bool = False) -> dict[str, Any]:
    """The JSON event of one request: digests of its texts, the texts only if asked."""
    event: dict[str, Any] = {
        "type": "request",
        "ts": record.ts,
        "request_id": record.request_id,
        "route": record.route,
        "status": record.status,
        "decision": record.decision,
        "reason": record.reason,
        "key_id": record.key_id,
        "owner": record.owner,
        "model": record.model,
        "prompt_tokens": record.prompt_tokens,
        "completion_tokens": record.completion_tokens,
        "latency_ms": round(record.latency_ms, 3),
        "upstream_ms": None if record.upstream_ms is None else round(record.upstream_ms, 3),
        "guards": [
            {"name": g.name, "stage": g.stage, "verdict": g.verdict, "score": g.score}
            for g in record.guards
        ],
        "prompt_sha256": _digest(record.prompt_text),
        "completion_sha256": _digest(record.completion_text),
    }
    if store_text:
        event["prompt_text"] = record.prompt_text
        event["completion_text"] = record.completion_text
    return event


def _digest(text: str) -> str | None:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() if text else None


def _file_handler(path: Path, max_bytes: int, backups: int) -> logging.Handler:
    path = Path(str(path).replace("{pid}", str(os.getpid())))
    if not path.parent.is_dir():
        raise UsageError(f"events directory does not exist: {path.parent}")
    try:
        # Appends; the stream is flushed after every line.
        return logging.handlers.RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
    except OSError as exc:
        raise UsageError(f"cannot open events file {path}: {exc.strerror}") from None


def _syslog_handler(address: str) -> logging.Handler:
    target, kind = syslog_target(address)
    try:
        handler = logging.handlers.SysLogHandler(
            address=target, facility=logging.handlers.SysLogHandler.LOG_LOCAL0, socktype=kind
        )
    except OSError as exc:
        raise UsageError(f"cannot reach syslog at {address}: {exc.strerror or exc}") from None
    handler.ident = "garrison: "
    return handler


def syslog_target(address: str) -> tuple[str | tuple[str, int], socket.SocketKind | None]:
    """`/dev/log`, `host`, `host:port`, `udp://host:port` or `tcp://host:port` as the
    (address, socket type) SysLogHandler takes."""
    if address.startswith("/"):
        return address, None
    kind = socket.SOCK_DGRAM
    rest = address
    for scheme, scheme_kind in (("udp://", socket.SOCK_DGRAM), ("tcp://", socket.SOCK_STREAM)):
        if address.startswith(scheme):
            rest, kind = address[len(scheme) :], scheme_kind
    host, _, port = rest.rpartition(":") if ":" in rest else (rest, "", str(SYSLOG_PORT))
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(
            f"syslog address {address!r}: use /dev/log, host:port, udp://host:port or "
            "tcp://host:port"
        )
    return (host.strip("[]"), int(port)), kind
