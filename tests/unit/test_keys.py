"""Signing keys: generation, PEM files on disk, passwords, and the accepted algorithms."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from garrison import keys
from garrison.errors import UsageError

ALGORITHMS: tuple[keys.Algorithm, ...] = ("ed25519", "ecdsa-p256", "ecdsa-p384")
ACCEPTED = "Ed25519 or ECDSA P-256/P-384/P-521"


def _pem(key: object, password: bytes | None = None) -> bytes:
    assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_generate_write_load_round_trip(algorithm: keys.Algorithm, tmp_path: Path) -> None:
    key = keys.generate_key(algorithm)
    private = tmp_path / "signing.pem"
    public = keys.write_key_pair(private, key)

    assert public == tmp_path / "signing.pem.pub"
    loaded = keys.load_private_key(private)
    loaded_public = keys.load_public_key(public)
    assert keys.private_pem(loaded) == keys.private_pem(key)
    assert keys.public_pem(loaded_public) == keys.public_pem(key)
    assert keys.key_hint(loaded_public) == hashlib.sha256(public.read_bytes()).hexdigest()
    assert keys.key_hint(key) == keys.key_hint(loaded_public)

    message = b"the manifest"
    signature = keys.sign(loaded, message)
    assert keys.verify(loaded_public, signature, message)
    assert not keys.verify(loaded_public, signature, b"another manifest")
    other = keys.generate_key(algorithm)
    assert not keys.verify(other.public_key(), signature, message)


@pytest.mark.parametrize(
    ("algorithm", "curve"), [("ecdsa-p256", "secp256r1"), ("ecdsa-p384", "secp384r1")]
)
def test_ecdsa_keys_use_the_named_curve(algorithm: keys.Algorithm, curve: str) -> None:
    key = keys.generate_key(algorithm)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == curve


def test_a_p521_key_made_elsewhere_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "p521.pem"
    path.write_bytes(_pem(ec.generate_private_key(ec.SECP521R1())))
    key = keys.load_private_key(path)
    assert keys.verify(key.public_key(), keys.sign(key, b"m"), b"m")


def test_the_private_key_is_written_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    private = tmp_path / "signing.pem"
    keys.write_key_pair(private, keys.generate_key())
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    original = private.read_bytes()

    with pytest.raises(UsageError, match="refusing to overwrite"):
        keys.write_key_pair(private, keys.generate_key())
    assert private.read_bytes() == original


def test_writing_into_a_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot write"):
        keys.write_key_pair(tmp_path / "no" / "such" / "k.pem", keys.generate_key())


def test_an_encrypted_key_needs_the_password_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "locked.pem"
    path.write_bytes(_pem(key, b"correct horse"))

    monkeypatch.delenv("GARRISON_KEY_PASSWORD", raising=False)
    assert keys.password_from_env() is None
    with pytest.raises(UsageError, match="GARRISON_KEY_PASSWORD"):
        keys.load_private_key(path, keys.password_from_env())

    monkeypatch.setenv("GARRISON_KEY_PASSWORD", "correct horse")
    loaded = keys.load_private_key(path, keys.password_from_env())
    assert keys.key_hint(loaded) == keys.key_hint(key)


def test_a_wrong_password_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.pem"
    path.write_bytes(_pem(ec.generate_private_key(ec.SECP256R1()), b"right"))
    with pytest.raises(UsageError, match=r"cannot decrypt .*GARRISON_KEY_PASSWORD right"):
        keys.load_private_key(path, b"wrong")


def test_a_password_for_an_unencrypted_key_is_not_reported_as_missing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "plain.pem"
    keys.write_key_pair(path, keys.generate_key())
    try:
        keys.load_private_key(path, b"left over in the environment")
    except UsageError as exc:
        assert "is encrypted" not in str(exc)


def test_an_rsa_key_is_refused_naming_the_accepted_algorithms(tmp_path: Path) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    private = tmp_path / "rsa.pem"
    private.write_bytes(_pem(rsa_key))
    public = tmp_path / "rsa.pub"
    public.write_bytes(
        rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    with pytest.raises(UsageError, match=ACCEPTED):
        keys.load_private_key(private)
    with pytest.raises(UsageError, match=ACCEPTED):
        keys.load_public_key(public)


def test_a_secp256k1_key_is_refused_naming_the_accepted_algorithms(tmp_path: Path) -> None:
    k1 = ec.generate_private_key(ec.SECP256K1())
    private = tmp_path / "k1.pem"
    private.write_bytes(_pem(k1))
    with pytest.raises(UsageError, match=ACCEPTED):
        keys.load_private_key(private)
    with pytest.raises(UsageError, match=ACCEPTED):
        keys.parse_public_key(keys.public_pem(k1.public_key()), "k1.pub")


def test_garbage_and_missing_key_files_are_usage_errors(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n")
    with pytest.raises(UsageError, match="not a PEM private key"):
        keys.load_private_key(garbage)
    with pytest.raises(UsageError, match="not a PEM public key"):
        keys.load_public_key(garbage)
    with pytest.raises(UsageError, match="cannot read key file"):
        keys.load_private_key(tmp_path / "missing.pem")
    with pytest.raises(UsageError, match="cannot read key file"):
        keys.load_public_key(tmp_path / "missing.pub")


def test_a_public_key_file_is_not_a_private_key(tmp_path: Path) -> None:
    public = keys.write_key_pair(tmp_path / "k.pem", keys.generate_key())
    with pytest.raises(UsageError, match="not a PEM private key"):
        keys.load_private_key(public)
