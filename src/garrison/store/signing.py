"""Ed25519 keys for audit checkpoints: the Ed25519 subset of `garrison.keys`."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from garrison import keys
from garrison.errors import UsageError


def generate_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return keys.private_pem(key)


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    return keys.public_pem(key)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = keys.load_private_key(path, keys.password_from_env())
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"not an Ed25519 private key: {path}")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    return parse_public_key(keys.read_key_file(path), str(path))


def parse_public_key(data: bytes, where: str) -> Ed25519PublicKey:
    key = keys.parse_public_key(data, where)
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"not an Ed25519 public key: {where}")
    return key
