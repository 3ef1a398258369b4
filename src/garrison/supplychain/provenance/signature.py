"""Sign a model and verify it: the OpenSSF model-signing v1.0 statement in a DSSE bundle."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from garrison import keys
from garrison.supplychain.provenance import bundle
from garrison.supplychain.provenance.bundle import SignatureError
from garrison.supplychain.provenance.manifest import (
    ATTESTATION_NAME,
    HASH_TYPE,
    SIGNATURE_NAME,
    Manifest,
    Resource,
    build_manifest,
    default_ignores,
    diff_manifests,
)

if TYPE_CHECKING:
    from garrison.store.audit import AuditLog

PREDICATE_TYPE = "https://model_signing/signature/v1.0"


def default_signature_path(model: Path) -> Path:
    """`model.sig` inside a model directory, `<file>.sig` beside a single file."""
    return model / SIGNATURE_NAME if model.is_dir() else model.with_name(model.name + ".sig")


def default_attestation_path(model: Path) -> Path:
    if model.is_dir():
        return model / ATTESTATION_NAME
    return model.with_name(model.name + ".scan.sig")


def manifest_statement(manifest: Manifest) -> dict[str, Any]:
    return {
        "_type": bundle.STATEMENT_TYPE,
        "subject": [{"name": manifest.model_name, "digest": {"sha256": manifest.root_digest}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "serialization": manifest.serialization(),
            "resources": [
                {"name": r.name, "algorithm": HASH_TYPE, "digest": r.digest}
                for r in manifest.resources
            ],
        },
    }


def statement_manifest(statement: dict[str, Any], where: str) -> Manifest:
    """The manifest a signed statement describes; its root digest must add up."""
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise SignatureError(f"{where}: not a model-signing v1.0 statement")
    try:
        subject = statement["subject"][0]
        predicate = statement["predicate"]
        serialization = predicate["serialization"]
        if serialization.get("method") != "files" or serialization.get("hash_type") != HASH_TYPE:
            raise SignatureError(
                f"{where}: only the 'files' serialization with sha256 is supported"
            )
        resources = tuple(
            Resource(str(r["name"]), str(r["digest"]).lower())
            for r in predicate["resources"]
            if r.get("algorithm", HASH_TYPE) == HASH_TYPE
        )
        manifest = Manifest(
            str(subject["name"]),
            resources,
            tuple(str(p) for p in serialization.get("ignore_paths", ())),
            bool(serialization.get("allow_symlinks", False)),
        )
        claimed = str(subject["digest"]["sha256"]).lower()
    except SignatureError:
        raise
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        raise SignatureError(f"{where}: the signed statement is malformed") from None
    if manifest.root_digest != claimed:
        raise SignatureError(f"{where}: the listed digests do not add up to the signed one")
    return manifest


@dataclass(frozen=True, slots=True)
class SignResult:
    manifest: Manifest
    signature_path: Path
    key_hint: str


def sign_model(
    model: Path,
    key: keys.PrivateKey,
    signature_path: Path | None = None,
    ignore_paths: tuple[str, ...] | None = None,
    allow_symlinks: bool = False,
    audit: AuditLog | None = None,
) -> SignResult:
    """Hash every file of `model`, sign the manifest, write the bundle (and audit it)."""
    out = signature_path or default_signature_path(model)
    ignores: tuple[str, ...] = ()
    if model.is_dir():
        base = default_ignores(model) if ignore_paths is None else ignore_paths
        ignores = tuple(sorted({*base, *_inside(model, out)}))
    manifest = build_manifest(model, ignores, allow_symlinks)
    bundle.write_bundle(out, bundle.sign_statement(manifest_statement(manifest), key))
    result = SignResult(manifest, out, keys.key_hint(key))
    if audit is not None:
        audit.append(
            "model.sign",
            str(model),
            {
                "root_digest": manifest.root_digest,
                "files": len(manifest.resources),
                "bytes": manifest.total_bytes,
                "key": result.key_hint,
                "signature": str(out),
            },
        )
    return result


def _inside(model: Path, *paths: Path) -> list[str]:
    """Paths of Garrison's own output files relative to the model, so they are not hashed."""
    names = []
    root = model.resolve()
    for path in paths:
        try:
            names.append(path.resolve().relative_to(root).as_posix())
        except ValueError:
            continue
    return names


@dataclass(frozen=True, slots=True)
class VerifyResult:
    manifest: Manifest
    signature_path: Path
    signer: str  # the key hint, or the certificate identity for Sigstore bundles


def load_signed_manifest(
    signature_path: Path,
    public_key: keys.PublicKey | None = None,
    sigstore: Any | None = None,
) -> tuple[Manifest, str]:
    """Check a signature bundle (with a key, or Sigstore options) and return its manifest."""
    envelope = bundle.read_bundle(signature_path)
    where = str(signature_path)
    if sigstore is not None:
        statement, signer = sigstore.verify(envelope, where)
    elif public_key is None:
        raise SignatureError("verifying needs --key PUB, or --trust-root for a Sigstore bundle")
    elif envelope.has_certificate:
        raise SignatureError(
            f"{where} is signed with a certificate; verify it with --trust-root, "
            "--identity and --issuer"
        )
    else:
        statement = bundle.verify_envelope(envelope, public_key, where)
        signer = keys.key_hint(public_key)
    return statement_manifest(statement, where), signer


def verify_model(
    model: Path,
    public_key: keys.PublicKey | None = None,
    signature_path: Path | None = None,
    sigstore: Any | None = None,
    audit: AuditLog | None = None,
) -> VerifyResult:
    """Raise SignatureError naming what changed unless `model` matches its signature.

    With `audit`, the outcome (pass or the failure message) is written to the audit log."""
    sig = signature_path or default_signature_path(model)
    try:
        result = _verify(model, public_key, sig, sigstore)
    except SignatureError as exc:
        if audit is not None:
            audit.append("model.verify", str(model), {"ok": False, "error": str(exc)})
        raise
    if audit is not None:
        audit.append(
            "model.verify",
            str(model),
            {"ok": True, "root_digest": result.manifest.root_digest, "signer": result.signer},
        )
    return result


def _verify(
    model: Path, public_key: keys.PublicKey | None, sig: Path, sigstore: Any | None
) -> VerifyResult:
    expected, signer = load_signed_manifest(sig, public_key, sigstore)
    ignores = expected.ignore_paths if model.is_dir() else ()
    actual = build_manifest(model, ignores, expected.allow_symlinks)
    diff = diff_manifests(expected, actual)
    if diff:
        raise SignatureError(f"{model} does not match {sig}: {diff.describe()}")
    return VerifyResult(expected, sig, signer)
