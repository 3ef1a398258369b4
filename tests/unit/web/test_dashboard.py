"""The dashboard's pages, filters, token check and hardening, through Starlette's TestClient."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from garrison.errors import UsageError
from garrison.store.db import Store
from garrison.web.app import create_dashboard, is_loopback, serve
from garrison.web.auth import COOKIE
from tests.unit.web.seed import HOSTILE_NAME, seed_store

TOKEN = "s3cret-token"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = seed_store(tmp_path)
    yield store
    store.close()


@pytest.fixture
def client(store: Store) -> TestClient:
    return TestClient(create_dashboard(store))


def asset_rows(html: str) -> int:
    body = html.split('<table id="assets">', 1)[1].split("</table>", 1)[0]
    return body.count("<tr>") - 1  # minus the header row


@pytest.mark.parametrize("path", ["/", "/inventory", "/gateway", "/audit"])
def test_pages_render_with_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert "<script" not in response.text.replace("&lt;script", "")


def test_overview_shows_counts_charts_and_verified_audit_log(client: TestClient) -> None:
    html = client.get("/").text
    assert "Audit log verified: 2 records" in html
    assert "<b>4</b> inventory assets" in html
    assert "<b>1</b> failing verdicts" in html
    assert "critical verdicts: 1" in html  # the severity chart's bar
    assert "Framework coverage of the rules" in html and "OWASP" in html


def framework_rows(html: str) -> dict[str, str]:
    body = html.split('<table id="framework-findings">', 1)[1].split("</table>", 1)[0]
    rows = [r.split("</tr>", 1)[0] for r in body.split("<tr>")[2:]]
    return {r.split("</td>", 1)[0].removeprefix("<td>"): r for r in rows}


def test_overview_counts_current_findings_per_framework(client: TestClient) -> None:
    html = client.get("/").text
    rows = framework_rows(html)
    # Two GA-PKL-001 findings: OWASP LLM03 and ML06, and two ATLAS techniques counted once.
    assert "<td>2</td><td>OWASP-LLM03:2025 (2)</td>" in rows["OWASP Top 10 for LLM Applications"]
    assert "<td>OWASP-ML06:2023 (2)</td>" in rows["OWASP Machine Learning Security Top 10"]
    atlas = next(r for title, r in rows.items() if title.startswith("MITRE ATLAS"))
    assert "<td>2</td><td>ATLAS-AML.T0010 (2), ATLAS-AML.T0011 (2)</td>" in atlas
    assert (
        "<td>1</td><td>NIST-AI-RMF-GOVERN-1.6 (1)</td>"
        in rows["NIST AI Risk Management Framework 1.0"]
    )
    eu = next(r for title, r in rows.items() if title.startswith("EU Artificial"))
    assert "<td>0</td><td></td>" in eu
    assert "owasp-llm findings: 2" in html  # the chart's bar
    assert "before the store kept rule ids" not in html


def test_findings_recorded_without_rule_ids_are_named_not_guessed(
    client: TestClient, store: Store
) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE inventory_verdicts SET rules = '{}' WHERE area = 'supplychain'"))
    html = client.get("/").text
    assert "2 finding(s) come from" in html and "before the store kept rule ids" in html
    assert "<td>0</td><td></td>" in framework_rows(html)["OWASP Top 10 for LLM Applications"]


def test_overview_reports_a_tampered_audit_log(client: TestClient, store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_records SET subject = 'edited' WHERE seq = 1"))
    assert "verification FAILED at record #1" in client.get("/").text


def audit_state(html: str) -> str:
    return html.split('id="audit-state">', 1)[1].split("</p>", 1)[0]


def test_pages_show_the_kept_verify_until_one_is_forced(client: TestClient, store: Store) -> None:
    assert "Audit log verified: 2 records" in audit_state(client.get("/").text)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_records SET details = '{}' WHERE seq = 2"))
    # Within the TTL the page shows the kept result and says how old it is.
    state = audit_state(client.get("/audit").text)
    assert "Audit log verified: 2 records" in state and "Checked 0 s ago" in state
    response = client.post("/audit/verify", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/audit"
    for path in ("/audit", "/"):
        assert "verification FAILED at record #2 (edited)" in audit_state(client.get(path).text)


def test_a_stale_verify_is_redone_in_the_background(store: Store) -> None:
    app = create_dashboard(store, verify_ttl_s=0.01)
    client = TestClient(app)
    assert "Audit log verified" in audit_state(client.get("/").text)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_records WHERE seq = 1"))
    time.sleep(0.02)
    client.get("/")  # shows the stale result and starts a verify in the background
    app.state.verify_cache.wait_for_refresh(5)
    assert "FAILED at record #1 (gap)" in audit_state(client.get("/").text)
    app.state.verify_cache.wait_for_refresh(5)  # the store closes after the test


def test_the_audit_page_offers_a_verify_button(client: TestClient) -> None:
    html = client.get("/audit").text
    assert '<form method="post" action="/audit/verify"' in html
    assert "every 1 min" in html
    assert client.get("/audit/verify").status_code == 405


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site", "origin": "http://testserver"},
    ],
)
def test_a_verify_from_another_site_is_refused(store: Store, headers: dict[str, str]) -> None:
    app = create_dashboard(store)
    client = TestClient(app, follow_redirects=False)
    assert client.post("/audit/verify", headers=headers).status_code == 403
    assert app.state.verify_cache._latest is None  # nothing ran


@pytest.mark.parametrize(
    "headers",
    [
        {},  # not a browser
        {"origin": "null", "sec-fetch-site": "same-origin"},  # Chromium under no-referrer
        {"origin": "http://testserver"},  # a browser without Sec-Fetch-Site
    ],
)
def test_a_verify_from_the_dashboard_itself_is_accepted(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.post("/audit/verify", headers=headers, follow_redirects=False)
    assert response.status_code == 303


def test_a_verify_needs_the_token_when_set(store: Store) -> None:
    app = create_dashboard(store, token=TOKEN)
    client = TestClient(app, follow_redirects=False)
    response = client.post("/audit/verify")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert app.state.verify_cache._latest is None
    client.post("/login", data={"token": TOKEN})
    assert client.post("/audit/verify").headers["location"] == "/audit"


def test_serve_refuses_a_verify_interval_that_is_not_positive(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="must be positive"):
        serve(f"sqlite:///{tmp_path / 'g.db'}", host="::1", port=8765, token=None, verify_ttl_s=0)
    assert not (tmp_path / "g.db").exists()


def test_inventory_filters_by_kind_and_tier(client: TestClient) -> None:
    assert asset_rows(client.get("/inventory").text) == 4
    assert asset_rows(client.get("/inventory?kind=dataset").text) == 1
    assert asset_rows(client.get("/inventory?tier=high").text) == 2
    assert asset_rows(client.get("/inventory?kind=model&tier=high").text) == 1
    assert asset_rows(client.get("/inventory?tier=unclassified").text) == 1


def test_inventory_rejects_an_unknown_filter_value(client: TestClient) -> None:
    response = client.get("/inventory?tier=<b>bogus</b>")
    assert response.status_code == 400
    assert "&lt;b&gt;bogus&lt;/b&gt;" in response.text
    assert asset_rows(response.text) == 4


def test_hostile_names_are_escaped(client: TestClient) -> None:
    for path in ("/inventory", "/audit"):
        html = client.get(path).text
        assert HOSTILE_NAME not in html
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_gateway_counts_served_and_refused_requests(client: TestClient) -> None:
    html = client.get("/gateway?days=2").text
    assert "<tr><td>allow</td><td>4</td></tr>" in html
    assert "<tr><td>block</td><td>2</td></tr>" in html
    assert "prompt-injection" in html and "refused: 1" in html
    # One day back leaves out the block from 30 hours ago.
    assert "model not allowed" not in client.get("/gateway?days=1").text


def test_bad_numbers_in_the_query_fall_back_to_bounds(client: TestClient) -> None:
    assert 'value="7"' in client.get("/gateway?days=lots").text
    assert 'value="31"' in client.get("/gateway?days=9999").text
    assert client.get("/audit?limit=-5").status_code == 200


def test_a_token_is_required_when_set(store: Store) -> None:
    client = TestClient(create_dashboard(store, token=TOKEN), follow_redirects=False)
    response = client.get("/inventory")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/login").status_code == 200
    assert client.get("/static/dashboard.css").status_code == 200


def test_query_token_sets_a_strict_cookie_and_leaves_the_url(store: Store) -> None:
    client = TestClient(create_dashboard(store, token=TOKEN), follow_redirects=False)
    response = client.get(f"/inventory?kind=model&token={TOKEN}")
    assert response.status_code == 303
    assert response.headers["location"] == "/inventory?kind=model"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and TOKEN not in cookie
    assert client.get("/inventory?kind=model").status_code == 200


def test_wrong_tokens_are_refused(store: Store) -> None:
    client = TestClient(create_dashboard(store, token=TOKEN), follow_redirects=False)
    assert client.get("/?token=wrong").headers["location"] == "/login?failed=1"
    assert client.post("/login", data={"token": "wrong"}).status_code == 401
    client.cookies.set(COOKIE, TOKEN)  # the raw token is not a session
    assert client.get("/").status_code == 303


def test_login_form_signs_in(store: Store) -> None:
    client = TestClient(create_dashboard(store, token=TOKEN), follow_redirects=False)
    response = client.post("/login", data={"token": TOKEN})
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.1", "::", "example.com"])
def test_serving_beyond_loopback_needs_a_token(tmp_path: Path, host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(UsageError, match="without a token"):
        serve(f"sqlite:///{tmp_path / 'g.db'}", host=host, port=8765, token=None)


def test_cli_refuses_a_public_host_without_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from garrison.cli.main import app

    monkeypatch.delenv("GARRISON_DASHBOARD_TOKEN", raising=False)
    db = f"sqlite:///{tmp_path / 'g.db'}"
    result = CliRunner().invoke(app, ["dashboard", "--host", "0.0.0.0", "--db", db])
    assert result.exit_code == 2
    assert "without a token: pass --token or set $GARRISON_DASHBOARD_TOKEN" in result.output
    assert "Traceback" not in result.output
