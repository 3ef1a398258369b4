"""Model signatures at the library level: the DSSE bundle, the model-signing statement,
interoperability with the reference implementation, and signed scan attestations."""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison import keys
from garrison.assets import Asset
from garrison.findings import Finding, Location, Severity
from garrison.report.model import Report
from garrison.supplychain.provenance import attest, bundle
from garrison.supplychain.provenance.bundle import SignatureError
from garrison.supplychain.provenance.manifest import build_manifest
from garrison.supplychain.provenance.signature import (
    PREDICATE_TYPE,
    default_signature_path,
    load_signed_manifest,
    manifest_statement,
    sign_model,
    statement_manifest,
    verify_model,
)

ALGORITHMS: tuple[keys.Algorithm, ...] = ("ed25519", "ecdsa-p256", "ecdsa-p384")


@pytest.fixture
def model(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    (root / "sub").mkdir(parents=True)
    (root / "config.json").write_bytes(b'{"model_type": "bert"}')
    (root / "weights.bin").write_bytes(bytes(range(256)) * 40)
    (root / "sub" / "vocab.txt").write_bytes(b"hello\nworld\n")
    return root


@pytest.fixture(scope="module")
def key() -> keys.PrivateKey:
    return keys.generate_key("ed25519")


def signed_bundle(model: Path, key: keys.PrivateKey) -> dict[str, Any]:
    result = sign_model(model, key)
    doc: dict[str, Any] = json.loads(result.signature_path.read_text())
    return doc


def payload_of(doc: dict[str, Any]) -> dict[str, Any]:
    statement: dict[str, Any] = json.loads(base64.b64decode(doc["dsseEnvelope"]["payload"]))
    return statement


def rewrite(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc))
    return path


# --- DSSE and the bundle ---------------------------------------------------------------


