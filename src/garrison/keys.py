"""Signing keys in PEM: Ed25519 or ECDSA (P-256, P-384, P-521), for model signatures and
audit checkpoints."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from garrison.errors import UsageError

PrivateKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey
Algorithm = Literal["ed25519", "ecdsa-p256", "ecdsa-p384"]

_CURVE_HASH: dict[str, type[hashes.HashAlgorithm]] = {
    "secp256r1": hashes.SHA256,
    "secp384r1": hashes.SHA384,
    "secp521r1": hashes.SHA512,
}


def generate_key(algorithm: Algorithm = "ed25519") -> PrivateKey:
    if algorithm == "ed25519":
        return Ed25519PrivateKey.generate()
    curve = ec.SECP256R1() if algorithm == "ecdsa-p256" else ec.SECP384R1()
    return ec.generate_private_key(curve)


def private_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(key: PrivateKey | PublicKey) -> bytes:
    public = (
        key.public_key() if isinstance(key, Ed25519PrivateKey | ec.EllipticCurvePrivateKey) else key
    )
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_hint(key: PrivateKey | PublicKey) -> str:
    """model-signing's key identifier: SHA-256 of the public key's PEM."""
    return hashlib.sha256(public_pem(key)).hexdigest()


def write_key_pair(path: Path, key: PrivateKey) -> Path:
    """Write the private key (mode 0600, never over an existing file) and `<path>.pub`."""
    if path.is_dir() or not path.name:
        raise UsageError(
            f"{path} is a directory; give the key a file name, e.g. {path / 'release.pem'}"
        )
    public = path.with_name(path.name + ".pub")
    if public.exists():
        raise UsageError(f"{public} exists; refusing to overwrite a key")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(private_pem(key))
        public.write_bytes(public_pem(key))
    except FileExistsError:
        raise UsageError(f"{path} exists; refusing to overwrite a key") from None
    except OSError as exc:
        raise UsageError(f"cannot write {exc.filename}: {exc.strerror}") from None
    return public


def load_private_key(path: Path, password: bytes | None = None) -> PrivateKey:
    data = read_key_file(path)
    encrypted = b"ENCRYPTED" in data[:200]
    try:
        key = serialization.load_pem_private_key(data, password=password if encrypted else None)
    except TypeError:
        raise UsageError(f"{path} is encrypted; set GARRISON_KEY_PASSWORD") from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        if encrypted and password is not None and isinstance(exc, ValueError):
            raise UsageError(f"cannot decrypt {path}: is GARRISON_KEY_PASSWORD right?") from None
        raise UsageError(f"not a PEM private key: {path} ({_reason(exc)})") from None
    if isinstance(key, Ed25519PrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _CURVE_HASH:
        return key
    raise UsageError(f"{path}: use an Ed25519 or ECDSA P-256/P-384/P-521 key")


def load_public_key(path: Path) -> PublicKey:
    return parse_public_key(read_key_file(path), str(path))


def parse_public_key(data: bytes, where: str) -> PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise UsageError(f"not a PEM public key: {where} ({_reason(exc)})") from None
    if isinstance(key, Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _CURVE_HASH:
        return key
    raise UsageError(f"{where}: use an Ed25519 or ECDSA P-256/P-384/P-521 key")


def sign(key: PrivateKey, message: bytes) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        return key.sign(message)
    return key.sign(message, ec.ECDSA(_CURVE_HASH[key.curve.name]()))


def verify(key: PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        if isinstance(key, Ed25519PublicKey):
            key.verify(signature, message)
        else:
            key.verify(signature, message, ec.ECDSA(_CURVE_HASH[key.curve.name]()))
    except InvalidSignature:
        return False
    return True


def password_from_env() -> bytes | None:
    value = os.environ.get("GARRISON_KEY_PASSWORD")
    return value.encode() if value else None


def read_key_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read key file {path}: {exc.strerror}") from None


def _reason(exc: Exception) -> str:
    """cryptography's messages end with a FAQ link and an enum name; keep the sentence."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.split(". See ")[0].rstrip(".")
