"""How `garrison gateway serve` assembles a worker: the [gateway.*] tables, the admin API,
/metrics, the streaming fast path, and the Prometheus directory of several workers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from typer.testing import CliRunner

from garrison.cli.main import app as main_app
from garrison.errors import PolicyError
from garrison.gateway import app as gateway_app
from garrison.gateway.app import ENV_CONFIG, app_from_env
from garrison.gateway.config import GatewayConfig
from garrison.gateway.guarding import ContentPolicy
from garrison.gateway.handling import Call, Gateway
from garrison.gateway.keys import ApiKey
from garrison.policy import load_policy
from garrison.runtime.metrics import MULTIPROC_ENV
from garrison.store import open_store
from garrison.store.models import GatewayRequest
from tests.unit.gateway.fakes import (
    KEYS,
    UPSTREAM,
    DictKeys,
    Seen,
    chat,
    fake_upstream,
    free_port,
    serving,
)

TABLES = """
[gateway]
upstream = "http://127.0.0.1:8000/v1"
refresh_s = 0.5

[gateway.guards]
input = "block"
output = "off"
routes = { embeddings = { input = "off" } }

[gateway.tools]
mode = "strip"
default_tools = ["search"]

[gateway.tools.rules.search]
url_args = ["url"]
allowed_domains = [".example.com"]

[gateway.monitors]
webhook_url = "http://127.0.0.1:9000/alerts"

[gateway.monitors.extraction]
max_queries = 500
"""
ADMIN_TOKEN = "admin-token-0123456789abcdef"
SERVE = ["gateway", "serve", "--upstream", "http://127.0.0.1:1/v1", "--workers", "2"]


def test_the_gateway_tables_configure_guards_tools_and_monitors(tmp_path: Path) -> None:
    (tmp_path / "garrison.toml").write_text(TABLES)
    config = load_policy(search_from=tmp_path).gateway
    assert (config.guards.input, config.guards.output) == ("block", "off")
    assert config.guards.routes["embeddings"].input == "off"
    assert config.tools.mode == "strip"
    assert config.tools.rules["search"].allowed_domains == (".example.com",)
    assert config.monitors.extraction.max_queries == 500
    assert config.refresh_s == 0.5
    # Workers receive the config as JSON: nothing may be lost on the way.
    assert GatewayConfig.model_validate_json(config.model_dump_json()) == config


def test_defaults_guard_and_monitor(tmp_path: Path) -> None:
    config = GatewayConfig()
    assert (config.guards.input, config.guards.output) == ("redact", "redact")
    assert config.guards.pii and config.guards.secrets
    assert config.tools.mode == "block"
    assert config.monitors.extraction.enabled and config.monitors.webhook_url is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[gateway.guards]\ninput = "loud"\n', "gateway.guards.input"),
        ('[gateway.guards.routes.infer]\ninput = "off"\n', "unknown route 'infer'"),
        ('[gateway.tools]\nmode = "ignore"\n', "gateway.tools.mode"),
        ('[gateway.monitors]\nwebhook_url = "ftp://x"\n', "webhook_url"),
        ("[gateway]\nrefresh_s = 0\n", "refresh_s"),
    ],
)
def test_mistakes_in_the_tables_are_named(tmp_path: Path, table: str, message: str) -> None:
    (tmp_path / "garrison.toml").write_text(table)
    with pytest.raises(PolicyError, match=message):
        load_policy(search_from=tmp_path)


def test_the_policy_file_loads_without_the_web_stack() -> None:
    import subprocess
    import sys

    code = (
        "import sys, garrison.policy; "
        "print(sorted(m for m in ('sqlalchemy', 'starlette', 'httpx', 'jsonschema') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr


@pytest.fixture
def worker_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The environment `serve` gives a worker, in front of the fake upstream."""
    db = f"sqlite:///{tmp_path / 'garrison.db'}"
    with serving(fake_upstream(Seen())) as upstream:
        config = GatewayConfig(upstream=f"{upstream}/v1")
        monkeypatch.setenv(ENV_CONFIG, config.model_dump_json())
        monkeypatch.setenv("GARRISON_DB_URL", db)
        monkeypatch.delenv(MULTIPROC_ENV, raising=False)
        yield db


