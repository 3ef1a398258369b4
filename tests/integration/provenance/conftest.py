"""A small model directory, key pairs, and a CLI runner bound to one store."""

from __future__ import annotations

import json
import os
import pickle
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from garrison import keys
from garrison.cli.main import app
from garrison.store import AuditLog, open_store

Invoke = Callable[..., Result]


class HarmlessPayload:
    """Pickles to a call of os.system; the tests only ever scan these bytes."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo garrison-test",))


def _safetensors(data: bytes) -> bytes:
    header = json.dumps(
        {"w": {"dtype": "U8", "shape": [len(data)], "data_offsets": [0, len(data)]}}
    )
    padded = header.encode() + b" " * (-len(header) % 8)
    return struct.pack("<Q", len(padded)) + padded + data


@pytest.fixture
def model(tmp_path: Path) -> Path:
    root = tmp_path / "bert-tiny"
    (root / "tokenizer").mkdir(parents=True)
    (root / "config.json").write_text('{"architectures": ["BertModel"], "model_type": "bert"}')
    (root / "model.safetensors").write_bytes(_safetensors(bytes(range(256)) * 64))
    (root / "tokenizer" / "vocab.txt").write_text("[PAD]\n[UNK]\nhello\n")
    return root


@pytest.fixture
def hostile_model(tmp_path: Path) -> Path:
    root = tmp_path / "hostile"
    root.mkdir()
    (root / "config.json").write_text("{}")
    (root / "pytorch_model.bin").write_bytes(pickle.dumps(HarmlessPayload(), protocol=4))
    return root


@pytest.fixture(params=["ed25519", "ecdsa-p256"])
def key_pair(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path]:
    private = tmp_path / f"{request.param}.pem"
    public = keys.write_key_pair(private, keys.generate_key(request.param))
    return private, public


@pytest.fixture
def other_key(tmp_path: Path) -> tuple[Path, Path]:
    private = tmp_path / "other.pem"
    return private, keys.write_key_pair(private, keys.generate_key("ed25519"))


@pytest.fixture
def cli(store_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Invoke:
    """Run `garrison ...` in-process with the store of this test as $GARRISON_DB_URL."""
    monkeypatch.setenv("GARRISON_DB_URL", store_url)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, [str(a) for a in args])

    return invoke


@pytest.fixture
def audit_actions(store_url: str) -> Callable[[], list[str]]:
    def actions() -> list[str]:
        store = open_store(store_url)
        try:
            log = AuditLog(store)
            assert log.verify().ok
            return [r.action for r in log.records()]
        finally:
            store.close()

    return actions
