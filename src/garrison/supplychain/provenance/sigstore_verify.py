"""Verify keyless Sigstore bundles (Fulcio certificate + Rekor entry) offline.

Everything is checked against the trust root file the user names: the certificate chain,
its embedded SCT, the log's inclusion proof, checkpoint and promise, the signer's identity
and OIDC issuer, and the DSSE signature. Nothing is fetched, so it works air-gapped.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509

from garrison.errors import MissingExtraError, UsageError
from garrison.supplychain.provenance.bundle import Envelope, SignatureError, decode_statement

if TYPE_CHECKING:
    from sigstore.models import TrustedRoot

MAX_TRUST_ROOT_BYTES = 16 * 1024 * 1024
ISSUER_V1_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
ISSUER_V2_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")

# sigstore-python says which step failed at the start of its message; say it in words a
# user can act on instead of passing on internals.
_REASONS = (
    (
        "failed to build timestamp certificate chain",
        "the signing certificate does not chain to a CA in the trust root "
        "or was not valid when it was logged",
    ),
    ("failed to verify SCT", "the certificate's SCT is not signed by a CT log in the trust root"),
    ("invalid log entry", "the transparency-log entry does not verify against the trust root"),
    ("DSSE:", "the signature does not match its payload"),
    ("log entry payload hash", "the transparency-log entry is for another payload"),
    ("log entry signatures", "the transparency-log entry is for another signature"),
    ("invalid signing cert", "the certificate was not valid when the log recorded the signature"),
    ("not enough sources of verified time", "the bundle has no verified signing time"),
    ("Key usage", "the certificate is not for digital signatures"),
    ("Extended usage", "the certificate is not for code signing"),
)


@dataclass(frozen=True, slots=True)
class SigstoreOptions:
    """Who must have signed (identity and OIDC issuer) and the trust root to check it with."""

    trust_root: Path
    identity: str
    issuer: str

    def verify(self, envelope: Envelope, where: str) -> tuple[dict[str, Any], str]:
        """Return the verified in-toto statement and a description of the signer."""
        _require_sigstore()
        from sigstore.errors import Error
        from sigstore.models import Bundle
        from sigstore.verify import Verifier

        if not envelope.has_certificate:
            raise SignatureError(f"{where} is signed with a key, not a certificate; use --key")
        verifier = Verifier(trusted_root=load_trust_root(self.trust_root))
        try:
            bundle = Bundle.from_json(json.dumps(envelope.raw))
        except (Error, ValueError) as exc:
            raise SignatureError(
                f"{where}: not a valid Sigstore bundle: {_first_line(exc)}"
            ) from None
        policy = _SignerPolicy(self.identity, self.issuer, where)
        try:
            payload_type, payload = verifier.verify_dsse(bundle, policy)
        except (Error, ValueError, x509.ExtensionNotFound) as exc:
            raise SignatureError(f"{where}: {_reason(exc)}") from None
        verified = dataclasses.replace(envelope, payload=payload, payload_type=payload_type)
        return decode_statement(verified, where), f"{self.identity} ({self.issuer})"


def load_trust_root(path: Path) -> TrustedRoot:
    """Read a Sigstore trusted_root.json, or a ClientTrustConfig that holds one."""
    _require_sigstore()
    from sigstore.errors import Error
    from sigstore.models import ClientTrustConfig, TrustedRoot
    from sigstore.verify import Verifier

    try:
        size = path.stat().st_size
        if size > MAX_TRUST_ROOT_BYTES:
            raise SignatureError(f"{path}: {size} bytes is too large for a trust root")
        data = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"no trust root at {path}") from None
    except UnicodeDecodeError:
        raise SignatureError(f"{path} is not a Sigstore trust root (not UTF-8 text)") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        doc = json.loads(data)
        if isinstance(doc, dict) and "trustedRoot" in doc:
            root = ClientTrustConfig.from_json(data).trusted_root
        else:
            root = TrustedRoot.from_file(str(path))
        Verifier(trusted_root=root)  # fails early on a root with no CA or log
    except (Error, ValueError) as exc:
        raise SignatureError(
            f"{path} is not a usable Sigstore trusted root or client trust config: "
            f"{_first_line(exc)}"
        ) from None
    return root


class _SignerPolicy:
    """Sigstore's identity and issuer checks, failing with a message that names the signer."""

    def __init__(self, identity: str, issuer: str, where: str) -> None:
        self.identity = identity
        self.issuer = issuer
        self.where = where

    def verify(self, cert: x509.Certificate) -> None:
        from sigstore.errors import VerificationError
        from sigstore.verify import policy

        # Fulcio writes the issuer in a deprecated raw extension and a newer DER one.
        issuer = policy.AnyOf([policy.OIDCIssuer(self.issuer), policy.OIDCIssuerV2(self.issuer)])
        try:
            policy.Identity(identity=self.identity).verify(cert)
        except (VerificationError, x509.ExtensionNotFound):
            raise SignatureError(
                f"{self.where} was signed by {_names(cert)}, not {self.identity}"
            ) from None
        try:
            issuer.verify(cert)
        except (VerificationError, ValueError):
            raise SignatureError(
                f"{self.where} was signed by an identity from issuer {_issuer(cert)}, "
                f"not {self.issuer}"
            ) from None


def _names(cert: x509.Certificate) -> str:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return "a certificate without an identity"
    names = [*san.get_values_for_type(x509.RFC822Name)]
    names += san.get_values_for_type(x509.UniformResourceIdentifier)
    return ", ".join(repr(n)[1:-1] for n in names) or "a certificate without an email or URI"


def _issuer(cert: x509.Certificate) -> str:
    from cryptography.hazmat import asn1

    for oid in (ISSUER_V2_OID, ISSUER_V1_OID):
        try:
            raw = cert.extensions.get_extension_for_oid(oid).value
        except x509.ExtensionNotFound:
            continue
        if not isinstance(raw, x509.UnrecognizedExtension):
            continue
        try:
            value = asn1.decode_der(str, raw.value) if oid == ISSUER_V2_OID else raw.value.decode()
        except ValueError:
            continue
        return repr(value)[1:-1][:200]
    return "(none)"


def _reason(exc: Exception) -> str:
    message = str(exc)
    for prefix, reason in _REASONS:
        if message.startswith(prefix):
            return reason
    if isinstance(exc, x509.ExtensionNotFound):
        return "the signing certificate lacks a required extension"
    return f"Sigstore verification failed: {_first_line(exc)}"


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


def _require_sigstore() -> None:
    try:
        import sigstore.verify  # noqa: F401
    except ImportError:
        raise MissingExtraError("sigstore", "sigstore") from None
