"""The gateway's admin API: create, list and revoke keys under /admin, behind a bearer token.

Without an admin token the API answers 404 everywhere, so an unconfigured gateway exposes none.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from garrison.errors import GarrisonError, UsageError
from garrison.gateway.errors import AUTHENTICATION
from garrison.gateway.keys import KeyNotFound, KeyStore, key_to_dict, parse_expiry

ENV_ADMIN_TOKEN = "GARRISON_ADMIN_TOKEN"
MIN_TOKEN_CHARS = 16
MAX_BODY_BYTES = 64 * 1024
CREATE_FIELDS = frozenset(
    ("owner", "models", "scopes", "tools", "guard_mode", "rpm", "tpm", "daily_tokens", "expires")
)

logger = logging.getLogger(__name__)
Endpoint = Callable[[Request], Awaitable[Response]]


def admin_token_from_env(environ: Mapping[str, str] = os.environ) -> str:
    """$GARRISON_ADMIN_TOKEN, or "" (the admin API disabled)."""
    return environ.get(ENV_ADMIN_TOKEN, "").strip()


def admin_routes(
    keys: KeyStore, token: str, *, on_change: Callable[[], None] | None = None
) -> list[Route]:
    """POST/GET /admin/keys and DELETE /admin/keys/{key_id}.

    `on_change` runs after a key is created or revoked (e.g. `KeyCache.refresh`), so this
    worker sees the change at once rather than at its next refresh.
    """
    if token and len(token) < MIN_TOKEN_CHARS:
        raise UsageError(f"the admin token must be at least {MIN_TOKEN_CHARS} characters long")
    admin = _Admin(keys, token, on_change)
    return [
        Route("/admin/keys", admin.guarded(admin.create_key), methods=["POST"]),
        Route("/admin/keys", admin.guarded(admin.list_keys), methods=["GET"]),
        Route("/admin/keys/{key_id}", admin.guarded(admin.revoke_key), methods=["DELETE"]),
    ]


class _Admin:
    def __init__(self, keys: KeyStore, token: str, on_change: Callable[[], None] | None) -> None:
        self.keys = keys
        # Compare digests so the comparison takes as long whatever the length of the guess.
        self.token_digest = hashlib.sha256(token.encode()).digest() if token else None
        self.on_change = on_change

    def guarded(self, endpoint: Endpoint) -> Endpoint:
        async def handle(request: Request) -> Response:
            if self.token_digest is None:
                return error(404, "Not found.", "not_found")
            if not self._authorized(request):
                response = error(401, "invalid admin token", "invalid_api_key", AUTHENTICATION)
                response.headers["www-authenticate"] = "Bearer"
                return response
            try:
                return await endpoint(request)
            except KeyNotFound as exc:
                return error(404, str(exc), "not_found")
            except _TooLarge as exc:
                return error(413, str(exc), "body_too_large")
            except UsageError as exc:
                return error(400, str(exc), "invalid_request")
            except (GarrisonError, SQLAlchemyError):
                logger.exception("admin API: the key store failed")
                return error(503, "The key store is unavailable.", "unavailable", "server_error")

        return handle

    def _authorized(self, request: Request) -> bool:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        digest = hashlib.sha256(given.strip().encode("utf-8", "surrogatepass")).digest()
        matches = hmac.compare_digest(digest, self.token_digest or b"")
        return matches and scheme.lower() == "bearer"

    async def create_key(self, request: Request) -> Response:
        body = _json_object(await _read_body(request))
        unknown = sorted(set(body) - CREATE_FIELDS)
        if unknown:
            raise UsageError(f"unknown field(s): {', '.join(unknown)}")
        fields = dict(body)
        expires = fields.pop("expires", None)
        if expires is not None:
            if not isinstance(expires, str):
                raise UsageError("expires must be a date YYYY-MM-DD or an ISO 8601 time")
            fields["expires"] = parse_expiry(expires)
        if "owner" not in fields:
            raise UsageError("a key needs an owner")
        secret, key = await run_in_threadpool(self.keys.create, **fields, actor=_actor(request))
        await self._changed()
        content = {"object": "gateway.key", "secret": secret, "key": key_to_dict(key)}
        return JSONResponse(content, status_code=201, headers={"cache-control": "no-store"})

    async def list_keys(self, request: Request) -> Response:
        everything = request.query_params.get("all", "").lower() in ("1", "true", "yes")
        keys = await run_in_threadpool(self.keys.list, everything)
        return JSONResponse({"object": "list", "data": [key_to_dict(k) for k in keys]})

    async def revoke_key(self, request: Request) -> Response:
        reason: Any = request.query_params.get("reason")
        if reason is None:
            raw = await _read_body(request)
            reason = _json_object(raw).get("reason") if raw.strip() else None
        if not isinstance(reason, str):
            raise UsageError("a revocation needs a reason (query ?reason= or a JSON body)")
        key_id = request.path_params["key_id"]
        key = await run_in_threadpool(self.keys.revoke, key_id, reason, _actor(request))
        await self._changed()
        return JSONResponse(key_to_dict(key))

    async def _changed(self) -> None:
        if self.on_change is None:
            return
        try:
            await run_in_threadpool(self.on_change)
        except Exception:  # the change is committed; the cache catches up at its next refresh
            logger.warning("admin API: on_change failed", exc_info=True)


def error(status: int, message: str, code: str, kind: str = "invalid_request_error") -> Response:
    """An error shaped like OpenAI's, which clients of an OpenAI-compatible API can parse."""
    content = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return JSONResponse(content, status_code=status)


class _TooLarge(UsageError):
    pass


async def _read_body(request: Request) -> bytes:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise _TooLarge(f"the body must be at most {MAX_BODY_BYTES} bytes")
    return bytes(raw)


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        raise UsageError("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise UsageError("the body must be a JSON object")
    return body


def _actor(request: Request) -> str:
    host = request.client.host if request.client is not None else ""
    return f"admin-api@{host}" if host else "admin-api"
