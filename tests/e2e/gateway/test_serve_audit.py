"""Concurrent requests through a multi-worker `garrison gateway serve`: every one recorded,
in one audit chain that still verifies."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from garrison.cli.main import app
from tests.e2e.gateway.harness import (
    RawResponse,
    audit_actions,
    create_key,
    gateway_serve,
    raw_post,
    request_rows,
)
from tests.unit.gateway.fakes import Seen, chat, fake_upstream, serving

REQUESTS = 200


def sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def test_no_record_is_lost_and_the_chain_verifies(store_url: str, tmp_path: Path) -> None:
    secret = create_key(store_url, owner="audit")
    prompts = [f"question {i}: what comes after {i}?" for i in range(REQUESTS)]
    with (
        serving(fake_upstream(Seen())) as upstream,
        gateway_serve(tmp_path, f"{upstream}/v1", db=store_url, workers=2) as gateway,
    ):
        responses = asyncio.run(_concurrently(gateway.base, secret, prompts))
    # The gateway has shut down: what its recorders held is in the store now.

    assert [r.status_code for r in responses] == [200] * REQUESTS
    sent = {r.headers["x-request-id"]: p for r, p in zip(responses, prompts, strict=True)}
    assert len(sent) == REQUESTS
    rows = {row["request_id"]: row for row in request_rows(store_url)}
    assert rows.keys() == sent.keys()
    assert Counter(audit_actions(store_url)) == {
        "gateway.key.create": 1,
        "gateway.request": REQUESTS,
    }
    verified = CliRunner().invoke(app, ["audit", "verify", "--db", store_url])
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    for request_id, prompt in sent.items():
        row = rows[request_id]
        assert (row["status"], row["decision"], row["owner"]) == (200, "allow", "audit")
        # By default the store keeps digests, never the text.
        assert (row["prompt"], row["completion"]) == (sha256(prompt), sha256("Hello world"))


def test_store_text_keeps_prompts_and_completions(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'garrison.db'}"
    secret = create_key(db)
    with (
        serving(fake_upstream(Seen())) as upstream,
        gateway_serve(
            tmp_path, f"{upstream}/v1", db=db, policy="[gateway]\nstore_text = true\n"
        ) as gateway,
    ):
        (response,) = asyncio.run(_concurrently(gateway.base, secret, ["Say hello"]))
    (row,) = request_rows(db)
    assert row["request_id"] == response.headers["x-request-id"]
    assert (row["prompt"], row["completion"]) == ("Say hello", "Hello world")


async def _concurrently(base: str, secret: str, prompts: list[str]) -> list[RawResponse]:
    headers = {"authorization": f"Bearer {secret}"}
    posts = [
        raw_post(
            base, "/v1/chat/completions", chat(messages=[{"role": "user", "content": p}]), headers
        )
        for p in prompts
    ]
    return await asyncio.wait_for(asyncio.gather(*posts), timeout=60)
