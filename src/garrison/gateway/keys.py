"""Gateway API keys: created once, stored hashed, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import secrets
import time as _time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any, Protocol

from sqlalchemy import insert, or_, select, update

from garrison.errors import UsageError
from garrison.gateway.refresh import Refreshed
from garrison.store.audit import append_in, default_actor, now_iso
from garrison.store.db import Store
from garrison.store.models import GatewayKey

# Scopes a key may hold; each names a route family of the gateway.
SCOPES = ("chat", "completions", "embeddings", "models", "infer")


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str  # public id, e.g. "gk_3f9a1c2e"; the secret is never stored
    owner: str
    models: tuple[str, ...] = ()  # empty: every model
    scopes: tuple[str, ...] = SCOPES
    tools: tuple[str, ...] | None = None  # tools the key may offer; None: the policy's default
    guard_mode: str | None = None  # "block" | "redact" | "log" overrides the route's mode
    rpm: int | None = None  # requests per minute
    tpm: int | None = None  # tokens per minute
    daily_tokens: int | None = None
    expires: str | None = None  # ISO-8601 UTC
    created: str = ""
    revoked: str | None = None

    def allows_model(self, model: str | None) -> bool:
        return not self.models or (model is not None and model in self.models)


# Secrets look like "gk-3f9a1c2e7b40-<43 random url-safe characters>".
SECRET_PREFIX = "gk-"
GUARD_MODES = ("block", "redact", "log")
MAX_TOKEN_CHARS = 512
_MAX_NAMES = 1000
_MAX_NAME_CHARS = 200
_MAX_LIMIT = 10**15
# Compared against when a token is unknown, so a miss costs what a hit costs.
_DUMMY_DIGEST = hashlib.sha256(b"garrison: no such key").hexdigest()

logger = logging.getLogger(__name__)


class KeyNotFound(UsageError):
    """No key has this id."""


class Authenticator(Protocol):
    def authenticate(self, token: str) -> ApiKey | None:
        """The key a bearer token belongs to; None when unknown, revoked or expired."""
        ...


def token_digest(token: str) -> str:
    # Secrets carry 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def key_status(key: ApiKey, now: str | None = None) -> str:
    """One of "active", "expired" or "revoked"."""
    if key.revoked is not None:
        return "revoked"
    if key.expires is not None and key.expires <= (now or now_iso()):
        return "expired"
    return "active"


def key_to_dict(key: ApiKey) -> dict[str, Any]:
    """A key as JSON-ready data with its status; there is no secret to leak in it."""
    out: dict[str, Any] = {name: getattr(key, name) for name in key.__slots__}
    for name in ("models", "scopes", "tools"):
        if out[name] is not None:
            out[name] = list(out[name])
    out["status"] = key_status(key)
    return out


def parse_expiry(text: str) -> datetime:
    """YYYY-MM-DD (valid through that day, UTC) or an ISO 8601 time (UTC when no offset)."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").date()
            return datetime.combine(day, time.max, tzinfo=UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"expiry must be a date YYYY-MM-DD or an ISO 8601 time, not {text!r}"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class KeyStore:
    """Create, list and revoke gateway keys; each act is audited in its own transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(
        self,
        owner: str,
        models: Sequence[str] = (),
        scopes: Sequence[str] = SCOPES,
        tools: Sequence[str] | None = None,
        guard_mode: str | None = None,
        rpm: int | None = None,
        tpm: int | None = None,
        daily_tokens: int | None = None,
        expires: datetime | None = None,
        actor: str | None = None,
    ) -> tuple[str, ApiKey]:
        """A new key and its secret: the only time the secret exists outside the client."""
        if not isinstance(owner, str) or not owner.strip():
            raise UsageError("a key needs an owner")
        if len(owner.strip()) > _MAX_NAME_CHARS:
            raise UsageError(f"owner is longer than {_MAX_NAME_CHARS} characters")
        if guard_mode is not None and guard_mode not in GUARD_MODES:
            raise UsageError(
                f"guard mode must be one of {', '.join(GUARD_MODES)}; got {guard_mode!r}"
            )
        key_scopes = _names(scopes, "scopes")
        unknown = [s for s in key_scopes if s not in SCOPES]
        if unknown or not key_scopes:
            raise UsageError(
                f"scopes must be some of {', '.join(SCOPES)}; got {', '.join(unknown) or 'none'}"
            )
        hex_id = secrets.token_hex(6)
        secret = f"{SECRET_PREFIX}{hex_id}-{secrets.token_urlsafe(32)}"
        row: dict[str, Any] = {
            "id": f"gk_{hex_id}",
            "digest": token_digest(secret),
            "owner": owner.strip(),
            "models": json.dumps(list(_names(models, "models"))),
            "scopes": json.dumps(list(key_scopes)),
            "tools": None if tools is None else json.dumps(list(_names(tools, "tools"))),
            "guard_mode": guard_mode,
            "rpm": _limit("rpm", rpm),
            "tpm": _limit("tpm", tpm),
            "daily_tokens": _limit("daily_tokens", daily_tokens),
            "expires_at": _expires_at(expires),
            "created_at": now_iso(),
            "created_by": actor or default_actor(),
        }
        key = _api_key({**row, "revoked_at": None})
        audited = {
            k: v for k, v in key_to_dict(key).items() if k not in ("id", "created", "status")
        }
        with self.store.locked_transaction() as conn:
            conn.execute(insert(GatewayKey).values(**row))
            append_in(conn, "gateway.key.create", key.id, audited, row["created_by"])
        return secret, key

    def get(self, key_id: str) -> ApiKey:
        with self.store.engine.connect() as conn:
            row = conn.execute(_ROWS.where(GatewayKey.id == key_id)).first()
        if row is None:
            raise KeyNotFound(f"no gateway key {key_id!r}")
        return _api_key(row._mapping)

    def revoke(self, key_id: str, reason: str, actor: str | None = None) -> ApiKey:
        if not isinstance(reason, str) or not reason.strip():
            raise UsageError("a revocation needs a reason")
        who = actor or default_actor()
        with self.store.locked_transaction() as conn:
            row = conn.execute(_ROWS.where(GatewayKey.id == key_id)).first()
            if row is None:
                raise KeyNotFound(f"no gateway key {key_id!r}")
            if row.revoked_at is not None:
                raise UsageError(f"key {key_id} was already revoked on {row.revoked_at[:10]}")
            values = {"revoked_at": now_iso(), "revoked_by": who, "revoke_reason": reason.strip()}
            conn.execute(update(GatewayKey).where(GatewayKey.id == key_id).values(**values))
            details = {"owner": row.owner, "reason": values["revoke_reason"]}
            append_in(conn, "gateway.key.revoke", key_id, details, who)
        return _api_key({**row._mapping, **values})

    def active(self) -> list[tuple[str, ApiKey]]:
        """(digest, key) of every key neither revoked nor expired: what the gateway accepts."""
        now = now_iso()
        query = _ROWS.where(
            GatewayKey.revoked_at.is_(None),
            or_(GatewayKey.expires_at.is_(None), GatewayKey.expires_at > now),
        )
        with self.store.engine.connect() as conn:
            return [(row.digest, _api_key(row._mapping)) for row in conn.execute(query)]

    def list(self, include_revoked: bool = False) -> list[ApiKey]:
        query = _ROWS.order_by(GatewayKey.created_at, GatewayKey.id)
        if not include_revoked:
            query = query.where(GatewayKey.revoked_at.is_(None))
        with self.store.engine.connect() as conn:
            return [_api_key(row._mapping) for row in conn.execute(query)]


class KeyCache(Refreshed):
    """Authenticates requests from an in-memory copy of the active keys.

    A daemon thread reloads the copy every `refresh_s`, so the event loop never waits on the
    store and a revocation takes effect within about `refresh_s`. The thread starts on the
    first `authenticate`, in the process that serves, not the one that built the cache.
    """

    what = "gateway keys"

    def __init__(self, store: Store, refresh_s: float = 2.0) -> None:
        super().__init__(refresh_s)
        self._keys = KeyStore(store)
        self._entries: dict[str, tuple[ApiKey, float, str]] = {}
        self.refresh()  # a broken store fails at startup, not on the first request

    def authenticate(self, token: str) -> ApiKey | None:
        self._ensure_started()
        if len(token) > MAX_TOKEN_CHARS:
            return None
        digest = token_digest(token)
        entry = self._entries.get(digest)
        stored = entry[2] if entry is not None else _DUMMY_DIGEST
        if not hmac.compare_digest(stored, digest) or entry is None:
            return None
        key, expires_at, _ = entry
        return key if _time.time() < expires_at else None

    def refresh(self) -> None:
        """Reload the active keys now (also what the background thread does)."""
        active = self._keys.active()
        self._entries = {digest: (key, _epoch(key.expires), digest) for digest, key in active}


def load_authenticator(store: Store, refresh_s: float = 2.0) -> KeyCache:
    """The authenticator `garrison gateway serve` uses: the store's keys, cached."""
    return KeyCache(store, refresh_s)


_ROWS = select(*GatewayKey.__table__.columns)


def _names(values: Sequence[str], what: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise UsageError(f"{what} must be a list of names")
    if len(values) > _MAX_NAMES:
        raise UsageError(f"too many {what}: {len(values)} > {_MAX_NAMES}")
    names: dict[str, None] = {}  # ordered and without duplicates
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise UsageError(f"{what} must be non-empty names; got {value!r}")
        if len(value.strip()) > _MAX_NAME_CHARS:
            raise UsageError(f"a name in {what} is longer than {_MAX_NAME_CHARS} characters")
        names[value.strip()] = None
    return tuple(names)


def _limit(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_LIMIT:
        raise UsageError(f"{name} must be a positive whole number, not {value!r}")
    return value


def _expires_at(expires: datetime | None) -> str | None:
    if expires is None:
        return None
    if not isinstance(expires, datetime):
        raise UsageError(f"expiry must be a time, not {expires!r}")
    when = expires if expires.tzinfo is not None else expires.replace(tzinfo=UTC)
    if when <= datetime.now(UTC):
        raise UsageError(f"expiry {when:%Y-%m-%d %H:%M} UTC is in the past")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _epoch(iso: str | None) -> float:
    if iso is None:
        return math.inf
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


def _api_key(row: Any) -> ApiKey:
    tools = row["tools"]
    return ApiKey(
        id=row["id"],
        owner=row["owner"],
        models=tuple(json.loads(row["models"])),
        scopes=tuple(json.loads(row["scopes"])),
        tools=None if tools is None else tuple(json.loads(tools)),
        guard_mode=row["guard_mode"],
        rpm=row["rpm"],
        tpm=row["tpm"],
        daily_tokens=row["daily_tokens"],
        expires=row["expires_at"],
        created=row["created_at"],
        revoked=row["revoked_at"],
    )
