"""Who may call what: keys (401), scopes and models (403), approved models, size bounds."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.testclient import TestClient

from garrison.errors import GarrisonError
from garrison.gateway.admission import ApprovalCache
from garrison.gateway.app import create_app
from garrison.gateway.config import GatewayConfig
from garrison.gateway.record import BLOCK
from tests.unit.gateway.fakes import (
    ALICE,
    BOB,
    UPSTREAM,
    DictKeys,
    Records,
    Seen,
    chat,
    gateway,
)

DIGEST = "cd" * 32


def error(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"].startswith("req_")
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]  # type: ignore[no-any-return]


def test_no_key_is_401() -> None:
    with gateway() as (client, seen):
        response = client.post("/v1/chat/completions", json=chat())
    assert response.status_code == 401
    assert error(response)["code"] == "invalid_api_key"
    assert seen.requests == []


def test_unknown_and_revoked_keys_get_the_same_answer() -> None:
    with gateway() as (client, seen):
        unknown = client.post("/v1/chat/completions", json=chat(), headers={"api-key": "sk-nope"})
        revoked = client.post(
            "/v1/chat/completions", json=chat(), headers={"Authorization": "Bearer sk-old"}
        )
    assert unknown.status_code == revoked.status_code == 401
    assert unknown.content == revoked.content
    assert error(unknown)["message"] == "invalid API key"
    assert seen.requests == []


def test_api_key_header_is_accepted() -> None:
    with gateway() as (client, _):
        response = client.post("/v1/chat/completions", json=chat(), headers={"api-key": "sk-alice"})
    assert response.status_code == 200


def test_scope_not_held_is_403() -> None:
    with gateway() as (client, seen):
        response = client.post(
            "/v1/embeddings", json={"model": "llama-3-8b", "input": "x"}, headers=BOB
        )
    assert response.status_code == 403
    assert error(response)["code"] == "scope_not_allowed"
    assert seen.requests == []


def test_model_outside_the_allowlist_is_403_and_never_forwarded() -> None:
    with gateway() as (client, seen):
        denied = client.post("/v1/chat/completions", json=chat("secret-model"), headers=BOB)
        unnamed = client.post("/v1/chat/completions", json={"messages": []}, headers=BOB)
        allowed = client.post("/v1/chat/completions", json=chat("llama-3-8b"), headers=BOB)
    assert denied.status_code == unnamed.status_code == 403
    assert error(denied)["code"] == "model_not_allowed"
    assert "secret-model" in error(denied)["message"]
    assert allowed.status_code == 200
    assert len(seen.requests) == 1


def test_models_list_is_filtered_by_the_key() -> None:
    with gateway() as (client, _):
        bob = client.get("/v1/models", headers=BOB).json()
        alice = client.get("/v1/models", headers=ALICE).json()
    assert [m["id"] for m in bob["data"]] == ["llama-3-8b"]
    assert len(alice["data"]) == 3


class Approved:
    def __init__(self, *digests: str) -> None:
        self.digests = set(digests)

    def is_approved(self, digest: str) -> bool:
        return digest in self.digests


def _approving(*digests: str) -> AbstractContextManager[tuple[TestClient, Seen]]:
    config = GatewayConfig(
        upstream=UPSTREAM,
        require_approved=True,
        models={"llama-3-8b": DIGEST, "mistral-7b": "ef" * 32},
    )
    return gateway(config, approvals=Approved(*digests))


def test_require_approved_serves_only_approved_digests() -> None:
    with _approving(DIGEST) as (client, seen):
        approved = client.post("/v1/chat/completions", json=chat("llama-3-8b"), headers=ALICE)
        revoked = client.post("/v1/chat/completions", json=chat("mistral-7b"), headers=ALICE)
        unlisted = client.post("/v1/chat/completions", json=chat("secret-model"), headers=ALICE)
        listing = client.get("/v1/models", headers=ALICE).json()
        kserve = client.get("/v2/models/mistral-7b", headers=ALICE)
    assert approved.status_code == 200
    assert revoked.status_code == unlisted.status_code == kserve.status_code == 403
    assert error(revoked)["code"] == "model_not_approved"
    assert [m["id"] for m in listing["data"]] == ["llama-3-8b"]
    assert [path for path, _, _ in seen.requests] == ["/v1/chat/completions", "/v1/models"]


def test_require_approved_without_a_registry_fails_at_startup() -> None:
    config = GatewayConfig(upstream=UPSTREAM, require_approved=True)
    with pytest.raises(GarrisonError, match="require_approved"):
        create_app(config, keys=DictKeys({}))


@dataclass
class FakeRegistry:
    approved: set[str]

    def check(self, digest: str) -> Any:
        return SimpleNamespace(ok=digest in self.approved)


def test_approval_cache_follows_revocations() -> None:
    registry = FakeRegistry({DIGEST})
    cache = ApprovalCache(registry, [DIGEST, DIGEST], refresh_s=0.02)  # type: ignore[arg-type]
    try:
        assert cache.is_approved(DIGEST)
        assert not cache.is_approved("00" * 32)
        registry.approved.clear()
        deadline = time.monotonic() + 5
        while cache.is_approved(DIGEST) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not cache.is_approved(DIGEST)
    finally:
        cache.close()


def test_oversized_and_malformed_requests() -> None:
    config = GatewayConfig(upstream=UPSTREAM, max_body_bytes=2048, max_header_bytes=1024)
    with gateway(config) as (client, seen):
        declared = client.post(
            "/v1/chat/completions", content=b"{" + b" " * 4000 + b"}", headers=ALICE
        )

        def chunks() -> Iterator[bytes]:
            yield b'{"model": "m", "pad": "'
            yield b"a" * 4000
            yield b'"}'

        chunked = client.post("/v1/chat/completions", content=chunks(), headers=ALICE)
        headers = client.post(
            "/v1/chat/completions", json=chat(), headers={**ALICE, "x-pad": "a" * 2000}
        )
        deep = client.post("/v1/chat/completions", content=b"[" * 40 + b"]" * 40, headers=ALICE)
        deep_object = client.post(
            "/v1/chat/completions", json=chat(extra=json.loads("[" * 40 + "]" * 40)), headers=ALICE
        )
        invalid = client.post("/v1/chat/completions", content=b"{nope", headers=ALICE)
        array = client.post("/v1/chat/completions", content=b"[]", headers=ALICE)
    assert "content-length" not in chunked.request.headers  # the size is unknown until read
    assert [declared.status_code, chunked.status_code, headers.status_code] == [413, 413, 431]
    assert [deep.status_code, deep_object.status_code, invalid.status_code] == [400, 400, 400]
    assert array.status_code == 400
    assert error(deep_object)["message"] == "request body is nested deeper than 32 levels"
    assert error(invalid)["code"] == "invalid_json"
    assert seen.requests == []


def test_every_refusal_is_recorded() -> None:
    records = Records()
    with gateway(recorder=records) as (client, _):
        client.post("/v1/chat/completions", json=chat())
        client.post("/v1/chat/completions", json=chat("secret-model"), headers=BOB)
        client.post("/v1/chat/completions", content=b"{", headers=ALICE)
    assert [(r.status, r.decision, r.reason) for r in records.items] == [
        (401, BLOCK, "auth"),
        (403, BLOCK, "model"),
        (400, BLOCK, "bounds"),
    ]
    assert records.items[0].key_id is None
    assert records.items[1].key_id == "gk_bob"
    assert records.items[1].model == "secret-model"
    assert records.items[1].route == "chat"
