"""Per-key quotas: requests per minute, tokens per minute and per UTC day, in memory or Redis.

Requests use a moving window, exact even when several workers share Redis. Tokens use fixed
windows: admission tests the estimate, `charge` adds the real usage (overage included, so a key
that overran waits for its window to reset). The memory storage is per process: give several
workers a shared `redis://` storage.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from garrison.errors import GarrisonError, MissingExtraError, UsageError
from garrison.gateway.keys import ApiKey

if TYPE_CHECKING:
    from limits import RateLimitItem
    from limits.aio.storage import Storage

QUOTA_RPM = "quota.rpm"
QUOTA_TPM = "quota.tpm"
QUOTA_DAILY = "quota.daily"
_NAMESPACE = "garrison"


class QuotaUnavailable(GarrisonError):
    """The quota storage cannot be reached; the gateway refuses rather than serve unmetered."""


@dataclass(frozen=True, slots=True)
class QuotaDecision:
    allowed: bool
    reason: str  # "" | QUOTA_RPM | QUOTA_TPM | QUOTA_DAILY
    retry_after_s: float
    headers: dict[str, str]


class Quotas:
    """Admit requests against a key's limits and charge the tokens they used."""

    def __init__(self, storage_uri: str = "memory://", *, redis_connections: int = 64) -> None:
        """`redis_connections` caps each worker's pool; requests beyond it wait for a free
        connection. Use one instance from one event loop: Redis connections belong to it."""
        self.storage_uri = storage_uri
        self._storage = _open_storage(storage_uri, redis_connections)
        from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

        self._requests = MovingWindowRateLimiter(self._storage)
        self._tokens = FixedWindowRateLimiter(self._storage)

    async def admit(self, key: ApiKey, estimated_tokens: int) -> QuotaDecision:
        """Tests the token limits with the estimate, then takes one request from rpm."""
        if key.rpm is None and key.tpm is None and key.daily_tokens is None:
            return QuotaDecision(True, "", 0.0, {})
        from limits.errors import StorageError

        try:
            return await self._admit(key, max(estimated_tokens, 0))
        except StorageError:
            raise QuotaUnavailable(f"quota storage {self.display_uri} is unreachable") from None

    async def charge(self, key: ApiKey, tokens: int) -> None:
        """Adds the tokens a request really used to the key's token windows."""
        if tokens <= 0 or (key.tpm is None and key.daily_tokens is None):
            return
        from limits.errors import StorageError

        try:
            if key.tpm is not None:
                await self._tokens.hit(_per_minute(key.tpm), key.id, cost=tokens)
            if key.daily_tokens is not None:
                await self._tokens.hit(_per_day(key.daily_tokens), key.id, _today(), cost=tokens)
        except StorageError:
            raise QuotaUnavailable(f"quota storage {self.display_uri} is unreachable") from None

    async def check(self) -> bool:
        """Whether the storage answers (for a readiness probe)."""
        return await self._storage.check()

    @property
    def display_uri(self) -> str:
        parts = urlsplit(self.storage_uri)
        return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"

    async def _admit(self, key: ApiKey, estimate: int) -> QuotaDecision:
        headers: dict[str, str] = {}
        if key.daily_tokens is not None:
            item = _per_day(key.daily_tokens)
            stats = await self._tokens.get_window_stats(item, key.id, _today())
            if stats.remaining < _cost(item, estimate):
                return _deny(QUOTA_DAILY, _next_utc_midnight() - time.time(), headers)
        if key.tpm is not None:
            item = _per_minute(key.tpm)
            stats = await self._tokens.get_window_stats(item, key.id)
            reset_s = max(stats.reset_time - time.time(), 0.0)
            headers.update(_headers("tokens", key.tpm, stats.remaining, reset_s))
            if stats.remaining < _cost(item, estimate):
                return _deny(QUOTA_TPM, reset_s, headers)
        if key.rpm is not None:
            item = _per_minute(key.rpm)
            allowed = await self._requests.hit(item, key.id)
            stats = await self._requests.get_window_stats(item, key.id)
            reset_s = max(stats.reset_time - time.time(), 0.0)
            headers.update(_headers("requests", key.rpm, stats.remaining, reset_s))
            if not allowed:
                return _deny(QUOTA_RPM, reset_s, headers)
        return QuotaDecision(True, "", 0.0, headers)


def _open_storage(uri: str, redis_connections: int) -> Storage:
    try:
        from limits.storage import storage_from_string
    except ModuleNotFoundError:
        raise MissingExtraError("limits", "gateway") from None
    scheme = uri.partition("://")[0].lower()
    if scheme == "memory":
        return storage_from_string("async+memory://")  # type: ignore[return-value]
    if scheme not in ("redis", "rediss"):
        raise UsageError(
            f"quota storage must be memory:// or redis://HOST:PORT/DB, not {scheme}://"
        )
    try:
        from redis.asyncio import BlockingConnectionPool
    except ModuleNotFoundError:
        raise MissingExtraError("redis", "gateway") from None
    # The default pool fails with "Too many connections" under a burst; this one queues.
    pool = BlockingConnectionPool.from_url(uri, max_connections=redis_connections, timeout=10)
    # redis-py's client: limits defaults to coredis, which garrison does not ship.
    return storage_from_string(  # type: ignore[return-value]
        f"async+{uri}",
        implementation="redispy",
        connection_pool=pool,  # type: ignore[arg-type]
        wrap_exceptions=True,
        key_prefix=_NAMESPACE,
    )


@lru_cache(maxsize=1024)
def _per_minute(amount: int) -> RateLimitItem:
    from limits import RateLimitItemPerMinute

    return RateLimitItemPerMinute(amount, namespace=_NAMESPACE)


@lru_cache(maxsize=1024)
def _per_day(amount: int) -> RateLimitItem:
    from limits import RateLimitItemPerDay

    return RateLimitItemPerDay(amount, namespace=_NAMESPACE)


def _cost(item: RateLimitItem, estimate: int) -> int:
    # A request larger than the whole limit is let through an empty window rather than never.
    return max(1, min(estimate, item.amount))


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def _next_utc_midnight() -> float:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (today + timedelta(days=1)).timestamp()


def _deny(reason: str, retry_after_s: float, headers: dict[str, str]) -> QuotaDecision:
    retry = max(retry_after_s, 0.001)
    headers["retry-after"] = str(math.ceil(retry))
    return QuotaDecision(False, reason, retry, headers)


def _headers(kind: str, limit: int, remaining: int, reset_s: float) -> dict[str, str]:
    return {
        f"x-ratelimit-limit-{kind}": str(limit),
        f"x-ratelimit-remaining-{kind}": str(max(remaining, 0)),
        f"x-ratelimit-reset-{kind}": format_reset(reset_s),
    }


def format_reset(seconds: float) -> str:
    """OpenAI's style of duration: "20ms", "1s", "6m0s", "1h2m3s"."""
    if seconds < 1:
        return f"{max(round(seconds * 1000), 0)}ms"
    whole = math.ceil(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"
