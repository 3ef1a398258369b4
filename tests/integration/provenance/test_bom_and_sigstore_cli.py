"""`garrison bom` and `garrison verify --trust-root` as a user runs them."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from garrison.supplychain.provenance.bom import validate_bom_json
from garrison.supplychain.provenance.manifest import build_manifest
from garrison.supplychain.provenance.signature import manifest_statement
from tests.integration.provenance.conftest import Invoke
from tests.unit.supplychain.provenance.fake_sigstore import FakeSigstore


def _properties(component: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in component.get("properties", [])}


def test_bom_records_hashes_card_verdict_and_signature(
    cli: Invoke, model: Path, key_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    private, public = key_pair
    (model / "README.md").write_text(
        "---\nlicense: apache-2.0\ndatasets:\n  - imdb\n"
        "pipeline_tag: text-classification\n---\n# card\n"
    )
    assert cli("sign", model, "--key", private).exit_code == 0
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("torch==2.13.0\nnumpy>=1.26  # comment\n")
    out = tmp_path / "bom.json"
    result = cli("bom", model, "--key", public, "--requirements", requirements, "-o", out)
    assert result.exit_code == 0, result.output
    text = out.read_text()
    validate_bom_json(text)
    doc = json.loads(text)
    assert doc["specVersion"] == "1.6"
    component = doc["metadata"]["component"]
    assert component["type"] == "machine-learning-model"
    assert component["hashes"][0]["content"] == build_manifest(model).root_digest
    props = _properties(component)
    assert props["garrison:scan:verdict"] == "pass"
    assert props["garrison:signature"].startswith("verified")
    assert props["garrison:model:task"] == "text-classification"
    names = {c["name"]: c for c in doc["components"]}
    assert names["imdb"]["type"] == "data"
    assert names["torch"]["version"] == "2.13.0"


def test_bom_of_a_tampered_model_says_so(
    cli: Invoke, model: Path, key_pair: tuple[Path, Path], hostile_model: Path
) -> None:
    private, public = key_pair
    assert cli("sign", model, "--key", private).exit_code == 0
    (model / "config.json").write_text("{}")
    result = cli("bom", model, hostile_model, "--key", public)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    by_name = {c["name"]: _properties(c) for c in doc["components"] if "properties" in c}
    assert by_name["bert-tiny"]["garrison:signature"].startswith("invalid: ")
    assert "changed: config.json" in by_name["bert-tiny"]["garrison:signature"]
    assert by_name["hostile"]["garrison:scan:verdict"] == "fail"
    assert by_name["hostile"]["garrison:signature"] == "unsigned"


def test_bom_of_a_missing_path_is_a_usage_error(cli: Invoke, tmp_path: Path) -> None:
    result = cli("bom", tmp_path / "nope")
    assert result.exit_code == 2
    assert "no such file or directory" in result.output


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_a_sigstore_bundle_verifies_offline_against_a_given_trust_root(
    cli: Invoke,
    model: Path,
    tmp_path: Path,
    no_network: None,
    audit_actions: Callable[[], list[str]],
) -> None:
    fake = FakeSigstore()
    bundle = fake.sign(manifest_statement(build_manifest(model)), identity="ci@example.com")
    (model / "model.sig").write_text(json.dumps(bundle))
    root = tmp_path / "trusted_root.json"
    root.write_text(json.dumps(fake.trusted_root()))
    args = ("verify", model, "--trust-root", root, "--issuer", "https://accounts.fake.test")
    ok = cli(*args, "--identity", "ci@example.com")
    assert ok.exit_code == 0, ok.output
    assert "ci@example.com" in ok.output
    wrong = cli(*args, "--identity", "mallory@example.com")
    assert wrong.exit_code == 1
    assert "mallory@example.com" in wrong.output
    (model / "tokenizer" / "vocab.txt").write_text("changed\n")
    changed = cli(*args, "--identity", "ci@example.com")
    assert changed.exit_code == 1
    assert "changed: tokenizer/vocab.txt" in changed.output
    assert audit_actions() == ["model.verify"] * 3
    missing = cli("verify", model, "--trust-root", root)
    assert missing.exit_code == 2 and "--identity and --issuer" in missing.output
