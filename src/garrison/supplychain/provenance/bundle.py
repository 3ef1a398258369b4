"""DSSE envelopes in Sigstore bundles (v0.3 JSON), the container model-signing writes.

A key-signed bundle carries the public key's hint instead of a certificate and no
transparency-log entry, so it is made and checked entirely offline.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from garrison import keys
from garrison.errors import UsageError

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
MAX_BUNDLE_BYTES = 64 * 1024 * 1024


class SignatureError(UsageError):
    """A signature or attestation does not verify; the message says why."""


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding: what is actually signed."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def statement_bytes(statement: dict[str, Any]) -> bytes:
    return json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()


def sign_statement(statement: dict[str, Any], key: keys.PrivateKey) -> dict[str, Any]:
    """Sign an in-toto statement; returns the bundle as a JSON-ready dict."""
    payload = statement_bytes(statement)
    signature = keys.sign(key, pae(INTOTO_PAYLOAD_TYPE, payload))
    return {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": keys.key_hint(key)}},
        "dsseEnvelope": {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": INTOTO_PAYLOAD_TYPE,
            "signatures": [{"sig": base64.b64encode(signature).decode()}],
        },
    }


@dataclass(frozen=True, slots=True)
class Envelope:
    payload: bytes
    payload_type: str
    signature: bytes
    key_hint: str | None
    has_certificate: bool
    raw: dict[str, Any]


def read_bundle(path: Path) -> Envelope:
    try:
        size = path.stat().st_size
        if size > MAX_BUNDLE_BYTES:
            raise SignatureError(f"{path}: {size} bytes is too large for a signature bundle")
        data = path.read_bytes()
    except FileNotFoundError:
        raise SignatureError(f"no signature at {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    return parse_bundle(data, str(path))


def parse_bundle(data: bytes, where: str) -> Envelope:
    try:
        doc = json.loads(data)
        envelope = doc["dsseEnvelope"]
        material = doc.get("verificationMaterial") or {}
        signatures = envelope["signatures"]
        if not isinstance(signatures, list) or len(signatures) != 1:
            raise SignatureError(f"{where}: expected exactly one DSSE signature")
        return Envelope(
            payload=base64.b64decode(envelope["payload"], validate=True),
            payload_type=str(envelope["payloadType"]),
            signature=base64.b64decode(signatures[0]["sig"], validate=True),
            key_hint=_text_or_none((material.get("publicKey") or {}).get("hint")),
            has_certificate=bool(
                material.get("certificate") or material.get("x509CertificateChain")
            ),
            raw=doc,
        )
    except SignatureError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError, binascii.Error):
        raise SignatureError(f"{where}: not a Sigstore bundle with a DSSE envelope") from None


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def verify_envelope(envelope: Envelope, key: keys.PublicKey, where: str) -> dict[str, Any]:
    """Check the signature with `key` and return the in-toto statement it signs."""
    hint = keys.key_hint(key)
    if envelope.key_hint and envelope.key_hint != hint:
        raise SignatureError(f"{where} was signed by another key (hint {envelope.key_hint[:16]}…)")
    if not keys.verify(key, envelope.signature, pae(envelope.payload_type, envelope.payload)):
        raise SignatureError(f"{where}: the signature does not match its payload or this key")
    return decode_statement(envelope, where)


def decode_statement(envelope: Envelope, where: str) -> dict[str, Any]:
    if envelope.payload_type != INTOTO_PAYLOAD_TYPE:
        raise SignatureError(f"{where}: payload type {envelope.payload_type!r} is not in-toto")
    try:
        statement = json.loads(envelope.payload)
    except (ValueError, RecursionError):
        raise SignatureError(f"{where}: the signed payload is not JSON") from None
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise SignatureError(f"{where}: the signed payload is not an in-toto v1 statement")
    return statement


def write_bundle(path: Path, bundle: dict[str, Any]) -> None:
    try:
        path.write_text(json.dumps(bundle, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
