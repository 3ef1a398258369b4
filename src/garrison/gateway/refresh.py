"""An in-memory copy of store data, reloaded by a daemon thread.

The event loop never waits on the store; a change in the store shows within `refresh_s`. The
thread starts on first use, in the process that serves, not the one that built the copy.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod

from garrison.errors import UsageError

logger = logging.getLogger(__name__)


class Refreshed(ABC):
    """Subclasses load their copy in `refresh()` and call `_ensure_started()` when read."""

    what = "store data"  # named in the error and the log line

    def __init__(self, refresh_s: float) -> None:
        if refresh_s <= 0:
            raise UsageError(f"the {self.what} refresh interval must be positive, not {refresh_s}")
        self.refresh_s = refresh_s
        self._stop = threading.Event()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @abstractmethod
    def refresh(self) -> None:
        """Reload the in-memory copy from the store."""

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.refresh_s + 5)

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                name = f"garrison-{self.what.replace(' ', '-')}-refresh"
                self._thread = threading.Thread(target=self._run, name=name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_s):
            try:
                self.refresh()
            except Exception:  # outlive a store outage: serve the last copy, retry next tick
                logger.warning(
                    "%s: refresh failed, keeping the last copy", self.what, exc_info=True
                )
