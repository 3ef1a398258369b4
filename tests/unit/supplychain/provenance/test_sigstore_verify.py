"""Keyless Sigstore bundles verify offline against a trust root file, and every forgery fails."""

from __future__ import annotations

import base64
import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from garrison.errors import MissingExtraError, UsageError
from garrison.supplychain.provenance import bundle
from garrison.supplychain.provenance.bundle import SignatureError
from garrison.supplychain.provenance.manifest import build_manifest, default_ignores
from garrison.supplychain.provenance.signature import manifest_statement, verify_model
from garrison.supplychain.provenance.sigstore_verify import SigstoreOptions

from .fake_sigstore import FakeSigstore

IDENTITY = "alice@example.com"
ISSUER = "https://accounts.fake.test"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach the network fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def fake() -> FakeSigstore:
    return FakeSigstore()


@pytest.fixture
def model(tmp_path: Path) -> Path:
    root = tmp_path / "model"
    (root / "weights").mkdir(parents=True)
    (root / "config.json").write_text('{"layers": 2}')
    (root / "weights" / "model.safetensors").write_bytes(b"\x00\x01" * 512)
    return root


def statement_for(model: Path) -> dict[str, Any]:
    return manifest_statement(build_manifest(model, default_ignores(model)))


def write_json(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc))
    return path


def envelope_of(doc: dict[str, Any]) -> bundle.Envelope:
    return bundle.parse_bundle(json.dumps(doc).encode(), "model.sig")


def options(trust_root: Path, identity: str = IDENTITY, issuer: str = ISSUER) -> SigstoreOptions:
    return SigstoreOptions(trust_root=trust_root, identity=identity, issuer=issuer)


def rejected(opts: SigstoreOptions, doc: dict[str, Any]) -> str:
    with pytest.raises(SignatureError) as info:
        opts.verify(envelope_of(doc), "model.sig")
    message = str(info.value)
    assert "\n" not in message
    assert "Traceback" not in message
    return message


def test_a_keyless_bundle_verifies_offline(fake: FakeSigstore, model: Path, tmp_path: Path) -> None:
    statement = statement_for(model)
    root = write_json(tmp_path / "trusted_root.json", fake.trusted_root())

    verified, signer = options(root).verify(envelope_of(fake.sign(statement)), "model.sig")

    assert verified == statement
    assert IDENTITY in signer
    assert ISSUER in signer


def test_verify_model_accepts_sigstore_options(
    fake: FakeSigstore, model: Path, tmp_path: Path
) -> None:
    bundle.write_bundle(model / "model.sig", fake.sign(statement_for(model)))
    root = write_json(tmp_path / "trusted_root.json", fake.trusted_root())

    result = verify_model(model, sigstore=options(root))

    assert result.signer == f"{IDENTITY} ({ISSUER})"
    assert result.manifest.digests() == build_manifest(model, default_ignores(model)).digests()

    (model / "config.json").write_text('{"layers": 3}')
    with pytest.raises(SignatureError, match=r"config\.json"):
        verify_model(model, sigstore=options(root))


def test_a_client_trust_config_works_as_the_trust_root(
    fake: FakeSigstore, model: Path, tmp_path: Path
) -> None:
    config = write_json(tmp_path / "trust_config.json", fake.trust_config())

    verified, _ = options(config).verify(envelope_of(fake.sign(statement_for(model))), "m")

    assert verified["subject"][0]["name"] == "model"


@pytest.mark.parametrize("extensions", [("v1",), ("v2",)])
def test_either_issuer_extension_is_accepted(
    fake: FakeSigstore, model: Path, tmp_path: Path, extensions: tuple[str, ...]
) -> None:
    workflow = "https://github.com/acme/models/.github/workflows/sign.yml@refs/heads/main"
    doc = fake.sign(statement_for(model), workflow, ISSUER, issuer_extensions=extensions)
    root = write_json(tmp_path / "trusted_root.json", fake.trusted_root())

    _, signer = options(root, identity=workflow).verify(envelope_of(doc), "model.sig")

    assert signer.startswith(workflow)


def test_another_identity_is_rejected(fake: FakeSigstore, model: Path, tmp_path: Path) -> None:
    doc = fake.sign(statement_for(model), "mallory@example.com", ISSUER)
    root = write_json(tmp_path / "trusted_root.json", fake.trusted_root())

    message = rejected(options(root), doc)

    assert "mallory@example.com" in message
    assert IDENTITY in message


def test_another_issuer_is_rejected(fake: FakeSigstore, model: Path, tmp_path: Path) -> None:
    doc = fake.sign(statement_for(model), IDENTITY, "https://evil.fake.test")
    root = write_json(tmp_path / "trusted_root.json", fake.trusted_root())

    message = rejected(options(root), doc)

    assert "https://evil.fake.test" in message
    assert f"not {ISSUER}" in message


def test_a_tampered_payload_is_rejected(fake: FakeSigstore, model: Path, tmp_path: Path) -> None:
    doc = fake.sign(statement_for(model))
    payload = bytearray(base64.b64decode(doc["dsseEnvelope"]["payload"]))
    at = payload.index(b'"digest":"') + len(b'"digest":"')
    payload[at] = ord("0") if payload[at] != ord("0") else ord("1")
    doc["dsseEnvelope"]["payload"] = base64.b64encode(bytes(payload)).decode()
    root = write_json(tmp_path / "trusted_root.json", fake.trusted_root())

    assert "signature does not match its payload" in rejected(options(root), doc)


