"""atheris target: the signature bundle parser and the signed statement it carries."""

from __future__ import annotations

import sys

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports():
    import base64
    import json

    from garrison.errors import UsageError
    from garrison.supplychain.provenance.bundle import decode_statement, parse_bundle
    from garrison.supplychain.provenance.signature import statement_manifest


def wrapped(payload: bytes) -> bytes:
    """The fuzzed bytes as the signed payload of a well-formed bundle, so the statement
    parsers see them too (raw bytes rarely get past the bundle's JSON)."""
    envelope = {
        "payload": base64.b64encode(payload).decode(),
        "payloadType": "application/vnd.in-toto+json",
        "signatures": [{"sig": "AAAA"}],
    }
    return json.dumps({"dsseEnvelope": envelope}).encode()


def check(data: bytes) -> None:
    # SignatureError is a UsageError: the only failure a hostile bundle may cause.
    try:
        envelope = parse_bundle(data, "fuzz.sig")
        statement = decode_statement(envelope, "fuzz.sig")
        statement_manifest(statement, "fuzz.sig")
    except UsageError:
        pass


def TestOneInput(data: bytes) -> None:
    check(data)
    check(wrapped(data))


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
