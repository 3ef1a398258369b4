"""A fake Sigstore instance built with `cryptography`, so keyless bundles verify offline.

It plays Fulcio (a root CA, an intermediate, a leaf certificate for an identity with the
OIDC issuer extensions and an embedded SCT), the CT log that signs that SCT, and Rekor (a
dsse v0.0.1 entry with an inclusion proof, a signed checkpoint and a signed entry
timestamp), and writes the trusted_root.json that lists all their keys.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import struct
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat import asn1
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from garrison.supplychain.provenance.bundle import BUNDLE_MEDIA_TYPE, INTOTO_PAYLOAD_TYPE, pae

ISSUER_V1_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
ISSUER_V2_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
SCT_LIST_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
TRUSTED_ROOT_MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
TRUST_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
REKOR_ORIGIN = "rekor.fake.test - 1"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(key: ec.EllipticCurvePrivateKey) -> bytes:
    """RFC 6962 key id: SHA-256 of the public key's SubjectPublicKeyInfo."""
    return hashlib.sha256(spki(key)).digest()


def ecdsa(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def canonical_json(doc: dict[str, Any]) -> bytes:
    # Equal to RFC 8785 for the ASCII strings and small integers used here.
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def _ca_cert(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    now: dt.datetime,
) -> x509.Certificate:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fake.test"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    issuer_key_pub = issuer_key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=30))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key_pub), critical=False
        )
    )
    return builder.sign(issuer_key, hashes.SHA256())


def _sct_list(log_id: bytes, millis: int, signature: bytes) -> bytes:
    """A TLS-encoded SignedCertificateTimestampList with one v1 SCT (RFC 6962 3.3)."""
    sct = (
        struct.pack("!B32sQH", 0, log_id, millis, 0)
        + struct.pack("!BBH", 4, 3, len(signature))  # sha256, ecdsa
        + signature
    )
    item = struct.pack("!H", len(sct)) + sct
    return struct.pack("!H", len(item)) + item


def _sct_signed_data(millis: int, issuer_key_hash: bytes, tbs: bytes) -> bytes:
    """What the CT log signs for a precertificate entry (RFC 6962 3.2)."""
    length = struct.pack("!I", len(tbs))[1:]  # a 24-bit length
    return (
        struct.pack("!BBQH", 0, 0, millis, 1)
        + issuer_key_hash
        + length
        + tbs
        + struct.pack("!H", 0)
    )


