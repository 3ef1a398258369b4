"""The dashboard's pages over a real store on each backend (SQLite file, PostgreSQL schema)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from garrison.store.db import Store
from garrison.web import queries
from garrison.web.app import create_dashboard
from tests.unit.web.seed import HOSTILE_NAME, seed_url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    store = seed_url(store_url)
    yield store
    store.close()


@pytest.fixture
def client(store: Store) -> TestClient:
    return TestClient(create_dashboard(store))


def table(html: str, table_id: str) -> str:
    return html.split(f'<table id="{table_id}">', 1)[1].split("</table>", 1)[0]


def audit_state(html: str) -> str:
    return html.split('id="audit-state">', 1)[1].split("</p>", 1)[0]


def test_every_page_renders(client: TestClient) -> None:
    for path in ("/", "/inventory", "/gateway", "/audit"):
        response = client.get(path)
        assert response.status_code == 200, path


def test_overview_shows_the_seeded_counts(client: TestClient) -> None:
    html = client.get("/").text
    assert "<b>4</b> inventory assets" in html
    assert "<b>1</b> failing verdicts" in html
    assert "<b>3</b> findings" in html
    assert "critical verdicts: 1" in html and "low verdicts: 1" in html
    assert "Audit log verified: 2 records" in audit_state(html)


def test_inventory_lists_and_filters_the_seeded_assets(client: TestClient) -> None:
    assert table(client.get("/inventory").text, "assets").count("<tr>") - 1 == 4
    filtered = table(client.get("/inventory?kind=model&tier=high").text, "assets")
    assert filtered.count("<tr>") - 1 == 1 and "resnet.safetensors" in filtered


def test_gateway_counts_the_seeded_traffic(client: TestClient) -> None:
    html = client.get("/gateway?days=2").text
    assert "<tr><td>allow</td><td>4</td></tr>" in table(html, "decisions")
    assert "<tr><td>block</td><td>2</td></tr>" in table(html, "decisions")
    reasons = table(html, "reasons")
    assert "<tr><td>block</td><td>prompt-injection</td><td>1</td></tr>" in reasons
    assert "model not allowed" not in client.get("/gateway?days=1").text


def test_traffic_buckets_requests_by_hour(store: Store) -> None:
    # The seed puts requests 0, 1, 2 and 3 hours back (one block an hour back too) and one
    # block 30 hours back: grouping by the hour must agree on every backend.
    now = datetime.now(UTC)
    traffic = queries.traffic(store, 2, now=now)
    hours = {b.hour: (b.served, b.refused) for b in traffic.hours if b.served or b.refused}
    assert sorted(hours.values()) == [(0, 1), (1, 0), (1, 0), (1, 0), (1, 1)]
    assert traffic.by_decision == {"allow": 4, "block": 2}


def test_audit_page_lists_records_and_catches_tampering(client: TestClient, store: Store) -> None:
    html = client.get("/audit").text
    assert "Audit log verified: 2 records" in audit_state(html)
    assert table(html, "records").count("<tr>") - 1 == 2
    assert HOSTILE_NAME not in html
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_records SET subject = 'edited' WHERE seq = 1"))
    assert client.post("/audit/verify").status_code == 200  # followed to /audit
    assert "FAILED at record #1 (edited)" in audit_state(client.get("/audit").text)
