"""`garrison gateway serve` in a subprocess, the services it needs, and what it stored."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from sqlalchemy import select

from garrison.gateway.keys import KeyStore
from garrison.store import open_store
from garrison.store.models import AuditRecord, GatewayRequest
from tests.unit.gateway.fakes import free_port

REDIS_URL = os.environ.get("GARRISON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
GUARDS_OFF = '[gateway.guards]\ninput = "off"\noutput = "off"\n'


def unavailable(service: str, reason: str) -> NoReturn:
    """Fail in CI, where the service must run; skip on a laptop without it."""
    if os.environ.get("CI"):
        pytest.fail(f"{service} is required in CI: {reason}")
    pytest.skip(f"{service} not reachable: {reason}")


def redis_url() -> str:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable("Redis", str(exc))
    finally:
        client.close()
    return REDIS_URL


@dataclass
class Served:
    base: str  # http://127.0.0.1:PORT
    db: str
    log: Path

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def gateway_serve(
    tmp_path: Path,
    upstream: str,
    *,
    db: str | None = None,
    policy: str = "",
    workers: int = 1,
    redis: str | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Served]:
    """`garrison gateway serve` with `policy` as its garrison.toml, until the block ends.

    It is stopped with SIGINT, as a user's Ctrl-C, so the workers flush what they queued;
    its output must then hold no traceback.
    """
    db = db or f"sqlite:///{tmp_path / 'garrison.db'}"
    policy_path = tmp_path / "garrison.toml"
    policy_path.write_text(policy, encoding="utf-8")
    port = free_port()
    command = [sys.executable, "-m", "garrison", "gateway", "serve", "--upstream", upstream]
    command += ["--port", str(port), "--workers", str(workers), "--db", db]
    command += ["--policy", str(policy_path)]
    if redis is not None:
        command += ["--redis", redis]
    environ = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    environ.update({"NO_COLOR": "1", **(env or {})})
    log = tmp_path / "gateway.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, cwd=tmp_path, env=environ, stdout=out, stderr=subprocess.STDOUT
        )
    served = Served(f"http://127.0.0.1:{port}", db, log)
    try:
        _wait_ready(served, server)
        yield served
    finally:
        _stop(server)
    assert "Traceback" not in served.output, served.output


def _wait_ready(served: Served, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the gateway exited:\n{served.output}")
        try:
            if httpx.get(f"{served.base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"the gateway did not start:\n{served.output}")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        raise AssertionError("the gateway did not stop within 30 s of SIGINT") from None


def create_key(db: str, owner: str = "e2e", **fields: Any) -> str:
    """A key's secret, created straight in the store (before the gateway starts)."""
    store = open_store(db)
    try:
        secret, _ = KeyStore(store).create(owner, **fields)
    finally:
        store.close()
    return secret


def request_rows(db: str) -> list[dict[str, Any]]:
    """Every row of gateway_requests, oldest first."""
    store = open_store(db, create=False)
    try:
        with store.engine.connect() as conn:
            query = select(*GatewayRequest.__table__.columns).order_by(GatewayRequest.id)
            return [dict(row._mapping) for row in conn.execute(query)]
    finally:
        store.close()


def audit_actions(db: str) -> list[str]:
    store = open_store(db, create=False)
    try:
        with store.engine.connect() as conn:
            return list(conn.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)))
    finally:
        store.close()


def wait_for_row(db: str, request_id: str, timeout_s: float = 5.0) -> dict[str, Any]:
    """The row of one request, once the gateway's batched recorder has written it."""
    deadline = time.monotonic() + timeout_s
    while True:
        for row in request_rows(db):
            if row["request_id"] == request_id:
                return row
        if time.monotonic() > deadline:
            raise AssertionError(f"request {request_id} was not recorded")
        time.sleep(0.1)


@dataclass(frozen=True)
class RawResponse:
    status_code: int
    headers: dict[str, str]  # names lower-cased
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


async def raw_post(base: str, path: str, body: Any, headers: dict[str, str]) -> RawResponse:
    """POST over a new connection with a bare HTTP/1.1 client.

    A burst of a thousand concurrent requests costs httpx seconds of CPU on its own; this
    costs a tenth of that, which leaves the two cores of a CI runner to the gateway.
    """
    url = httpx.URL(base)
    data = json.dumps(body).encode()
    lines = [f"POST {path} HTTP/1.1", f"host: {url.host}:{url.port}", "connection: close"]
    lines += ["content-type: application/json", f"content-length: {len(data)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        await writer.drain()
        answer = await reader.read()  # to EOF: the server closes after its answer
    finally:
        writer.close()
    head, _, content = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return RawResponse(int(status_line.split()[1]), parsed, content)
