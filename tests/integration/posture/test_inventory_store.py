"""The inventory in a real store (SQLite and PostgreSQL): discovery, verdicts, owners, tiers."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from garrison.assets import Asset
from garrison.errors import UsageError
from garrison.findings import Finding, Location, Severity
from garrison.posture import discover
from garrison.posture.eu_ai_act import QUESTIONS
from garrison.posture.inventory import Inventory
from garrison.report.model import Report
from garrison.store import AuditLog, AuditRecord, open_store
from garrison.store.db import Store
from garrison.store.models import InventoryAsset

KEY = "hf_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3h"


def make_repo(root: Path) -> Path:
    repo = root / "repo"
    repo.mkdir()
    header = b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}'
    (repo / "weights.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + bytes(4))
    (repo / "app.py").write_text(
        f"import anthropic\nfrom openai import OpenAI\nclient = OpenAI()\nHF_TOKEN = '{KEY}'\n"
    )
    return repo


def finding(path: Path, severity: Severity, rule: str = "GA-TEST-001") -> Finding:
    return Finding(rule, "test", severity, Asset.from_path(path), Location(str(path)))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def actions(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return list(conn.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)))


def test_discovering_twice_adds_no_duplicates_and_moves_last_seen(
    store: Store, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path)
    inventory = Inventory(store)
    first = inventory.record_discovery(discover(repo))
    assert (first.added, first.seen_again) == (3, 0)
    assert first.by_category == {"ai-service": 2, "model": 1}
    before = {e.uri: e for e in inventory.list()}
    (repo / "notebook.ipynb").write_text(json.dumps({"cells": [], "nbformat": 4}))
    second = inventory.record_discovery(discover(repo))
    assert (second.added, second.seen_again) == (1, 3)
    after = {e.uri: e for e in inventory.list()}
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(InventoryAsset)) == 4
    for uri, entry in before.items():
        assert after[uri].first_seen == entry.first_seen
        assert after[uri].last_seen > entry.last_seen
    assert actions(store) == ["inventory.discover", "inventory.discover"]
    assert AuditLog(store).verify().ok


def test_posture_verdicts_follow_the_findings_in_each_assets_file(
    store: Store, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path)
    inventory = Inventory(store)
    assert inventory.record_discovery(discover(repo)).failed == 2  # both SDK uses in app.py
    entries = {e.name: e for e in inventory.list()}
    openai = entries["openai"].verdicts["posture"]
    assert (openai.passed, openai.max_severity, openai.findings) == (False, "critical", 1)
    assert entries["safetensors"].verdicts["posture"].passed
    assert entries["openai"].uri == (repo / "app.py").absolute().as_uri() + "#ai-service/openai"
    assert entries["safetensors"].uri == (repo / "weights.safetensors").absolute().as_uri()
    # The leaked key is fixed: the next run's verdict replaces the last one.
    (repo / "app.py").write_text("from openai import OpenAI\nclient = OpenAI()\n")
    inventory.record_discovery(discover(repo))
    assert inventory.find("openai").verdicts["posture"].passed


def test_record_verdict_is_the_hook_for_other_areas(store: Store, tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    inventory = Inventory(store)
    found = discover(repo)
    inventory.record_discovery(found)
    model = inventory.find("weights.safetensors")
    path = repo / "weights.safetensors"
    scan = Report("scan", [str(path)], findings=[finding(path, Severity.HIGH)])
    verdict = inventory.record_verdict(model.uri, "supplychain", scan, actor="ci")
    assert (verdict.passed, verdict.max_severity, verdict.findings) == (False, "high", 1)
    other = Report("scan", [], findings=[finding(repo / "other.pt", Severity.CRITICAL)])
    assert inventory.record_verdict(model.uri, "supplychain", other).passed  # not this file
    assert set(inventory.find(model.uri).verdicts) == {"posture", "supplychain"}
    with pytest.raises(UsageError, match="not in the inventory"):
        inventory.record_verdict("file:///nowhere", "supplychain", found.report)
    assert actions(store)[-1] == "inventory.verdict"


def test_verdicts_keep_how_many_findings_each_rule_gave(store: Store, tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    inventory = Inventory(store)
    inventory.record_discovery(discover(repo))
    assert inventory.find("openai").verdicts["posture"].rules == {"GA-POST-001": 1}
    assert inventory.find("safetensors").verdicts["posture"].rules == {}
    path = repo / "weights.safetensors"
    found = [finding(path, Severity.CRITICAL, rule) for rule in ("GA-PKL-001",) * 2]
    found.append(finding(path, Severity.HIGH, "GA-PKL-004"))
    assert inventory.record_scan(Report("scan", [str(path)], findings=found), "supplychain") == 1
    [entry] = [e for e in inventory.list() if e.name == "safetensors"]
    verdict = entry.verdicts["supplychain"]
    assert (verdict.findings, verdict.rules) == (3, {"GA-PKL-001": 2, "GA-PKL-004": 1})
    assert entry.to_dict()["verdicts"]["supplychain"]["rules"] == verdict.rules
    # A clean scan replaces the counts rather than adding to them.
    clean = inventory.record_verdict(entry.uri, "supplychain", Report("scan", [str(path)]))
    assert clean.rules == {} and inventory.find(entry.uri).verdicts["supplychain"].rules == {}
    assert AuditLog(store).verify().ok


def test_classify_records_tier_actor_and_an_audit_record(store: Store, tmp_path: Path) -> None:
    inventory = Inventory(store)
    inventory.record_discovery(discover(make_repo(tmp_path)))
    uri = inventory.find("openai").uri
    answers = {q.id: q.id == "essential_services" for q in QUESTIONS}
    assessment = inventory.classify(uri, answers, actor="alice")
    assert assessment.tier == "high"
    entry = inventory.find(uri)
    assert (entry.risk_tier, entry.classified_by) == ("high", "alice")
    assert entry.classification is not None
    assert entry.classification["reasons"] == [
        {"id": "essential_services", "ref": "Annex III point 5"}
    ]
    assert [e.name for e in inventory.list(tier="high")] == ["openai"]
    assert len(inventory.list(tier="unclassified")) == 2
    with store.engine.connect() as conn:
        record = conn.execute(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
    assert record is not None
    assert (record.action, record.actor, record.subject) == ("inventory.classify", "alice", uri)
    assert json.loads(record.details)["tier"] == "high"
    assert AuditLog(store).verify().ok


def test_owner_changes_are_audited_and_bad_input_changes_nothing(
    store: Store, tmp_path: Path
) -> None:
    inventory = Inventory(store)
    inventory.record_discovery(discover(make_repo(tmp_path)))
    uri = inventory.find("safetensors").uri
    assert inventory.set_owner(uri, " team-ml ", actor="bob").owner == "team-ml"
    with pytest.raises(UsageError, match="owner cannot be empty"):
        inventory.set_owner(uri, "  ")
    with pytest.raises(UsageError, match="no answer to"):
        inventory.classify(uri, {"manipulation": False})
    with pytest.raises(UsageError, match="matches 2 assets"):
        inventory.find("app.py")
    with pytest.raises(UsageError, match="no inventory asset matches"):
        inventory.find("missing.onnx")
    assert inventory.find(uri).risk_tier is None
    assert actions(store) == ["inventory.discover", "inventory.owner"]
    assert AuditLog(store).verify().ok
