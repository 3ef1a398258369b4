"""Alerts: always to the log, to a webhook when one is configured, never on the request path.

Webhook deliveries run on one background thread with its own HTTP client, so a slow or dead
receiver costs the request path one `put_nowait`, whichever thread or event loop emits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from garrison.errors import MissingExtraError

if TYPE_CHECKING:
    import httpx

    from garrison.runtime.config import MonitorConfig

logger = logging.getLogger(__name__)

_STOP = object()
_MAX_BACKOFF_S = 30.0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Alert:
    kind: str  # "extraction.volume", "extraction.diversity", "drift.<feature>"
    message: str  # one line for a person
    key_id: str | None = None  # the API key concerned, when there is one
    severity: str = "medium"  # "low" | "medium" | "high"
    evidence: Mapping[str, float | int | str] = field(default_factory=dict)
    ts: str = field(default_factory=_now)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "key_id": self.key_id,
            "message": self.message,
            "evidence": dict(self.evidence),
            "ts": self.ts,
            "source": "garrison",
        }


AlertListener = Callable[[Alert], None]


class AlertSink:
    """Logs every alert (key=value), then queues it for the webhook and calls listeners.

    An alert of the same kind for the same key within `cooldown_s` of the last one is
    suppressed; the next one sent carries `suppressed` in its evidence.
    """

    def __init__(
        self,
        webhook_url: str | None = None,
        *,
        timeout_s: float = 2.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        queue_size: int = 1_000,
        cooldown_s: float = 300.0,
        headers: Mapping[str, str] | None = None,
        listeners: Iterable[AlertListener] = (),
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int = 10_000,
    ) -> None:
        if webhook_url is not None:
            _require_httpx()
        self.webhook_url = webhook_url
        self._timeout_s = timeout_s
        self._retries = retries
        self._backoff_s = backoff_s
        self._cooldown_s = cooldown_s
        self._headers = {"content-type": "application/json", **(headers or {})}
        self._listeners = list(listeners)
        self._clock = clock
        self._max_tracked = max_tracked
        self._last: dict[tuple[str, str | None], float] = {}
        self._suppressed: dict[tuple[str, str | None], int] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        # Counters for operators and tests.
        self.emitted = 0
        self.suppressed = 0
        self.delivered = 0
        self.failed = 0
        self.dropped = 0

    @classmethod
    def from_config(
        cls, config: MonitorConfig, listeners: Iterable[AlertListener] = ()
    ) -> AlertSink:
        return cls(
            config.webhook_url,
            timeout_s=config.webhook_timeout_s,
            retries=config.webhook_retries,
            queue_size=config.alert_queue,
            cooldown_s=config.alert_cooldown_s,
            headers=config.webhook_headers,
            listeners=listeners,
        )

    def add_listener(self, listener: AlertListener) -> None:
        self._listeners.append(listener)

    def emit(self, alert: Alert) -> bool:
        """Send `alert` unless one like it was sent within the cooldown; True when sent."""
        suppressed = self._admit(alert)
        if suppressed is None:
            return False
        if suppressed:
            alert = replace(alert, evidence={**alert.evidence, "suppressed": suppressed})
        self.emitted += 1
        _log(alert)
        for listener in self._listeners:
            try:
                listener(alert)
            except Exception:
                logger.exception("alert listener failed kind=%s", alert.kind)
        if self.webhook_url is not None:
            self._enqueue(alert)
        return True

    def close(self, timeout_s: float = 5.0) -> None:
        """Deliver what is queued within `timeout_s`, then stop the webhook thread."""
        worker = self._worker
        if worker is None:
            return
        deadline = time.monotonic() + timeout_s
        with contextlib.suppress(queue.Full):  # then the deadline stops the worker
            self._queue.put(_STOP, timeout=timeout_s)
        worker.join(max(0.0, deadline - time.monotonic()))
        self._stop.set()  # cuts short a retry back-off still running
        worker.join(1.0)
        left = 0
        with contextlib.suppress(queue.Empty):
            while True:
                left += isinstance(self._queue.get_nowait(), Alert)
        if left:
            logger.warning("alert webhook closed with %d alert(s) undelivered", left)
        self._worker = None

    async def aclose(self, timeout_s: float = 5.0) -> None:
        await asyncio.to_thread(self.close, timeout_s)

    def _admit(self, alert: Alert) -> int | None:
        """Suppressed copies since the last one sent, or None to suppress this one."""
        slot = (alert.kind, alert.key_id)
        now = self._clock()
        with self._lock:
            last = self._last.get(slot)
            if last is not None and now - last < self._cooldown_s:
                self._suppressed[slot] = self._suppressed.get(slot, 0) + 1
                self.suppressed += 1
                return None
            if len(self._last) >= self._max_tracked:
                self._forget(now)
            self._last[slot] = now
            return self._suppressed.pop(slot, 0)

    def _forget(self, now: float) -> None:
        stale = [s for s, t in self._last.items() if now - t >= self._cooldown_s]
        if not stale:  # all recent: drop the oldest half rather than grow without bound
            stale = sorted(self._last, key=self._last.__getitem__)[: len(self._last) // 2]
        for slot in stale:
            del self._last[slot]
            self._suppressed.pop(slot, None)

    def _enqueue(self, alert: Alert) -> None:
        if self._worker is None:
            with self._lock:
                if self._worker is None:
                    self._stop.clear()
                    self._worker = threading.Thread(
                        target=self._run, name="garrison-alert-webhook", daemon=True
                    )
                    self._worker.start()
        try:
            self._queue.put_nowait(alert)
        except queue.Full:
            self.dropped += 1
            logger.warning("alert webhook queue full, not delivered kind=%s", alert.kind)

    def _run(self) -> None:
        import httpx

        with httpx.Client(timeout=self._timeout_s, follow_redirects=False) as client:
            while True:
                item = self._queue.get()
                if item is _STOP or not isinstance(item, Alert) or self._stop.is_set():
                    return
                if self._deliver(client, item):
                    self.delivered += 1
                else:
                    self.failed += 1

    def _deliver(self, client: httpx.Client, alert: Alert) -> bool:
        assert self.webhook_url is not None
        body = json.dumps(alert.to_dict()).encode()
        problem = ""
        for attempt in range(self._retries + 1):
            if attempt and self._stop.wait(
                min(self._backoff_s * 2 ** (attempt - 1), _MAX_BACKOFF_S)
            ):
                break
            try:
                response = client.post(self.webhook_url, content=body, headers=self._headers)
            except Exception as exc:  # any transport failure is retried, never raised
                problem = type(exc).__name__
                continue
            if response.status_code < 300:
                return True
            problem = f"status {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                break  # the receiver refuses this alert: retrying will not help
        logger.warning(
            "alert webhook delivery failed kind=%s key_id=%s problem=%s",
            alert.kind,
            alert.key_id,
            _kv(problem),
        )
        return False


def _require_httpx() -> None:
    try:
        import httpx  # noqa: F401
    except ModuleNotFoundError:
        raise MissingExtraError("httpx", "gateway") from None


def _log(alert: Alert) -> None:
    parts = [
        f"kind={alert.kind}",
        f"key_id={_kv(alert.key_id or '-')}",
        f"severity={alert.severity}",
        *(f"{k}={_kv(v)}" for k, v in alert.evidence.items()),
        f"message={_kv(alert.message)}",
    ]
    logger.warning("alert %s", " ".join(parts))


def _kv(value: object) -> str:
    """A value for a key=value log line: quoted when it has spaces, quotes or `=`."""
    text = f"{value:.6g}" if isinstance(value, float) else str(value)
    if not text or any(c in text for c in ' "=\n\t'):
        return json.dumps(text, ensure_ascii=False)
    return text
