"""`garrison sign` and `verify` on SQLite and PostgreSQL: every failure names what changed,
and every act leaves one audit record."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

from tests.integration.provenance.conftest import Invoke


def _sign(cli: Invoke, model: Path, private: Path) -> None:
    result = cli("sign", model, "--key", private)
    assert result.exit_code == 0, result.output
    assert "signed" in result.output


def test_sign_then_verify_passes_and_is_audited(
    cli: Invoke, model: Path, key_pair: tuple[Path, Path], audit_actions: Callable[[], list[str]]
) -> None:
    private, public = key_pair
    _sign(cli, model, private)
    result = cli("verify", model, "--key", public)
    assert result.exit_code == 0, result.output
    assert "3 file(s) match" in result.output
    assert audit_actions() == ["model.sign", "model.verify"]


def test_a_changed_byte_is_named(
    cli: Invoke, model: Path, key_pair: tuple[Path, Path], audit_actions: Callable[[], list[str]]
) -> None:
    private, public = key_pair
    _sign(cli, model, private)
    data = bytearray((model / "model.safetensors").read_bytes())
    data[5000] ^= 1
    (model / "model.safetensors").write_bytes(bytes(data))
    result = cli("verify", model, "--key", public)
    assert result.exit_code == 1
    assert "changed: model.safetensors" in result.output
    assert audit_actions() == ["model.sign", "model.verify"]


def test_added_removed_and_renamed_files_are_named(
    cli: Invoke, model: Path, key_pair: tuple[Path, Path]
) -> None:
    private, public = key_pair
    _sign(cli, model, private)
    (model / "extra.py").write_text("print('hi')\n")
    (model / "tokenizer" / "vocab.txt").unlink()
    (model / "config.json").rename(model / "config.old.json")
    result = cli("verify", model, "--key", public)
    assert result.exit_code == 1
    assert "added: extra.py" in result.output
    assert "removed: tokenizer/vocab.txt" in result.output
    assert "renamed: config.json -> config.old.json" in result.output


def test_a_single_file_renamed_after_signing_fails(
    cli: Invoke, model: Path, key_pair: tuple[Path, Path]
) -> None:
    private, public = key_pair
    weights = model / "model.safetensors"
    _sign(cli, weights, private)
    moved = weights.with_name("weights.safetensors")
    weights.rename(moved)
    result = cli("verify", moved, "--key", public, "--signature", str(weights) + ".sig")
    assert result.exit_code == 1
    assert "renamed: model.safetensors -> weights.safetensors" in result.output


def test_a_wrong_key_is_refused(
    cli: Invoke, model: Path, key_pair: tuple[Path, Path], other_key: tuple[Path, Path]
) -> None:
    _sign(cli, model, key_pair[0])
    result = cli("verify", model, "--key", other_key[1])
    assert result.exit_code == 1
    assert "signed by another key" in result.output


def test_an_edited_signature_is_refused(
    cli: Invoke, model: Path, key_pair: tuple[Path, Path]
) -> None:
    private, public = key_pair
    _sign(cli, model, private)
    sig_path = model / "model.sig"
    doc = json.loads(sig_path.read_text())
    raw = bytearray(base64.b64decode(doc["dsseEnvelope"]["signatures"][0]["sig"]))
    raw[-1] ^= 0x01
    doc["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
    sig_path.write_text(json.dumps(doc))
    result = cli("verify", model, "--key", public)
    assert result.exit_code == 1
    assert "signature does not match" in result.output


def test_an_edited_payload_is_refused(
    cli: Invoke, model: Path, key_pair: tuple[Path, Path]
) -> None:
    """Swapping in the digest of a replaced file breaks the signature, not just the manifest."""
    private, public = key_pair
    _sign(cli, model, private)
    (model / "config.json").write_text('{"evil": true}')
    sig_path = model / "model.sig"
    doc = json.loads(sig_path.read_text())
    statement = json.loads(base64.b64decode(doc["dsseEnvelope"]["payload"]))
    import hashlib

    for resource in statement["predicate"]["resources"]:
        if resource["name"] == "config.json":
            resource["digest"] = hashlib.sha256(b'{"evil": true}').hexdigest()
    doc["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    sig_path.write_text(json.dumps(doc))
    result = cli("verify", model, "--key", public)
    assert result.exit_code == 1
    assert "signature does not match" in result.output


def test_a_missing_or_garbage_signature_is_a_clear_failure(
    cli: Invoke, model: Path, key_pair: tuple[Path, Path]
) -> None:
    result = cli("verify", model, "--key", key_pair[1])
    assert result.exit_code == 1
    assert "no signature at" in result.output
    (model / "model.sig").write_bytes(b"\x00\xffnot json")
    result = cli("verify", model, "--key", key_pair[1])
    assert result.exit_code == 1
    assert "not a Sigstore bundle" in result.output
    assert "Traceback" not in result.output


def test_a_bad_key_file_is_a_usage_error(cli: Invoke, model: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    result = cli("sign", model, "--key", bogus)
    assert result.exit_code == 2
    assert "not a PEM private key" in result.output