@dataclass
class FakeSigstore:
    """One fake Sigstore deployment; `now` is the signing time of every bundle it makes."""

    ca_name: str = "fake-fulcio"
    now: dt.datetime = field(
        default_factory=lambda: (
            dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
        )
    )
    root_key: ec.EllipticCurvePrivateKey = field(default_factory=new_key)
    intermediate_key: ec.EllipticCurvePrivateKey = field(default_factory=new_key)
    ct_key: ec.EllipticCurvePrivateKey = field(default_factory=new_key)
    rekor_key: ec.EllipticCurvePrivateKey = field(default_factory=new_key)

    def __post_init__(self) -> None:
        self.root = _ca_cert(self.ca_name + "-root", self.root_key, None, self.root_key, self.now)
        self.intermediate = _ca_cert(
            self.ca_name + "-intermediate",
            self.intermediate_key,
            self.root,
            self.root_key,
            self.now,
        )

    # The trust root -------------------------------------------------------------------------

    def _log(self, key: ec.EllipticCurvePrivateKey, url: str) -> dict[str, Any]:
        return {
            "baseUrl": url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": b64(spki(key)),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": (self.now - dt.timedelta(days=30)).isoformat()},
            },
            "logId": {"keyId": b64(key_id(key))},
        }

    def trusted_root(self) -> dict[str, Any]:
        chain = [self.intermediate, self.root]
        return {
            "mediaType": TRUSTED_ROOT_MEDIA_TYPE,
            "tlogs": [self._log(self.rekor_key, "https://rekor.fake.test")],
            "certificateAuthorities": [
                {
                    "subject": {"organization": "fake.test", "commonName": self.ca_name},
                    "uri": "https://fulcio.fake.test",
                    "certChain": {
                        "certificates": [
                            {"rawBytes": b64(c.public_bytes(serialization.Encoding.DER))}
                            for c in chain
                        ]
                    },
                    "validFor": {"start": (self.now - dt.timedelta(days=30)).isoformat()},
                }
            ],
            "ctlogs": [self._log(self.ct_key, "https://ctfe.fake.test")],
            "timestampAuthorities": [],
        }

    def trust_config(self) -> dict[str, Any]:
        """The ClientTrustConfig form (model-signing's --trust-config) of the same root."""
        service = {"url": "https://{}.fake.test", "majorApiVersion": 1, "operator": "fake.test"}
        return {
            "mediaType": TRUST_CONFIG_MEDIA_TYPE,
            "trustedRoot": self.trusted_root(),
            "signingConfig": {
                "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
                "caUrls": [{**service, "url": "https://fulcio.fake.test"}],
                "oidcUrls": [{**service, "url": "https://oauth2.fake.test"}],
                "rekorTlogUrls": [{**service, "url": "https://rekor.fake.test"}],
                "rekorTlogConfig": {"selector": "ANY"},
                "tsaConfig": {"selector": "ANY"},
            },
        }

    # Fulcio ---------------------------------------------------------------------------------

    def leaf(
        self,
        key: ec.EllipticCurvePrivateKey,
        identity: str,
        issuer: str,
        issuer_extensions: tuple[str, ...] = ("v1", "v2"),
    ) -> x509.Certificate:
        """A Fulcio-style leaf: empty subject, critical SAN, code signing, an embedded SCT."""
        name: x509.GeneralName = (
            x509.RFC822Name(identity)
            if "@" in identity
            else x509.UniformResourceIdentifier(identity)
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.intermediate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - dt.timedelta(minutes=1))
            .not_valid_after(self.now + dt.timedelta(minutes=10))
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.intermediate_key.public_key()
                ),
                critical=False,
            )
            .add_extension(x509.SubjectAlternativeName([name]), critical=True)
        )
        if "v1" in issuer_extensions:
            # The deprecated extension holds the bare string, not DER.
            builder = builder.add_extension(
                x509.UnrecognizedExtension(ISSUER_V1_OID, issuer.encode()), critical=False
            )
        if "v2" in issuer_extensions:
            builder = builder.add_extension(
                x509.UnrecognizedExtension(ISSUER_V2_OID, asn1.encode_der(issuer)), critical=False
            )
        return self._with_sct(builder)

    def _with_sct(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        # The SCT signs the certificate without its SCT extension; build once with a
        # placeholder to learn those bytes, then again with the real timestamp.
        millis = int(self.now.timestamp() * 1000)
        log_id = key_id(self.ct_key)

        def build(signature: bytes) -> x509.Certificate:
            value = asn1.encode_der(_sct_list(log_id, millis, signature))
            sct_ext = x509.UnrecognizedExtension(SCT_LIST_OID, value)
            return builder.add_extension(sct_ext, critical=False).sign(
                self.intermediate_key, hashes.SHA256()
            )

        draft = build(b"\x00" * 8)
        issuer_hash = hashlib.sha256(
            self.intermediate.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ).digest()
        signed = _sct_signed_data(millis, issuer_hash, draft.tbs_precertificate_bytes)
        return build(ecdsa(self.ct_key, signed))

    # Rekor ----------------------------------------------------------------------------------

    def tlog_entry(
        self, cert: x509.Certificate, payload: bytes, signature: bytes, envelope: bytes
    ) -> dict[str, Any]:
        """A dsse v0.0.1 entry, alone in a one-leaf tree, with checkpoint and SET."""
        pem = cert.public_bytes(serialization.Encoding.PEM)
        body = canonical_json(
            {
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": {
                    "envelopeHash": {
                        "algorithm": "sha256",
                        "value": hashlib.sha256(envelope).hexdigest(),
                    },
                    "payloadHash": {
                        "algorithm": "sha256",
                        "value": hashlib.sha256(payload).hexdigest(),
                    },
                    "signatures": [{"signature": b64(signature), "verifier": b64(pem)}],
                },
            }
        )
        log_id = key_id(self.rekor_key)
        root_hash = hashlib.sha256(b"\x00" + body).digest()  # RFC 6962 leaf hash
        note = f"{REKOR_ORIGIN}\n1\n{b64(root_hash)}\n"
        note_sig = b64(log_id[:4] + ecdsa(self.rekor_key, note.encode()))
        checkpoint = f"{note}\n\u2014 rekor.fake.test {note_sig}\n"
        integrated = int(self.now.timestamp())
        promise = canonical_json(
            {"body": b64(body), "integratedTime": integrated, "logID": log_id.hex(), "logIndex": 0}
        )
        return {
            "logIndex": "0",
            "logId": {"keyId": b64(log_id)},
            "kindVersion": {"kind": "dsse", "version": "0.0.1"},
            "integratedTime": str(integrated),
            "inclusionPromise": {"signedEntryTimestamp": b64(ecdsa(self.rekor_key, promise))},
            "inclusionProof": {
                "logIndex": "0",
                "rootHash": b64(root_hash),
                "treeSize": "1",
                "hashes": [],
                "checkpoint": {"envelope": checkpoint},
            },
            "canonicalizedBody": b64(body),
        }

    # A keyless signer -----------------------------------------------------------------------

    def sign(
        self,
        statement: dict[str, Any],
        identity: str = "alice@example.com",
        issuer: str = "https://accounts.fake.test",
        issuer_extensions: tuple[str, ...] = ("v1", "v2"),
    ) -> dict[str, Any]:
        """Sign an in-toto statement as `identity` and return the bundle v0.3 JSON dict."""
        key = new_key()
        cert = self.leaf(key, identity, issuer, issuer_extensions)
        payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
        signature = ecdsa(key, pae(INTOTO_PAYLOAD_TYPE, payload))
        envelope = {
            "payload": b64(payload),
            "payloadType": INTOTO_PAYLOAD_TYPE,
            "signatures": [{"sig": b64(signature)}],
        }
        return {
            "mediaType": BUNDLE_MEDIA_TYPE,
            "verificationMaterial": {
                "certificate": {"rawBytes": b64(cert.public_bytes(serialization.Encoding.DER))},
                "tlogEntries": [
                    self.tlog_entry(cert, payload, signature, canonical_json(envelope))
                ],
            },
            "dsseEnvelope": envelope,
        }
