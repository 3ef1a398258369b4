"""Runtime monitors of `garrison gateway serve`: an extraction sweep raises an alert that
reaches a webhook, and /metrics counts requests, blocks and alerts."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import httpx
import openai
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from garrison.gateway.keys import KeyStore
from garrison.store import open_store
from tests.e2e.gateway.harness import GUARDS_OFF, gateway_serve
from tests.unit.gateway.fakes import Seen, fake_upstream, serving

QUERIES = 25  # per key; the diversity check runs from 20 (half the budget of 40)
POLICY = """
[gateway.monitors]
webhook_url = "{receiver}/alerts"

[gateway.monitors.extraction]
max_queries = 40
diversity_volume = 0.5
"""


def receiver(alerts: list[dict[str, Any]]) -> Starlette:
    async def collect(request: Request) -> Response:
        alerts.append(await request.json())
        return Response(status_code=204)

    return Starlette(routes=[Route("/alerts", collect, methods=["POST"])])


def test_a_sweep_raises_an_alert_at_the_webhook_and_metrics_count_it(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'garrison.db'}"
    store = open_store(db)
    sweeper_secret, sweeper = KeyStore(store).create("scraper")
    steady_secret, steady = KeyStore(store).create("chat-app")
    store.close()
    words = [f"w{n}" for n in range(500)]
    rng = random.Random(8)
    alerts: list[dict[str, Any]] = []
    with (
        serving(receiver(alerts)) as hook,
        serving(fake_upstream(Seen())) as upstream,
        gateway_serve(
            tmp_path, f"{upstream}/v1", db=db, policy=GUARDS_OFF + POLICY.format(receiver=hook)
        ) as gateway,
    ):

        def client(secret: str) -> openai.OpenAI:
            return openai.OpenAI(
                base_url=f"{gateway.base}/v1", api_key=secret, max_retries=0, timeout=10
            )

        sweep, chat = client(sweeper_secret), client(steady_secret)
        for _ in range(QUERIES):
            prompt = " ".join(rng.choices(words, k=12))  # all over the input space
            sweep.chat.completions.create(model="m", messages=[{"role": "user", "content": prompt}])
            chat.chat.completions.create(  # the same question again and again
                model="m", messages=[{"role": "user", "content": "What are your opening hours?"}]
            )
        for _ in range(3):
            denied = httpx.post(
                f"{gateway.base}/v1/chat/completions",
                json={"model": "m", "messages": []},
                headers={"Authorization": "Bearer gk-not-a-key"},
            )
            assert denied.status_code == 401
        deadline = time.monotonic() + 5
        while not alerts and time.monotonic() < deadline:
            time.sleep(0.05)
        metrics = _metrics(gateway.base, settled=("garrison_gateway_blocks_total", 3))

    assert [(a["kind"], a["key_id"]) for a in alerts] == [("extraction.diversity", sweeper.id)]
    assert alerts[0]["source"] == "garrison"
    assert steady.id not in {a["key_id"] for a in alerts}
    requests = "garrison_gateway_requests_total"
    assert metrics[(requests, (("decision", "allow"), ("route", "chat"), ("status", "200")))] == (
        2 * QUERIES
    )
    assert metrics[(requests, (("decision", "block"), ("route", "chat"), ("status", "401")))] == 3
    assert metrics[("garrison_gateway_blocks_total", (("reason", "auth"),))] == 3
    assert metrics[("garrison_gateway_alerts_total", (("kind", "extraction.diversity"),))] == 1


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _metrics(base: str, settled: tuple[str, float]) -> Samples:
    """The samples of /metrics, once the counter `settled` names has its value (a request is
    counted just after its answer is sent)."""
    deadline = time.monotonic() + 5
    while True:
        text = httpx.get(f"{base}/metrics").text
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }
        total = sum(v for (name, _), v in samples.items() if name == settled[0])
        if total >= settled[1] or time.monotonic() > deadline:
            return samples
        time.sleep(0.05)
