"""Admission: with `require_approved`, only models whose digests are approved are served.

The approvals of the configured digests are read into memory and re-read by a daemon thread,
so the event loop never waits on the store and a revocation takes effect within `refresh_s`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from garrison.errors import UsageError

if TYPE_CHECKING:
    from garrison.supplychain.provenance.approvals import Registry

logger = logging.getLogger(__name__)


class ApprovalCache:
    """Answers `is_approved(digest)` from the approved-model registry, cached."""

    def __init__(self, registry: Registry, digests: Iterable[str], refresh_s: float = 5.0) -> None:
        if refresh_s <= 0:
            raise UsageError(f"the approval refresh interval must be positive, not {refresh_s}")
        self.refresh_s = refresh_s
        self._registry = registry
        self._digests = tuple(dict.fromkeys(digests))
        self._approved: frozenset[str] = frozenset()
        self._stop = threading.Event()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.refresh()  # a broken store fails at startup, not on the first request

    def is_approved(self, digest: str) -> bool:
        if self._thread is None:
            self._start()
        return digest in self._approved

    def refresh(self) -> None:
        self._approved = frozenset(d for d in self._digests if self._registry.check(d).ok)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.refresh_s + 5)

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="garrison-approval-refresh", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_s):
            try:
                self.refresh()
            except Exception:  # keep serving the last answer through a store outage
                logger.warning(
                    "model approvals: refresh failed, keeping the last copy", exc_info=True
                )