def test_a_worker_serves_metrics_and_the_admin_api(
    worker_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GARRISON_ADMIN_TOKEN", ADMIN_TOKEN)
    with TestClient(app_from_env()) as client:
        created = client.post(
            "/admin/keys",
            json={"owner": "team-a"},
            headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert created.status_code == 201
        secret = created.json()["secret"]
        # The admin API refreshes the worker's key cache: the key works at once.
        answer = client.post(
            "/v1/chat/completions", json=chat(), headers={"authorization": f"Bearer {secret}"}
        )
        assert answer.status_code == 200, answer.text
        metrics = client.get("/metrics").text
    assert 'garrison_gateway_requests_total{decision="allow",route="chat",status="200"} 1.0' in (
        metrics
    )
    store = open_store(worker_env)
    try:  # the app flushed its recorder at shutdown
        with store.engine.connect() as conn:
            owners = conn.scalars(select(GatewayRequest.owner)).all()
    finally:
        store.close()
    assert owners == ["team-a"]


def test_without_an_admin_token_there_is_no_admin_api(
    worker_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GARRISON_ADMIN_TOKEN", raising=False)
    with TestClient(app_from_env()) as client:
        assert client.post("/admin/keys", json={"owner": "x"}).status_code == 404


def test_a_stream_with_guards_off_and_no_tools_skips_the_filter() -> None:
    config = GatewayConfig(upstream=UPSTREAM)
    off = config.guards.model_copy(update={"input": "off", "output": "off"})
    gateway = Gateway(config, DictKeys(KEYS), content=ContentPolicy(off, config.tools))
    call = Call("req_1", "chat", 0.0, "")
    key = KEYS["sk-alice"]
    assert gateway.stream_filter(call, key, chat()) is None
    # Tools offered: their calls are checked. A key's own guard mode turns the guards on.
    assert gateway.stream_filter(call, key, chat(tools=[])) is not None
    logged = ApiKey(id="gk_log", owner="x", guard_mode="log")
    assert gateway.stream_filter(call, logged, chat()) is not None


def test_several_workers_share_a_fresh_prometheus_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    with gateway_app._metrics_directory(workers=1):
        assert MULTIPROC_ENV not in os.environ
    with gateway_app._metrics_directory(workers=4):
        directory = Path(os.environ[MULTIPROC_ENV])
        assert directory.is_dir() and not any(directory.iterdir())
    assert MULTIPROC_ENV not in os.environ and not directory.exists()

    named = tmp_path / "prom"
    named.mkdir()
    (named / "counter_123.db").write_bytes(b"stale")
    (named / "notes.txt").write_text("kept")
    monkeypatch.setenv(MULTIPROC_ENV, str(named))
    with gateway_app._metrics_directory(workers=2):
        assert sorted(p.name for p in named.iterdir()) == ["notes.txt"]
    assert os.environ[MULTIPROC_ENV] == str(named)


@pytest.mark.parametrize(
    ("policy", "env", "message"),
    [
        ("", {"GARRISON_ADMIN_TOKEN": "short"}, "GARRISON_ADMIN_TOKEN must be at least 16"),
        (
            '[gateway.monitors]\nevents_path = "/nonexistent/dir/events.jsonl"\n',
            {},
            "events directory does not exist: /nonexistent/dir",
        ),
        ('[gateway.monitors]\nsyslog_address = "tcp://host:port"\n', {}, "syslog address"),
    ],
)
def test_worker_mistakes_are_one_line_before_any_worker_starts(
    policy: str,
    env: dict[str, str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "garrison.toml").write_text(policy)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GARRISON_DB_URL", f"sqlite:///{tmp_path / 'g.db'}")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(
        main_app,
        [*SERVE, "--port", str(free_port())],
    )
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
