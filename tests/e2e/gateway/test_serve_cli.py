"""`garrison gateway serve` as a user runs it: mistakes get one line, a real run serves."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from garrison.cli.main import app
from garrison.gateway.keys import KeyStore
from garrison.store import open_store
from garrison.store.models import GatewayRequest
from tests.unit.gateway.fakes import Seen, fake_upstream, free_port, serving


def garrison(*args: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    monkeypatch.setenv("GARRISON_DB_URL", f"sqlite:///{tmp_path / 'g.db'}")
    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(app, ["gateway", "serve", *args])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--upstream", "localhost:8000"], "garrison: error: upstream: must be an http(s) URL"),
        ([], "the gateway needs an upstream"),
        (["--upstream", "http://127.0.0.1:1/v1", "--port", "70000"], "--port must be between"),
        (["--upstream", "http://127.0.0.1:1/v1", "--redis", "localhost"], "redis_url"),
    ],
)
def test_mistakes_are_one_line(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = garrison(*args, tmp_path=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_port_in_use_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = garrison(
            "--upstream",
            "http://127.0.0.1:1/v1",
            "--port",
            str(port),
            tmp_path=tmp_path,
            monkeypatch=monkeypatch,
        )
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.fixture
def upstream() -> Iterator[str]:
    with serving(fake_upstream(Seen())) as url:
        yield f"{url}/v1"


def test_serve_with_two_workers_authenticates_forwards_and_records(
    upstream: str, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'g.db'}"
    store = open_store(db)
    secret, _ = KeyStore(store).create("team-a", models=["llama-3-8b"])
    port = free_port()
    env = {**os.environ, "NO_COLOR": "1", "GARRISON_UPSTREAM_API_KEY": "sk-up"}
    command = [sys.executable, "-m", "garrison", "gateway", "serve", "--upstream", upstream]
    command += ["--port", str(port), "--workers", "2", "--db", db]
    server = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, server)
        body = {"model": "llama-3-8b", "messages": [{"role": "user", "content": "hi"}]}
        with httpx.Client(base_url=base, timeout=10) as client:
            ok = client.post(
                "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {secret}"}
            )
            denied = client.post("/v1/chat/completions", json=body, headers={"api-key": "gk-x"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["choices"][0]["message"]["content"] == "Hello world"
        assert denied.status_code == 401
    finally:
        server.send_signal(signal.SIGINT)
        output = server.communicate(timeout=30)[0].decode()
    assert "Traceback" not in output, output
    with store.engine.connect() as conn:  # the recorder flushed both on shutdown
        assert conn.execute(select(func.count()).select_from(GatewayRequest)).scalar_one() == 2
    store.close()


def _wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(server.communicate()[0].decode())
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the gateway did not start")