def test_pae_matches_the_dsse_spec_example() -> None:
    assert (
        bundle.pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_sign_then_verify_round_trips(algorithm: keys.Algorithm, model: Path) -> None:
    private = keys.generate_key(algorithm)
    signed = sign_model(model, private)
    assert signed.signature_path == model / "model.sig"
    assert signed.key_hint == keys.key_hint(private)

    verified = verify_model(model, private.public_key())
    # The signed statement lists names and digests; sizes are not part of it.
    assert verified.manifest.digests() == signed.manifest.digests()
    assert verified.manifest.root_digest == signed.manifest.root_digest
    assert verified.signer == keys.key_hint(private)

    other = keys.generate_key(algorithm)
    with pytest.raises(SignatureError, match="signed by another key"):
        verify_model(model, other.public_key())


def test_the_bundle_has_the_model_signing_layout(model: Path, key: keys.PrivateKey) -> None:
    doc = signed_bundle(model, key)
    assert doc["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert (
        doc["verificationMaterial"]["publicKey"]["hint"]
        == hashlib.sha256(keys.public_pem(key)).hexdigest()
    )
    envelope = doc["dsseEnvelope"]
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    assert len(envelope["signatures"]) == 1

    statement = payload_of(doc)
    manifest = build_manifest(model)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://model_signing/signature/v1.0"
    assert statement["subject"] == [{"name": "tiny", "digest": {"sha256": manifest.root_digest}}]
    assert {r["name"]: r["digest"] for r in statement["predicate"]["resources"]} == (
        manifest.digests()
    )
    assert statement["predicate"]["serialization"]["method"] == "files"
    # The signature covers the PAE of exactly these payload bytes.
    signature = base64.b64decode(envelope["signatures"][0]["sig"])
    message = bundle.pae(envelope["payloadType"], base64.b64decode(envelope["payload"]))
    assert keys.verify(key.public_key(), signature, message)


def test_a_single_file_signature_lies_beside_it(tmp_path: Path, key: keys.PrivateKey) -> None:
    single = tmp_path / "model.onnx"
    single.write_bytes(b"onnx bytes")
    assert default_signature_path(single) == tmp_path / "model.onnx.sig"
    sign_model(single, key)
    assert verify_model(single, key.public_key()).manifest.digests() == {
        "model.onnx": hashlib.sha256(b"onnx bytes").hexdigest()
    }


def test_a_signature_written_inside_the_model_is_not_hashed(
    model: Path, key: keys.PrivateKey
) -> None:
    out = model / "sub" / "custom.sig"
    result = sign_model(model, key, signature_path=out)
    assert "sub/custom.sig" not in result.manifest.digests()
    verify_model(model, key.public_key(), signature_path=out)


def test_a_changed_file_is_named(model: Path, key: keys.PrivateKey) -> None:
    sign_model(model, key)
    (model / "sub" / "vocab.txt").write_bytes(b"tampered\n")
    with pytest.raises(SignatureError, match=r"changed: sub/vocab.txt"):
        verify_model(model, key.public_key())


def test_verifying_without_a_key_or_trust_root_is_refused(
    model: Path, key: keys.PrivateKey
) -> None:
    sign_model(model, key)
    with pytest.raises(SignatureError, match="--key"):
        verify_model(model)


def test_a_bundle_with_a_certificate_must_be_verified_with_a_trust_root(
    model: Path, key: keys.PrivateKey
) -> None:
    doc = signed_bundle(model, key)
    doc["verificationMaterial"] = {"certificate": {"rawBytes": "AAAA"}}
    rewrite(model / "model.sig", doc)
    with pytest.raises(SignatureError, match="--trust-root"):
        load_signed_manifest(model / "model.sig", key.public_key())
    with pytest.raises(SignatureError, match="--trust-root"):
        verify_model(model, key.public_key())


def test_a_missing_signature_is_a_signature_error(model: Path, key: keys.PrivateKey) -> None:
    with pytest.raises(SignatureError, match="no signature at"):
        verify_model(model, key.public_key())


def test_a_forged_payload_is_refused(model: Path, key: keys.PrivateKey) -> None:
    doc = signed_bundle(model, key)
    statement = payload_of(doc)
    statement["predicate"]["resources"][0]["digest"] = "0" * 64
    doc["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    rewrite(model / "model.sig", doc)
    with pytest.raises(SignatureError, match="does not match its payload"):
        verify_model(model, key.public_key())


# --- statement_manifest ----------------------------------------------------------------


def test_statement_manifest_round_trips(model: Path) -> None:
    manifest = build_manifest(model)
    parsed = statement_manifest(manifest_statement(manifest), "x")
    assert (parsed.model_name, parsed.digests(), parsed.root_digest) == (
        manifest.model_name,
        manifest.digests(),
        manifest.root_digest,
    )
    assert (parsed.ignore_paths, parsed.allow_symlinks) == (
        manifest.ignore_paths,
        manifest.allow_symlinks,
    )


def test_a_statement_whose_digests_do_not_add_up_is_refused(model: Path) -> None:
    statement = manifest_statement(build_manifest(model))
    statement["predicate"]["resources"].pop()
    with pytest.raises(SignatureError, match="do not add up"):
        statement_manifest(statement, "x")


def test_a_statement_with_another_subject_digest_is_refused(model: Path) -> None:
    statement = manifest_statement(build_manifest(model))
    statement["subject"][0]["digest"]["sha256"] = "ab" * 32
    with pytest.raises(SignatureError, match="do not add up"):
        statement_manifest(statement, "x")


def test_another_predicate_type_is_refused(model: Path) -> None:
    statement = manifest_statement(build_manifest(model))
    statement["predicateType"] = "https://slsa.dev/provenance/v1"
    with pytest.raises(SignatureError, match=r"not a model-signing v1.0 statement"):
        statement_manifest(statement, "x")


@pytest.mark.parametrize(
    "serialization",
    [
        {"method": "shards", "hash_type": "sha256", "shard_size": 1000},
        {"method": "files", "hash_type": "blake2"},
        {},
    ],
)
def test_other_serializations_are_refused(model: Path, serialization: dict[str, Any]) -> None:
    statement = manifest_statement(build_manifest(model))
    statement["predicate"]["serialization"] = serialization
    with pytest.raises(SignatureError, match="'files' serialization"):
        statement_manifest(statement, "x")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s.pop("subject"),
        lambda s: s.__setitem__("subject", []),
        lambda s: s.__setitem__("subject", "tiny"),
        lambda s: s["predicate"].pop("resources"),
        lambda s: s["predicate"].__setitem__("resources", ["a", "b"]),
        lambda s: s["predicate"]["resources"][0].__setitem__("digest", "xyz"),
        lambda s: s["predicate"].__setitem__("serialization", "files"),
        lambda s: s.__setitem__("predicate", None),
    ],
)
def test_malformed_statements_are_signature_errors(model: Path, mutate: Any) -> None:
    statement = manifest_statement(build_manifest(model))
    mutate(statement)
    with pytest.raises(SignatureError):
        statement_manifest(statement, "x")


# --- parse_bundle on untrusted bytes ---------------------------------------------------


def valid_bundle(key: keys.PrivateKey) -> dict[str, Any]:
    return bundle.sign_statement({"_type": bundle.STATEMENT_TYPE, "subject": []}, key)


