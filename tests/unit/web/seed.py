"""A small store for the dashboard tests: assets with verdicts, gateway traffic, audit records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from garrison.store import open_store
from garrison.store.audit import AuditLog
from garrison.store.db import Store
from garrison.store.models import GatewayRequest, InventoryAsset, InventoryVerdict

HOSTILE_NAME = "<script>alert('x')</script>"
NOW = "2026-01-01T00:00:00.000000Z"


def _asset(i: int, category: str, name: str, tier: str | None) -> dict[str, object]:
    path = f"/srv/models/{i}"
    return {
        "id": i,
        "uri": f"file://{path}#{category}/{i}",
        "category": category,
        "name": name,
        "path": path,
        "location": path,
        "detail": "",
        "digest": None,
        "first_seen": NOW,
        "last_seen": NOW,
        "owner": "ml-team" if tier else None,
        "risk_tier": tier,
    }


def _request(i: int, ts: datetime, decision: str, reason: str) -> dict[str, object]:
    return {
        "request_id": f"req-{i}",
        "ts": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "key_id": "k1",
        "owner": "app",
        "route": "chat",
        "model": "m",
        "status": 200 if decision == "allow" else 403,
        "decision": decision,
        "reason": reason,
        "prompt_tokens": 5,
        "completion_tokens": 7,
        "latency_ms": 12.0,
        "upstream_ms": 10.0,
        "guards": "[]",
        "prompt": "sha256:00",
        "completion": "sha256:00",
        "audit_seq": 0,
    }


def seed_store(directory: Path) -> Store:
    """The seeded store in a SQLite file under `directory`."""
    return seed_url(f"sqlite:///{directory / 'garrison.db'}")


def seed_url(url: str) -> Store:
    """3 models (one with a hostile name), 1 dataset; 6 requests in the last hours, 2 blocked.

    Verdicts: 2 findings of GA-PKL-001 (OWASP LLM03, ML06, two ATLAS techniques) and one of
    GA-POST-014 (NIST GOVERN 1.6 only). The store at `url` must be empty."""
    store = open_store(url)
    assets = [
        _asset(1, "model", "resnet.safetensors", "high"),
        _asset(2, "model", HOSTILE_NAME, None),
        _asset(3, "model", "bert.pkl", "minimal"),
        _asset(4, "dataset", "train.parquet", "high"),
    ]
    verdicts = [
        {"asset_id": 3, "area": "supplychain", "passed": False, "max_severity": "critical",
         "findings": 2, "ts": NOW, "rules": '{"GA-PKL-001": 2}'},
        {"asset_id": 1, "area": "posture", "passed": True, "max_severity": "low",
         "findings": 1, "ts": NOW, "rules": '{"GA-POST-014": 1}'},
        {"asset_id": 4, "area": "posture", "passed": True, "max_severity": None,
         "findings": 0, "ts": NOW, "rules": "{}"},
    ]  # fmt: skip
    now = datetime.now(UTC)
    requests = [_request(i, now - timedelta(hours=i), "allow", "ok") for i in range(4)] + [
        _request(4, now - timedelta(hours=1), "block", "prompt-injection"),
        _request(5, now - timedelta(hours=30), "block", "model not allowed"),
    ]
    with store.engine.begin() as conn:
        conn.execute(insert(InventoryAsset), assets)
        conn.execute(insert(InventoryVerdict), verdicts)
        conn.execute(insert(GatewayRequest), requests)
    log = AuditLog(store)
    log.append("inventory.discover", "/srv/models", {"added": 4}, actor="tester")
    log.append("gateway.block", HOSTILE_NAME, {"reason": "prompt-injection"}, actor="tester")
    return store
