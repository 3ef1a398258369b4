"""The gateway's ASGI app: its routes and lifespan, built from a config and the stages to run.

Every request takes the same path: request id -> header and body-size bounds -> key (401)
-> scope (403) -> JSON with a depth bound (400) -> model allowlist (403) -> approved models
(403) -> quotas (429) -> content policy on the request -> upstream (502/504) -> content
policy on the answer or the stream filter -> quota charge -> one RequestRecord to the
recorder, the monitors and the metrics. A stage given as None is skipped.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from garrison.errors import UsageError
from garrison.gateway import errors, kserve_routes, openai_routes
from garrison.gateway.config import GatewayConfig
from garrison.gateway.handling import JSON_TYPE, Gateway, new_request_id, send_body
from garrison.gateway.keys import Authenticator
from garrison.gateway.stages import Approvals, ContentPolicy, Metrics, Observer, Quotas, RecordSink

logger = logging.getLogger(__name__)

ENV_CONFIG = "GARRISON_GATEWAY_CONFIG"  # the GatewayConfig as JSON, read by `app_from_env`
ENV_DB_URL = "GARRISON_DB_URL"
ASGIHandler = Callable[[Scope, Receive, Send], Awaitable[None]]


class _Endpoint:
    """A handler Starlette's Route calls as a raw ASGI app: no Request object is built."""

    __slots__ = ("handler",)

    def __init__(self, handler: ASGIHandler) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.handler(scope, receive, send)


def create_app(
    config: GatewayConfig,
    *,
    keys: Authenticator,
    quotas: Quotas | None = None,
    content: ContentPolicy | None = None,
    recorder: RecordSink | None = None,
    monitors: Observer | None = None,
    metrics: Metrics | None = None,
    approvals: Approvals | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    on_shutdown: Sequence[Callable[[], None]] = (),
) -> Starlette:
    """The gateway as an ASGI app.

    The app owns the stages it is given: its lifespan calls their `start` (when they have
    one) and, at shutdown, their `aclose` or `close`, and closes its pooled upstream client;
    then it calls `on_shutdown` (closing the store the stages wrote to, say). `transport`
    replaces the network under the upstream client (tests); `extra_routes` adds routes such
    as the admin API or /metrics; `metrics` is observed and also serves GET /metrics.
    """
    gateway = Gateway(
        config,
        keys,
        quotas=quotas,
        content=content,
        recorder=recorder,
        monitors=monitors,
        metrics=metrics,
        approvals=approvals,
        transport=transport,
    )

    def endpoint(handler: Callable[..., Awaitable[None]], *args: str) -> _Endpoint:
        return _Endpoint(functools.partial(handler, gateway, *args))

    generate = openai_routes.handle_generate
    routes: list[BaseRoute] = [
        Route("/v1/chat/completions", endpoint(generate, "chat"), methods=["POST"]),
        Route("/v1/completions", endpoint(generate, "completions"), methods=["POST"]),
        Route("/v1/embeddings", endpoint(generate, "embeddings"), methods=["POST"]),
        Route("/v1/models", endpoint(openai_routes.handle_models), methods=["GET"]),
        Route("/v2/models/{name}/infer", endpoint(kserve_routes.handle_infer), methods=["POST"]),
        Route("/v2/models/{name}", endpoint(kserve_routes.handle_metadata), methods=["GET"]),
        Route("/v2/health/live", endpoint(kserve_routes.handle_live), methods=["GET"]),
        Route("/v2/health/ready", endpoint(kserve_routes.handle_ready), methods=["GET"]),
        Route("/healthz", _Endpoint(_healthz), methods=["GET"]),
        *extra_routes,
    ]
    if metrics is not None:
        routes.append(metrics_route(metrics))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        try:
            yield
        finally:
            await gateway.aclose()
            for close in on_shutdown:
                try:
                    close()
                except Exception:
                    logger.exception("gateway shutdown step failed")

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, Exception: _http_error},
    )
    app.state.gateway = gateway
    return app


async def _healthz(scope: Scope, receive: Receive, send: Send) -> None:
    await send_body(send, 200, b'{"status":"ok"}', [JSON_TYPE])


def metrics_route(metrics: Metrics) -> Route:
    """GET /metrics: the Prometheus exposition of `metrics` (no key: scrapers have none)."""

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        body, content_type = metrics.render()
        await send_body(send, 200, body, [(b"content-type", content_type.encode("latin-1"))])

    return Route("/metrics", _Endpoint(handler), methods=["GET"])


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods, and anything that escaped a handler: the same error shape."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = {404: "no such endpoint", 405: "method not allowed on this endpoint"}.get(
        status, "the gateway failed to handle the request"
    )
    kind = errors.SERVER if status >= 500 else errors.INVALID_REQUEST
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    headers["x-request-id"] = new_request_id()
    body = errors.error_body(message, kind, None)
    return Response(body, status, headers, media_type="application/json")