def test_parse_bundle_reads_a_valid_bundle(key: keys.PrivateKey) -> None:
    doc = valid_bundle(key)
    envelope = bundle.parse_bundle(json.dumps(doc).encode(), "x")
    assert envelope.key_hint == keys.key_hint(key)
    assert not envelope.has_certificate
    assert envelope.payload_type == bundle.INTOTO_PAYLOAD_TYPE
    assert bundle.verify_envelope(envelope, key.public_key(), "x")["_type"] == (
        bundle.STATEMENT_TYPE
    )


def _two_signatures(doc: dict[str, Any]) -> None:
    sigs = doc["dsseEnvelope"]["signatures"]
    sigs.append(dict(sigs[0]))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("dsseEnvelope"), "not a Sigstore bundle"),
        (_two_signatures, "exactly one DSSE signature"),
        (lambda d: d["dsseEnvelope"].__setitem__("signatures", []), "exactly one"),
        (lambda d: d["dsseEnvelope"].__setitem__("signatures", {"sig": "AA=="}), "exactly one"),
        (lambda d: d["dsseEnvelope"].__setitem__("payload", "not base64!"), "not a Sigstore"),
        (
            lambda d: d["dsseEnvelope"]["signatures"][0].__setitem__("sig", "@@@@"),
            "not a Sigstore",
        ),
        (lambda d: d["dsseEnvelope"].pop("payloadType"), "not a Sigstore"),
        (lambda d: d.__setitem__("verificationMaterial", "hint"), "not a Sigstore"),
    ],
)
def test_parse_bundle_rejects_broken_bundles(
    key: keys.PrivateKey, mutate: Any, message: str
) -> None:
    doc = valid_bundle(key)
    mutate(doc)
    with pytest.raises(SignatureError, match=message):
        bundle.parse_bundle(json.dumps(doc).encode(), "x")


@pytest.mark.parametrize(
    "data", [b"", b"garbage", b"\xff\xfe\x00", b"[]", b"null", b'"text"', b"42", b"{}"]
)
def test_parse_bundle_rejects_garbage(data: bytes) -> None:
    with pytest.raises(SignatureError, match="not a Sigstore bundle"):
        bundle.parse_bundle(data, "x")


def test_parse_bundle_rejects_deeply_nested_json() -> None:
    with pytest.raises(SignatureError):
        bundle.parse_bundle(b"[" * 100_000, "x")


def test_decode_statement_rejects_a_deeply_nested_payload(key: keys.PrivateKey) -> None:
    doc = valid_bundle(key)
    doc["dsseEnvelope"]["payload"] = base64.b64encode(b"[" * 100_000).decode()
    envelope = bundle.parse_bundle(json.dumps(doc).encode(), "x")
    with pytest.raises(SignatureError):
        bundle.decode_statement(envelope, "x")


def test_a_hint_that_is_not_text_is_ignored_and_the_signature_decides(
    key: keys.PrivateKey,
) -> None:
    doc = valid_bundle(key)
    doc["verificationMaterial"]["publicKey"]["hint"] = 5
    envelope = bundle.parse_bundle(json.dumps(doc).encode(), "x")
    assert envelope.key_hint is None
    assert bundle.verify_envelope(envelope, key.public_key(), "x")["_type"] == bundle.STATEMENT_TYPE
    with pytest.raises(SignatureError):
        bundle.verify_envelope(envelope, keys.generate_key("ed25519").public_key(), "x")


def test_verify_envelope_rejects_payload_types_other_than_in_toto(key: keys.PrivateKey) -> None:
    payload = json.dumps({"_type": bundle.STATEMENT_TYPE}).encode()
    signature = keys.sign(key, bundle.pae("text/plain", payload))
    doc = valid_bundle(key)
    doc["dsseEnvelope"].update(
        payload=base64.b64encode(payload).decode(),
        payloadType="text/plain",
        signatures=[{"sig": base64.b64encode(signature).decode()}],
    )
    envelope = bundle.parse_bundle(json.dumps(doc).encode(), "x")
    with pytest.raises(SignatureError, match="is not in-toto"):
        bundle.verify_envelope(envelope, key.public_key(), "x")


@given(st.binary(max_size=512))
@settings(max_examples=150, deadline=None)
def test_parse_bundle_on_arbitrary_bytes_only_raises_signature_errors(data: bytes) -> None:
    with contextlib.suppress(SignatureError):
        bundle.parse_bundle(data, "fuzz")


