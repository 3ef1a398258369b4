"""The admin API: bearer token, create/list/revoke keys, OpenAI-shaped errors, no secrets leaked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from garrison.errors import UsageError
from garrison.gateway.admin import admin_routes, admin_token_from_env, error
from garrison.gateway.keys import KeyCache, KeyStore
from garrison.store import AuditLog, Store, open_store

TOKEN = "admin-token-0123456789abcdef"
AUTH = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'garrison.db'}")
    yield opened
    opened.close()


def _client(store: Store, token: str = TOKEN, **kwargs: Any) -> TestClient:
    return TestClient(Starlette(routes=admin_routes(KeyStore(store), token, **kwargs)))


@pytest.fixture
def client(store: Store) -> TestClient:
    return _client(store)


def _assert_openai_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    body: dict[str, Any] = response.json()["error"]
    assert set(body) == {"message", "type", "param", "code"} and body["code"] == code
    assert "Traceback" not in response.text
    return body


def test_without_an_admin_token_the_api_does_not_exist(store: Store) -> None:
    client = _client(store, token="")
    for method, path in (("GET", "/admin/keys"), ("POST", "/admin/keys")):
        _assert_openai_error(client.request(method, path, headers=AUTH), 404, "not_found")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer wrong"},
        {"authorization": TOKEN},
        {"authorization": f"Basic {TOKEN}"},
    ],
)
def test_a_missing_or_wrong_token_is_refused(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post("/admin/keys", json={"owner": "a"}, headers=headers)
    _assert_openai_error(response, 401, "invalid_api_key")
    assert response.json()["error"]["type"] == "authentication_error"  # as on the API routes
    assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/admin/keys", headers=headers).status_code == 401


def test_create_list_and_revoke(client: TestClient, store: Store) -> None:
    created = client.post(
        "/admin/keys",
        json={"owner": "team-a", "models": ["gpt-4o"], "rpm": 60, "expires": "2099-12-31"},
        headers=AUTH,
    )
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    secret, key = created.json()["secret"], created.json()["key"]
    assert key["owner"] == "team-a" and key["models"] == ["gpt-4o"] and key["status"] == "active"
    assert key["expires"].startswith("2099-12-31T23:59:59")
    cache = KeyCache(store)
    assert cache.authenticate(secret) is not None

    listed = client.get("/admin/keys", headers=AUTH)
    assert [k["id"] for k in listed.json()["data"]] == [key["id"]]
    assert secret not in listed.text and secret.split("-", 2)[2] not in listed.text

    revoked = client.delete(f"/admin/keys/{key['id']}?reason=rotated", headers=AUTH)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert client.get("/admin/keys", headers=AUTH).json()["data"] == []
    everything = client.get("/admin/keys?all=true", headers=AUTH).json()["data"]
    assert [k["status"] for k in everything] == ["revoked"]
    cache.refresh()
    assert cache.authenticate(secret) is None
    actions = [(r.action, r.actor) for r in AuditLog(store).records()]
    assert actions == [
        ("gateway.key.create", "admin-api@testclient"),
        ("gateway.key.revoke", "admin-api@testclient"),
    ]


def test_the_revocation_reason_may_come_in_the_body(client: TestClient) -> None:
    key_id = client.post("/admin/keys", json={"owner": "a"}, headers=AUTH).json()["key"]["id"]
    missing = client.request("DELETE", f"/admin/keys/{key_id}", headers=AUTH)
    assert "needs a reason" in _assert_openai_error(missing, 400, "invalid_request")["message"]
    response = client.request(
        "DELETE", f"/admin/keys/{key_id}", json={"reason": "leaked"}, headers=AUTH
    )
    assert response.status_code == 200 and response.json()["revoked"] is not None
    again = client.delete(f"/admin/keys/{key_id}?reason=x", headers=AUTH)
    assert "already revoked" in _assert_openai_error(again, 400, "invalid_request")["message"]
    unknown = client.delete("/admin/keys/gk_000000000000?reason=x", headers=AUTH)
    _assert_openai_error(unknown, 404, "not_found")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"owner": "a", "scopes": ["root"]}', "got root"),
        (b'{"owner": "a", "rpm": -1}', "rpm must be a positive"),
        (b'{"owner": "a", "rpm": "10"}', "rpm must be a positive"),
        (b'{"owner": "a", "expires": "2001-01-01"}', "in the past"),
        (b'{"owner": "a", "expires": "soon"}', "YYYY-MM-DD"),
        (b'{"owner": "a", "expires": 5}', "YYYY-MM-DD"),
        (b'{"owner": "a", "secret": "mine"}', "unknown field(s): secret"),
        (b'{"models": []}', "needs an owner"),
        (b'{"owner": 7}', "needs an owner"),
        (b'["owner"]', "must be a JSON object"),
        (b"{owner", "not valid JSON"),
        (b"", "not valid JSON"),
    ],
)
def test_invalid_requests_get_a_400_with_the_reason(
    client: TestClient, store: Store, body: bytes, message: str
) -> None:
    response = client.post("/admin/keys", content=body, headers=AUTH)
    assert message in _assert_openai_error(response, 400, "invalid_request")["message"]
    assert KeyStore(store).list(include_revoked=True) == []


def test_an_oversized_body_is_refused(client: TestClient) -> None:
    body = b'{"owner": "' + b"a" * 70_000 + b'"}'
    _assert_openai_error(
        client.post("/admin/keys", content=body, headers=AUTH), 413, "body_too_large"
    )


def test_a_store_failure_is_a_generic_503(client: TestClient, store: Store) -> None:
    store.engine.dispose()
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE gateway_keys")
    body = _assert_openai_error(client.get("/admin/keys", headers=AUTH), 503, "unavailable")
    assert body["message"] == "The key store is unavailable." and "gateway_keys" not in str(body)


def test_a_short_admin_token_is_refused(store: Store) -> None:
    with pytest.raises(UsageError, match="at least 16 characters"):
        admin_routes(KeyStore(store), "short")


def test_the_admin_token_comes_from_the_environment() -> None:
    assert admin_token_from_env({"GARRISON_ADMIN_TOKEN": f" {TOKEN}\n"}) == TOKEN
    assert admin_token_from_env({}) == ""


def test_on_change_runs_after_each_change(store: Store) -> None:
    changes: list[int] = []
    client = _client(store, on_change=lambda: changes.append(1))
    key_id = client.post("/admin/keys", json={"owner": "a"}, headers=AUTH).json()["key"]["id"]
    client.get("/admin/keys", headers=AUTH)
    client.delete(f"/admin/keys/{key_id}?reason=x", headers=AUTH)
    assert changes == [1, 1]


def test_a_failing_on_change_still_returns_the_secret(store: Store) -> None:
    def broken() -> None:
        raise OSError("cache refresh failed")

    created = _client(store, on_change=broken).post(
        "/admin/keys", json={"owner": "a"}, headers=AUTH
    )
    assert created.status_code == 201 and created.json()["secret"].startswith("gk-")


def test_a_revocation_reaches_a_running_gateway_within_refresh_s(store: Store) -> None:
    cache = KeyCache(store, refresh_s=0.3)

    async def protected(request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if cache.authenticate(token) is None:
            return error(401, "Invalid API key.", "invalid_api_key")
        return JSONResponse({"ok": True})

    routes = [*admin_routes(KeyStore(store), TOKEN), Route("/v1/models", protected)]
    with TestClient(Starlette(routes=routes)) as client:
        created = client.post("/admin/keys", json={"owner": "a"}, headers=AUTH).json()
        user = {"authorization": f"Bearer {created['secret']}"}
        cache.refresh()
        assert client.get("/v1/models", headers=user).status_code == 200
        client.delete(f"/admin/keys/{created['key']['id']}?reason=leaked", headers=AUTH)
        revoked_at = time.monotonic()
        while client.get("/v1/models", headers=user).status_code == 200:
            assert time.monotonic() - revoked_at < 0.3 + 1.0
            time.sleep(0.02)
    cache.close()
