"""The audit log's latest verification, kept so a page load does not walk the whole chain.

The first page waits for a full verify; later pages show the kept result with its age, and
once it is older than the TTL one background thread verifies again. At most one verify runs
at a time, and callers that arrive while one runs share its result.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from garrison.errors import UsageError
from garrison.store.audit import VerifyResult

logger = logging.getLogger(__name__)

DEFAULT_TTL_S = 60.0


@dataclass(frozen=True, slots=True)
class Verified:
    """One finished verify: its result, when it started and ended (monotonic clock)."""

    result: VerifyResult
    started: float
    finished: float

    @property
    def took(self) -> float:
        return self.finished - self.started


@dataclass(frozen=True, slots=True)
class VerifyState:
    """What a page shows: the latest result, how old it is, whether a newer one is on its way."""

    result: VerifyResult
    age_s: float
    took_s: float
    refreshing: bool

    @property
    def age(self) -> str:
        return duration(self.age_s)


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    return f"{seconds / 3600:.1f} h"


class VerifyCache:
    """Thread-safe holder of the latest verify of one audit log."""

    def __init__(
        self,
        verify: Callable[[], VerifyResult],
        *,
        ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_s <= 0:
            raise UsageError(f"the audit verify interval must be positive, not {ttl_s} s")
        self._verify = verify
        self.ttl_s = ttl_s
        self._clock = clock
        self._state_lock = threading.Lock()  # guards _latest and _refresher; held briefly
        self._verify_lock = threading.Lock()  # held for the whole of one verify
        self._latest: Verified | None = None
        self._refresher: threading.Thread | None = None

    def state(self) -> VerifyState:
        """The latest result; verifies first only when there is none yet, and starts a
        background verify when the latest is older than the TTL."""
        with self._state_lock:
            latest = self._latest
        if latest is None:
            latest = self._verify_since(None)
        elif self._clock() - latest.finished >= self.ttl_s:
            self.refresh_in_background()
        return self._state_of(latest)

    def verify_now(self) -> VerifyState:
        """A result from a verify that started no earlier than this call: run one, or wait for
        one that another caller started after this call did."""
        return self._state_of(self._verify_since(self._clock()))

    def refresh_in_background(self) -> None:
        """Start a verify in a daemon thread unless one is already on its way."""
        with self._state_lock:
            if self._refresher is not None and self._refresher.is_alive():
                return
            self._refresher = threading.Thread(
                target=self._refresh,
                args=(self._clock(),),
                name="garrison-audit-verify",
                daemon=True,
            )
            self._refresher.start()

    def wait_for_refresh(self, timeout: float | None = None) -> None:
        """Block until the background verify in flight, if any, has finished."""
        with self._state_lock:
            refresher = self._refresher
        if refresher is not None:
            refresher.join(timeout)

    def _refresh(self, since: float) -> None:
        try:
            self._verify_since(since)
        except Exception:
            # Keep showing the older result, whose age keeps growing; the next stale page
            # load tries again.
            logger.exception("background audit verify failed")

    def _verify_since(self, since: float | None) -> Verified:
        """A verify that started at or after `since` (any verify when None)."""
        with self._verify_lock:
            with self._state_lock:
                latest = self._latest
            if latest is not None and (since is None or latest.started >= since):
                return latest
            started = self._clock()
            result = self._verify()
            done = Verified(result, started, self._clock())
            with self._state_lock:
                self._latest = done
            return done

    def _state_of(self, verified: Verified) -> VerifyState:
        with self._state_lock:
            refreshing = self._refresher is not None and self._refresher.is_alive()
        return VerifyState(
            result=verified.result,
            age_s=max(0.0, self._clock() - verified.finished),
            took_s=verified.took,
            refreshing=refreshing,
        )