json_leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.just("AAAA")
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
envelope_keys = st.sampled_from(["payload", "payloadType", "signatures", "sig", "x"])
bundle_like = st.fixed_dictionaries(
    {},
    optional={
        "dsseEnvelope": st.dictionaries(envelope_keys, json_values, max_size=4) | json_values,
        "verificationMaterial": st.dictionaries(
            st.sampled_from(["publicKey", "certificate", "hint"]), json_values, max_size=3
        )
        | json_values,
        "mediaType": json_values,
    },
)


@given(bundle_like)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_parse_bundle_on_json_shaped_input_only_raises_signature_errors(
    doc: dict[str, Any],
) -> None:
    try:
        envelope = bundle.parse_bundle(json.dumps(doc).encode(), "fuzz")
    except SignatureError:
        return
    assert isinstance(envelope.payload, bytes)
    assert isinstance(envelope.signature, bytes)


statement_like = st.fixed_dictionaries(
    {
        "_type": st.just(bundle.STATEMENT_TYPE),
        "predicateType": st.just(PREDICATE_TYPE),
    },
    optional={
        "subject": json_values
        | st.lists(st.dictionaries(st.sampled_from(["name", "digest"]), json_values)),
        "predicate": json_values
        | st.fixed_dictionaries(
            {"serialization": st.just({"method": "files", "hash_type": "sha256"})},
            optional={"resources": json_values},
        ),
    },
)


@given(statement_like)
@settings(max_examples=200, deadline=None)
def test_statement_manifest_on_json_shaped_input_only_raises_signature_errors(
    statement: dict[str, Any],
) -> None:
    with contextlib.suppress(SignatureError):
        statement_manifest(statement, "fuzz")


# --- interoperability with model-signing (the OpenSSF reference implementation) ---------


@pytest.fixture
def p256(tmp_path: Path) -> tuple[keys.PrivateKey, Path, Path]:
    private = keys.generate_key("ecdsa-p256")
    path = tmp_path / "p256.pem"
    return private, path, keys.write_key_pair(path, private)


def test_model_signing_verifies_a_garrison_signature(
    model: Path, p256: tuple[keys.PrivateKey, Path, Path]
) -> None:
    verifying = pytest.importorskip("model_signing.verifying")
    private, _, public = p256
    sign_model(model, private)
    verifying.Config().use_elliptic_key_verifier(public_key=public).verify(
        model, model / "model.sig"
    )


def test_garrison_verifies_a_model_signing_signature(
    model: Path, p256: tuple[keys.PrivateKey, Path, Path], tmp_path: Path
) -> None:
    signing = pytest.importorskip("model_signing.signing")
    _, private, public = p256
    sig = tmp_path / "reference.sig"
    signing.Config().use_elliptic_key_signer(private_key=private).sign(model, sig)

    result = verify_model(model, keys.load_public_key(public), sig)
    assert result.manifest.root_digest == build_manifest(model).root_digest

    (model / "weights.bin").write_bytes(b"swapped")
    with pytest.raises(SignatureError, match=r"changed: weights.bin"):
        verify_model(model, keys.load_public_key(public), sig)


# --- scan attestations -----------------------------------------------------------------


def finding(path: Path, severity: Severity, rule: str = "GA-PKL-001") -> Finding:
    return Finding(
        rule=rule,
        title="pickle calls os.system",
        severity=severity,
        asset=Asset.from_path(path),
        location=Location(path=str(path)),
    )


def attested(model: Path, key: keys.PrivateKey, report: Report) -> Path:
    out = model / "model.scan.sig"
    attest.write_attestation(build_manifest(model), report, model, key, out)
    return out


def test_the_scan_statement_carries_the_signature_digests(model: Path) -> None:
    manifest = build_manifest(model)
    report = Report(command="scan", targets=[str(model)])
    statement = attest.scan_statement(manifest, report, model)
    signed = manifest_statement(manifest)
    assert statement["predicateType"] == attest.PREDICATE_TYPE
    assert statement["subject"] == signed["subject"]
    assert statement["predicate"]["resources"] == signed["predicate"]["resources"]
    assert statement["predicate"]["serialization"] == signed["predicate"]["serialization"]
    assert statement["predicate"]["verdict"]["passed"] is True


def test_a_clean_attestation_checks_out(model: Path, key: keys.PrivateKey) -> None:
    out = attested(model, key, Report(command="scan", targets=[str(model)]))
    verdict = attest.check_attestation(out, key.public_key(), build_manifest(model))
    assert verdict.passed
    assert verdict.findings == 0
    assert verdict.max_severity is None