def app_from_env() -> Starlette:
    """The app each `garrison gateway serve` worker runs, configured through the environment.

    $GARRISON_GATEWAY_CONFIG holds the GatewayConfig as JSON, $GARRISON_DB_URL the store,
    $GARRISON_UPSTREAM_API_KEY the upstream's key, $GARRISON_ADMIN_TOKEN (when set) turns on
    the admin API. Every stage of the request path is built here: keys, quotas, approvals,
    the content policy, the audit recorder, and the runtime (metrics, monitors, events).
    """
    from garrison.gateway.admin import admin_routes, admin_token_from_env
    from garrison.gateway.guarding import ContentPolicy
    from garrison.gateway.keys import KeyStore, load_authenticator
    from garrison.gateway.quotas import Quotas as QuotaStore
    from garrison.gateway.recorder import Recorder
    from garrison.runtime.pipeline import Runtime
    from garrison.store import database_url, open_store

    config = GatewayConfig.model_validate_json(os.environ.get(ENV_CONFIG) or "{}").with_env()
    store = open_store(database_url())
    keys = load_authenticator(store, config.refresh_s)
    approvals = None
    if config.require_approved:
        from garrison.gateway.admission import ApprovalCache
        from garrison.supplychain.provenance.approvals import Registry

        approvals = ApprovalCache(Registry(store), config.models.values(), config.refresh_s)
    # The runtime observes every record (metrics included), so /metrics is mounted apart.
    runtime = Runtime(config.monitors, store_text=config.store_text)
    routes: list[BaseRoute] = [metrics_route(runtime.metrics)]
    token = admin_token_from_env()
    if token:
        routes += admin_routes(KeyStore(store), token, on_change=keys.refresh)
    return create_app(
        config,
        keys=keys,
        quotas=QuotaStore(config.redis_url or "memory://"),
        content=ContentPolicy(config.guards, config.tools),
        recorder=Recorder(store, store_text=config.store_text),
        monitors=runtime,
        approvals=approvals,
        extra_routes=routes,
        on_shutdown=[store.close],
    )


def serve(
    config: GatewayConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    db_url: str | None = None,
    log_level: str = "info",
) -> None:
    """Run the gateway under uvicorn until interrupted; `workers` processes share the port.

    The store is opened (and migrated) once here, so the workers only read it; each worker
    builds its app with `app_from_env` from the environment this sets.
    """
    import uvicorn

    from garrison.store import database_url, open_store

    if config.upstream is None:
        raise UsageError("the gateway needs an upstream: pass --upstream URL")
    if not 0 < port < 65536:
        raise UsageError(f"--port must be between 1 and 65535, not {port}")
    if workers < 1:
        raise UsageError(f"--workers must be at least 1, not {workers}")
    _check_bind(host, port)
    _check_worker_settings(config)
    if workers > 1 and config.redis_url is None:
        logger.warning("quotas are counted per worker: give the workers a shared --redis")
    url = db_url or database_url()
    open_store(url).close()
    os.environ[ENV_CONFIG] = config.model_dump_json()
    os.environ[ENV_DB_URL] = url
    with _metrics_directory(workers):
        uvicorn.run(
            "garrison.gateway.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            lifespan="on",
            access_log=False,  # every request is recorded in the store already
            server_header=False,
            log_level=log_level,
        )


@contextmanager
def _metrics_directory(workers: int) -> Iterator[None]:
    """Prometheus multiprocess mode for several workers, so /metrics counts them all.

    The workers inherit the directory through the environment and prometheus_client reads
    it on import. A directory the user named is emptied of the last run's samples; without
    one, several workers get a temporary directory removed at exit.
    """
    from garrison.runtime.metrics import MULTIPROC_ENV

    given = os.environ.get(MULTIPROC_ENV, "").strip()
    if given:
        directory = Path(given)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            for stale in directory.glob("*.db"):
                stale.unlink()
        except OSError as exc:
            raise UsageError(f"${MULTIPROC_ENV} {given}: {exc.strerror}") from None
        yield
        return
    if workers == 1:
        yield
        return
    created = tempfile.mkdtemp(prefix="garrison-metrics-")
    os.environ[MULTIPROC_ENV] = created
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(created, ignore_errors=True)


def _check_worker_settings(config: GatewayConfig) -> None:
    """Mistakes each worker would otherwise hit at startup, each with a traceback of its own."""
    from garrison.gateway.admin import MIN_TOKEN_CHARS, admin_token_from_env
    from garrison.runtime.events import syslog_target

    token = admin_token_from_env()
    if token and len(token) < MIN_TOKEN_CHARS:
        raise UsageError(f"$GARRISON_ADMIN_TOKEN must be at least {MIN_TOKEN_CHARS} characters")
    monitors = config.monitors
    if monitors.events_path is not None and not monitors.events_path.parent.is_dir():
        raise UsageError(f"events directory does not exist: {monitors.events_path.parent}")
    if monitors.syslog_address is not None:
        syslog_target(monitors.syslog_address)


def _check_bind(host: str, port: int) -> None:
    """Fail with one line, before any worker starts, when the address cannot be bound."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise UsageError(f"cannot resolve --host {host!r}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UsageError(
                    f"port {port} on {host} is already in use: pick another with --port"
                ) from None
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
