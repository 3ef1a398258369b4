from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from garrison.errors import UsageError
from garrison.store import (
    generate_signing_key,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_pem,
)
from garrison.store.audit import GENESIS_HASH, canonical_json, record_hash

RECORD: dict[str, Any] = {
    "seq": 1,
    "ts": "2026-01-01T00:00:00.000000Z",
    "actor": "ci",
    "action": "scan",
    "subject": "model.pt",
    "details": '{"verdict":"clean"}',
    "prev_hash": GENESIS_HASH,
}


def test_canonical_json_is_sorted_and_compact() -> None:
    assert canonical_json({"b": 1, "a": [1, 2], "é": "ü"}) == '{"a":[1,2],"b":1,"é":"ü"}'


def test_record_hash_is_stable_and_covers_every_field() -> None:
    base = record_hash(RECORD)
    assert base == record_hash(dict(reversed(list(RECORD.items()))))
    assert base == record_hash({**RECORD, "hash": "ignored"})
    for field in RECORD:
        changed = {**RECORD, field: RECORD[field] + 1 if field == "seq" else RECORD[field] + "x"}
        assert record_hash(changed) != base, field


def test_keys_round_trip_through_pem(tmp_path: Path) -> None:
    key = generate_signing_key()
    (tmp_path / "k").write_bytes(private_key_pem(key))
    (tmp_path / "k.pub").write_bytes(public_key_pem(key))
    loaded = load_private_key(tmp_path / "k")
    assert public_key_pem(loaded) == public_key_pem(load_public_key(tmp_path / "k.pub"))


def test_bad_key_files_raise_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "bad").write_text("nope")
    with pytest.raises(UsageError, match="PEM private key"):
        load_private_key(tmp_path / "bad")
    with pytest.raises(UsageError, match="PEM public key"):
        load_public_key(tmp_path / "bad")
    with pytest.raises(UsageError, match="cannot read"):
        load_private_key(tmp_path / "missing")
    (tmp_path / "pub").write_bytes(public_key_pem(generate_signing_key()))
    with pytest.raises(UsageError, match="PEM private key"):
        load_private_key(tmp_path / "pub")