def test_low_findings_pass_and_are_counted(model: Path, key: keys.PrivateKey) -> None:
    report = Report(
        command="scan",
        targets=[str(model)],
        findings=[finding(model / "weights.bin", Severity.LOW)],
    )
    out = attested(model, key, report)
    verdict = attest.check_attestation(out, key.public_key(), build_manifest(model))
    assert (verdict.passed, verdict.findings, verdict.max_severity) == (True, 1, "low")
    statement = payload_of(json.loads(out.read_text()))
    assert statement["predicate"]["findings"][0]["file"] == "weights.bin"


def test_an_attestation_with_a_critical_finding_fails(model: Path, key: keys.PrivateKey) -> None:
    report = Report(
        command="scan",
        targets=[str(model)],
        findings=[finding(model / "weights.bin", Severity.CRITICAL)],
    )
    out = attested(model, key, report)
    with pytest.raises(SignatureError, match=r"scan failed .*worst critical"):
        attest.check_attestation(out, key.public_key(), build_manifest(model))


def test_a_medium_finding_fails_when_the_bar_is_medium(model: Path, key: keys.PrivateKey) -> None:
    report = Report(
        command="scan",
        targets=[str(model)],
        fail_on=Severity.CRITICAL,
        findings=[finding(model / "weights.bin", Severity.MEDIUM)],
    )
    out = attested(model, key, report)
    manifest = build_manifest(model)
    assert attest.check_attestation(out, key.public_key(), manifest).passed
    with pytest.raises(SignatureError, match="worst medium"):
        attest.check_attestation(out, key.public_key(), manifest, fail_on=Severity.MEDIUM)


def test_an_attestation_of_other_files_fails(model: Path, key: keys.PrivateKey) -> None:
    out = attested(model, key, Report(command="scan", targets=[str(model)]))
    (model / "config.json").write_bytes(b"{}")
    with pytest.raises(SignatureError, match="attests other files"):
        attest.check_attestation(out, key.public_key(), build_manifest(model))


def test_a_model_signature_is_not_an_attestation(model: Path, key: keys.PrivateKey) -> None:
    sign_model(model, key)
    with pytest.raises(SignatureError, match="not a Garrison scan attestation"):
        attest.check_attestation(model / "model.sig", key.public_key(), build_manifest(model))


def test_an_attestation_by_another_key_fails(model: Path, key: keys.PrivateKey) -> None:
    out = attested(model, key, Report(command="scan", targets=[str(model)]))
    other = keys.generate_key("ecdsa-p256")
    with pytest.raises(SignatureError, match="another key"):
        attest.check_attestation(out, other.public_key(), build_manifest(model))


def test_a_signed_but_malformed_attestation_fails(model: Path, key: keys.PrivateKey) -> None:
    statement = attest.scan_statement(
        build_manifest(model), Report(command="scan", targets=[str(model)]), model
    )
    broken = copy.deepcopy(statement)
    del broken["predicate"]["verdict"]["findings"]
    out = model / "model.scan.sig"
    bundle.write_bundle(out, bundle.sign_statement(broken, key))
    with pytest.raises(SignatureError, match="malformed"):
        attest.check_attestation(out, key.public_key(), build_manifest(model))


def test_findings_for_keeps_only_the_model_and_not_a_sibling_prefix(tmp_path: Path) -> None:
    m, m2 = tmp_path / "m", tmp_path / "m2"
    inside = finding(m / "weights.bin", Severity.HIGH, "GA-A")
    nested = finding(m / "sub" / "x.pkl", Severity.LOW, "GA-B")
    itself = finding(m, Severity.INFO, "GA-C")
    sibling = finding(m2 / "weights.bin", Severity.CRITICAL, "GA-D")
    elsewhere = Finding("GA-E", "t", Severity.HIGH, Asset(uri="x"), Location())
    report = Report(
        command="scan",
        targets=[str(m), str(m2)],
        fail_on=Severity.MEDIUM,
        findings=[inside, nested, itself, sibling, elsewhere],
    )

    part = attest.findings_for(report, m)

    assert [f.rule for f in part.findings] == ["GA-A", "GA-B", "GA-C"]
    assert part.targets == [str(m)]
    assert part.fail_on is Severity.MEDIUM
    assert part.started_at == report.started_at
    assert [f.rule for f in attest.findings_for(report, m2).findings] == ["GA-D"]


def test_findings_for_falls_back_to_the_asset_path(tmp_path: Path) -> None:
    m = tmp_path / "m"
    by_asset = Finding("GA-A", "t", Severity.HIGH, Asset.from_path(m / "a.bin"), Location())
    report = Report(command="scan", targets=[str(m)], findings=[by_asset])
    assert attest.findings_for(report, m).findings == [by_asset]
