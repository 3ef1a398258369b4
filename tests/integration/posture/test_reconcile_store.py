"""Reconciliation with a real store (SQLite and PostgreSQL): approvals, gateway keys, the BOM."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from garrison.gateway.config import GatewayConfig
from garrison.gateway.keys import KeyStore
from garrison.policy import Policy
from garrison.posture import PosturePolicy, discover
from garrison.posture import discovery as discovery_module
from garrison.store import open_store
from garrison.supplychain.provenance.approvals import Registry
from garrison.supplychain.provenance.manifest import build_manifest

VERDICT = {"passed": True, "max_severity": None, "findings": 0}


def safetensors(path: Path, value: int) -> Path:
    header = b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}'
    path.write_bytes(struct.pack("<Q", len(header)) + header + struct.pack("<f", value))
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    safetensors(root / "approved.safetensors", 1)
    safetensors(root / "unknown.safetensors", 2)
    (root / "app.py").write_text(
        "from openai import OpenAI\nc = OpenAI(base_url='https://gw.internal/v1')\n"
        "c.chat.completions.create(model='gpt-4o')\n"
        "c.chat.completions.create(model='shadow-model')\n"
    )
    return root


def test_models_and_keys_are_reconciled_with_the_store(store_url: str, repo: Path) -> None:
    store = open_store(store_url)
    try:
        registry = Registry(store)
        registry.approve(build_manifest(repo / "approved.safetensors"), "ml", "limited", VERDICT)
        keys = KeyStore(store)
        keys.create(owner="team-search")
        _, orphan = keys.create(owner="unknown")
    finally:
        store.close()
    served = {"gpt-4o": "ab" * 32}
    policy = Policy(
        gateway=GatewayConfig(models=served),
        posture=PosturePolicy(gateway_urls=("https://gw.internal/v1",)),
    )
    found = discover(repo, policy, store_url=store_url)
    evidence = sorted(f"{f.rule} {f.evidence}" for f in found.report.findings)
    assert [e.split(" ")[0] for e in evidence] == [
        "GA-POST-012",
        "GA-POST-013",
        "GA-POST-013",
        "GA-POST-013",
    ]
    text = "\n".join(evidence)
    assert orphan.id in text
    assert "unknown.safetensors" not in text  # named by digest, located by path
    assert "'shadow-model' referenced" in text
    assert "gateway serves 'gpt-4o'" in text
    unapproved = [f.location.path for f in found.report.findings if "file, sha256" in f.evidence]
    assert unapproved == [str(repo / "unknown.safetensors")]


def test_a_bom_covers_models_by_name_and_digest(tmp_path: Path, repo: Path) -> None:
    import hashlib

    digest = hashlib.sha256((repo / "unknown.safetensors").read_bytes()).hexdigest()
    bom = tmp_path / "bom.json"
    bom.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "components": [
                    {"name": "shadow-model", "type": "machine-learning-model"},
                    {"name": "gpt-4o"},
                    {"name": "w", "hashes": [{"alg": "SHA-256", "content": digest}]},
                ],
            }
        )
    )
    found = discover(repo, bom=bom)
    flagged = [f.location.path for f in found.report.findings if f.rule == "GA-POST-013"]
    assert flagged == [str(repo / "approved.safetensors")]


def test_a_missing_store_is_a_usage_error(tmp_path: Path, repo: Path) -> None:
    from garrison.errors import GarrisonError

    with pytest.raises(GarrisonError, match="no store"):
        discover(repo, store_url=f"sqlite:///{tmp_path / 'absent.db'}")


def test_parallel_discovery_matches_serial(
    tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(40):
        (repo / f"m{i}.py").write_text(f"import torch\ntorch.load('x{i}.pt')\n")
    monkeypatch.setattr(discovery_module, "PARALLEL_MIN_FILES", 10)
    monkeypatch.setattr(discovery_module, "_CHUNK", 4)
    serial = discover(repo)
    parallel = discover(repo, jobs=2)
    assert sorted(map(str, serial.report.findings)) == sorted(map(str, parallel.report.findings))
    assert len(parallel.report.findings) == 40
