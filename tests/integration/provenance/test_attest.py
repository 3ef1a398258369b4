"""`scan --attest` and `verify --require-attestation`: a signed verdict bound to the digests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.integration.provenance.conftest import Invoke


def _signed_and_attested(cli: Invoke, model: Path, private: Path) -> None:
    assert cli("sign", model, "--key", private).exit_code == 0
    result = cli("scan", model, "--attest", "--key", private, "--record")
    assert result.exit_code == 0, result.output
    assert (model / "model.scan.sig").is_file()


def test_a_passing_attestation_verifies(
    cli: Invoke, model: Path, key_pair: tuple[Path, Path], audit_actions: Callable[[], list[str]]
) -> None:
    private, public = key_pair
    _signed_and_attested(cli, model, private)
    result = cli("verify", model, "--key", public, "--require-attestation")
    assert result.exit_code == 0, result.output
    assert "attestation: scan passed (0 finding(s))" in result.output
    assert "rules 0." in result.output
    assert audit_actions() == [
        "model.sign",
        "scan.attest",
        "scan.verdict",
        "model.verify",
        "model.verify.attestation",
    ]


def test_the_attestation_carries_the_signature_digests(
    cli: Invoke, model: Path, key_pair: tuple[Path, Path]
) -> None:
    import base64

    _signed_and_attested(cli, model, key_pair[0])
    sig = json.loads((model / "model.sig").read_text())
    att = json.loads((model / "model.scan.sig").read_text())
    signed = json.loads(base64.b64decode(sig["dsseEnvelope"]["payload"]))
    attested = json.loads(base64.b64decode(att["dsseEnvelope"]["payload"]))
    assert attested["subject"] == signed["subject"]
    assert attested["predicate"]["resources"] == signed["predicate"]["resources"]
    assert attested["predicateType"] == "https://garrison.dev/attestation/scan/v1"
    assert attested["predicate"]["verdict"]["passed"] is True


def test_a_missing_attestation_fails(cli: Invoke, model: Path, key_pair: tuple[Path, Path]) -> None:
    assert cli("sign", model, "--key", key_pair[0]).exit_code == 0
    result = cli("verify", model, "--key", key_pair[1], "--require-attestation")
    assert result.exit_code == 1
    assert "no scan attestation at" in result.output and "model.scan.sig" in result.output
    assert "garrison scan --attest" in result.output


def test_a_failing_verdict_is_refused(
    cli: Invoke, hostile_model: Path, key_pair: tuple[Path, Path]
) -> None:
    private, public = key_pair
    assert cli("sign", hostile_model, "--key", private).exit_code == 0
    scan = cli("scan", hostile_model, "--attest", "--key", private)
    assert scan.exit_code == 1
    result = cli("verify", hostile_model, "--key", public, "--require-attestation")
    assert result.exit_code == 1
    assert "scan failed" in result.output and "worst critical" in result.output


def test_an_attestation_of_other_digests_is_refused(
    cli: Invoke, model: Path, key_pair: tuple[Path, Path]
) -> None:
    """The model was changed and re-signed, but the old verdict was kept."""
    private, public = key_pair
    _signed_and_attested(cli, model, private)
    (model / "config.json").write_text('{"architectures": ["Other"]}')
    assert cli("sign", model, "--key", private).exit_code == 0
    result = cli("verify", model, "--key", public, "--require-attestation")
    assert result.exit_code == 1
    assert "attests other files than the signature covers" in result.output


def test_an_attestation_by_another_key_is_refused(
    cli: Invoke, model: Path, key_pair: tuple[Path, Path], other_key: tuple[Path, Path]
) -> None:
    private, public = key_pair
    assert cli("sign", model, "--key", private).exit_code == 0
    assert cli("scan", model, "--attest", "--key", other_key[0]).exit_code == 0
    result = cli("verify", model, "--key", public, "--require-attestation")
    assert result.exit_code == 1
    assert "signed by another key" in result.output
    trusted = cli(
        "verify", model, "--key", public, "--require-attestation", "--attestation-key", other_key[1]
    )
    assert trusted.exit_code == 0, trusted.output


def test_attest_without_a_key_is_a_usage_error(cli: Invoke, model: Path) -> None:
    result = cli("scan", model, "--attest")
    assert result.exit_code == 2
    assert "--attest needs --key" in result.output