def test_a_log_entry_for_another_signature_is_rejected(
    fake: FakeSigstore, model: Path, tmp_path: Path
) -> None:
    doc = fake.sign(statement_for(model))
    other = fake.sign({**statement_for(model), "predicate": {}})
    doc["verificationMaterial"]["tlogEntries"] = other["verificationMaterial"]["tlogEntries"]
    root = write_json(tmp_path / "trusted_root.json", fake.trusted_root())

    assert "transparency-log entry is for another" in rejected(options(root), doc)


def test_a_certificate_from_another_ca_is_rejected(
    fake: FakeSigstore, model: Path, tmp_path: Path
) -> None:
    # Same logs, different Fulcio: only the certificate chain can fail.
    impostor = FakeSigstore(ca_name="impostor", ct_key=fake.ct_key, rekor_key=fake.rekor_key)
    root = write_json(tmp_path / "trusted_root.json", fake.trusted_root())

    message = rejected(options(root), impostor.sign(statement_for(model)))

    assert "does not chain to a CA in the trust root" in message


def test_a_log_the_trust_root_does_not_list_is_rejected(
    fake: FakeSigstore, model: Path, tmp_path: Path
) -> None:
    other_log = FakeSigstore(
        root_key=fake.root_key, intermediate_key=fake.intermediate_key, ct_key=fake.ct_key
    )
    root = write_json(tmp_path / "trusted_root.json", fake.trusted_root())

    message = rejected(options(root), other_log.sign(statement_for(model)))

    assert "transparency-log entry does not verify against the trust root" in message


def test_an_sct_from_an_unknown_ct_log_is_rejected(
    fake: FakeSigstore, model: Path, tmp_path: Path
) -> None:
    other_ct = FakeSigstore(
        root_key=fake.root_key, intermediate_key=fake.intermediate_key, rekor_key=fake.rekor_key
    )
    root = write_json(tmp_path / "trusted_root.json", fake.trusted_root())

    assert "SCT" in rejected(options(root), other_ct.sign(statement_for(model)))


def test_a_key_signed_bundle_needs_a_key(model: Path, tmp_path: Path, fake: FakeSigstore) -> None:
    from garrison import keys

    doc = bundle.sign_statement(statement_for(model), keys.generate_key("ed25519"))
    root = write_json(tmp_path / "trusted_root.json", fake.trusted_root())

    assert "signed with a key" in rejected(options(root), doc)


@pytest.mark.parametrize(
    "content",
    [
        b"not json at all",
        b'{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}',
        b'{"trustedRoot": {}}',
        b"\xff\xfe\x00",
        b"[]",
    ],
)
def test_a_malformed_trust_root_is_a_one_line_error(
    fake: FakeSigstore, model: Path, tmp_path: Path, content: bytes
) -> None:
    root = tmp_path / "trusted_root.json"
    root.write_bytes(content)

    with pytest.raises(SignatureError) as info:
        options(root).verify(envelope_of(fake.sign(statement_for(model))), "model.sig")

    assert str(root) in str(info.value)
    assert "\n" not in str(info.value)


def test_a_trust_root_without_a_ca_is_rejected(
    fake: FakeSigstore, model: Path, tmp_path: Path
) -> None:
    root = write_json(
        tmp_path / "trusted_root.json", {**fake.trusted_root(), "certificateAuthorities": []}
    )

    with pytest.raises(SignatureError, match="not a usable Sigstore trusted root"):
        options(root).verify(envelope_of(fake.sign(statement_for(model))), "model.sig")


def test_a_missing_trust_root_is_a_usage_error(
    fake: FakeSigstore, model: Path, tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match="no trust root at"):
        options(tmp_path / "absent.json").verify(
            envelope_of(fake.sign(statement_for(model))), "model.sig"
        )


def test_a_missing_sigstore_package_names_the_extra(
    fake: FakeSigstore, model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in sys.modules if n == "sigstore" or n.startswith("sigstore.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "sigstore", None)
    root = write_json(tmp_path / "trusted_root.json", fake.trusted_root())

    with pytest.raises(MissingExtraError, match=r"garrison-ml\[sigstore\]"):
        options(root).verify(envelope_of(fake.sign(statement_for(model))), "model.sig")


def test_the_network_guard_is_active() -> None:
    with pytest.raises(AssertionError, match="network access attempted"):
        socket.create_connection(("rekor.sigstore.dev", 443))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("inclusionPromise", {"signedEntryTimestamp": base64.b64encode(b"\x30" * 70).decode()}),
        ("integratedTime", "1"),
        ("canonicalizedBody", base64.b64encode(b'{"kind":"dsse"}').decode()),
    ],
)
def test_a_tampered_log_entry_is_rejected(
    fake: FakeSigstore, model: Path, tmp_path: Path, field: str, value: object
) -> None:
    doc = fake.sign(statement_for(model))
    doc["verificationMaterial"]["tlogEntries"][0][field] = value
    root = write_json(tmp_path / "trusted_root.json", fake.trusted_root())

    rejected(options(root), doc)


def test_the_reference_implementation_accepts_the_fake_instance(
    fake: FakeSigstore, model: Path, tmp_path: Path
) -> None:
    # model-signing verifying our fake bundle shows the fake is a faithful Sigstore.
    verifying = pytest.importorskip("model_signing.verifying")
    bundle.write_bundle(model / "model.sig", fake.sign(statement_for(model)))
    config = write_json(tmp_path / "trust_config.json", fake.trust_config())

    verifying.Config().use_sigstore_verifier(
        identity=IDENTITY, oidc_issuer=ISSUER, trust_config=config
    ).verify(model, model / "model.sig")
    verify_model(model, sigstore=options(config))
