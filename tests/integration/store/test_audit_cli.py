"""`garrison audit` as a user runs it: exit codes and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from garrison.store import AuditLog, open_store


def garrison(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "garrison", "audit", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def populated(store_url: str) -> str:
    store = open_store(store_url)
    log = AuditLog(store)
    for i in range(5):
        log.append("scan", f"model-{i}.pt", {"verdict": "clean"}, actor="ci")
    log.append("approve", "model-4.pt", actor="alice")
    store.close()
    return store_url


def test_verify_intact_log_exits_0(populated: str) -> None:
    out = garrison("verify", "--db", populated)
    assert out.returncode == 0, out.stderr
    assert "intact: 6 records" in out.stdout


def test_verify_tampered_log_exits_1_naming_the_record(populated: str) -> None:
    store = open_store(populated)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_records SET actor = 'mallory' WHERE seq = 3"))
    store.close()
    out = garrison("verify", "--db", populated)
    assert out.returncode == 1
    assert "TAMPERED at record 3" in out.stdout


def test_checkpoint_and_verify_with_public_key(populated: str, tmp_path: Path) -> None:
    key = tmp_path / "audit.pem"
    assert garrison("keygen", "--output", str(key)).returncode == 0
    assert key.stat().st_mode & 0o077 == 0
    out = garrison("checkpoint", "--db", populated, "--key", str(key))
    assert out.returncode == 0, out.stderr
    assert "signed record 6" in out.stdout
    out = garrison("verify", "--db", populated, "--public-key", f"{key}.pub")
    assert out.returncode == 0, out.stderr
    assert "1 checkpoints" in out.stdout
    assert garrison("keygen", "--output", str(key)).returncode == 2  # never overwrites a key


def test_verify_with_another_public_key_exits_1(populated: str, tmp_path: Path) -> None:
    assert garrison("keygen", "-o", str(tmp_path / "a.pem")).returncode == 0
    assert garrison("keygen", "-o", str(tmp_path / "b.pem")).returncode == 0
    assert (
        garrison("checkpoint", "--db", populated, "--key", str(tmp_path / "a.pem")).returncode == 0
    )
    out = garrison("verify", "--db", populated, "--public-key", str(tmp_path / "b.pem.pub"))
    assert out.returncode == 1
    assert "not signed by the given key" in out.stdout


def test_show_filters_and_prints_json(populated: str) -> None:
    out = garrison("show", "--db", populated, "--action", "approve", "--json")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(r["seq"], r["actor"], r["subject"]) for r in rows] == [(6, "alice", "model-4.pt")]
    out = garrison("show", "--db", populated, "--limit", "2")
    assert [line.split()[0] for line in out.stdout.splitlines()] == ["5", "6"]


def test_export_writes_json_lines(populated: str, tmp_path: Path) -> None:
    target = tmp_path / "audit.jsonl"
    out = garrison("export", "--db", populated, "--output", str(target))
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3, 4, 5, 6]
    assert all(line["kind"] == "record" and len(line["hash"]) == 64 for line in lines)


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "nosuchdb://x",
        "mysql://u@127.0.0.1:1/x",  # a real SQLAlchemy backend, but not one Garrison supports
        "/tmp/garrison.db",  # a path, not a URL
        "postgresql+psycopg://postgres@127.0.0.1:1/test",
        "sqlite:////nonexistent-dir/garrison.db",
    ],
)
def test_bad_store_url_exits_2_with_one_line(url: str) -> None:
    out = garrison("verify", "--db", url)
    assert out.returncode == 2
    assert out.stderr.startswith("garrison: error:")
    assert len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


def test_missing_sqlite_file_is_not_created_by_verify(tmp_path: Path) -> None:
    db = tmp_path / "absent.db"
    out = garrison("verify", "--db", f"sqlite:///{db}")
    assert out.returncode == 2
    assert "no store at" in out.stderr
    assert not db.exists()


def test_bad_key_file_exits_2(populated: str, tmp_path: Path) -> None:
    bogus = tmp_path / "key.pem"
    bogus.write_text("not a key")
    out = garrison("checkpoint", "--db", populated, "--key", str(bogus))
    assert out.returncode == 2
    assert "not a PEM private key" in out.stderr
