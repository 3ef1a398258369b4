"""`garrison keygen`, `sign` and `verify`: model signatures in the OpenSSF model-signing format."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from garrison.cli.errors import EXIT_FINDINGS, handle_errors

if TYPE_CHECKING:
    from garrison.store import AuditLog, Store

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Store URL for the audit log (default: $GARRISON_DB_URL or the user data dir)."
    ),
]
DebugOption = Annotated[bool, typer.Option(help="Show tracebacks and debug logs.")]
ModelArgument = Annotated[Path, typer.Argument(metavar="PATH", help="A model file or directory.")]


class KeyType(StrEnum):
    ed25519 = "ed25519"
    ecdsa_p256 = "ecdsa-p256"
    ecdsa_p384 = "ecdsa-p384"


def open_audit(db: str | None) -> tuple[Store, AuditLog]:
    from garrison.policy import load_policy
    from garrison.store import AuditLog, database_url, open_store

    store = open_store(db or database_url(load_policy()))
    return store, AuditLog(store)


@handle_errors
def keygen_command(
    output: Annotated[
        Path,
        typer.Argument(
            metavar="KEY", help="Private key file to create; the public key goes to KEY.pub."
        ),
    ],
    key_type: Annotated[
        KeyType, typer.Option("--type", "-t", help="Key algorithm.")
    ] = KeyType.ed25519,
    debug: DebugOption = False,
) -> None:
    """Create a signing key pair (PEM)."""
    from garrison import keys

    public = keys.write_key_pair(output, keys.generate_key(key_type.value))
    print(f"wrote {output} (private, mode 600) and {public}")


@handle_errors
def sign_command(
    model: ModelArgument,
    key: Annotated[
        Path, typer.Option("--key", "-k", help="PEM private key (Ed25519 or ECDSA P-256/P-384).")
    ],
    signature: Annotated[
        Path | None,
        typer.Option(
            "--signature",
            "-s",
            help="Bundle to write (default: DIR/model.sig, or FILE.sig beside a file).",
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Relative path to leave out (repeatable).")
    ] = None,
    allow_symlinks: Annotated[
        bool, typer.Option(help="Hash the targets of symbolic links.")
    ] = False,
    db: DbOption = None,
    debug: DebugOption = False,
) -> None:
    """Hash every file of a model and sign the manifest (a Sigstore bundle)."""
    from garrison import keys
    from garrison.supplychain.provenance.manifest import default_ignores
    from garrison.supplychain.provenance.signature import sign_model

    private = keys.load_private_key(key, keys.password_from_env())
    ignores = None if not ignore else (*default_ignores(model), *ignore)
    store, audit = open_audit(db)
    try:
        result = sign_model(model, private, signature, ignores, allow_symlinks, audit=audit)
    finally:
        store.close()
    m = result.manifest
    print(
        f"signed {model}: {len(m.resources)} file(s), {m.total_bytes:,} bytes, "
        f"digest {m.root_digest[:16]}…, key {result.key_hint[:16]}… -> {result.signature_path}"
    )


@handle_errors
def verify_command(
    model: ModelArgument,
    key: Annotated[
        Path | None, typer.Option("--key", "-k", help="PEM public key the model was signed with.")
    ] = None,
    signature: Annotated[
        Path | None,
        typer.Option(
            "--signature", "-s", help="The signature bundle (default: as `sign` writes it)."
        ),
    ] = None,
    trust_root: Annotated[
        Path | None,
        typer.Option(
            "--trust-root",
            help="Sigstore trusted_root.json for certificate bundles (used offline).",
        ),
    ] = None,
    identity: Annotated[
        str | None, typer.Option(help="Signer identity a Sigstore certificate must carry.")
    ] = None,
    issuer: Annotated[
        str | None, typer.Option(help="OIDC issuer a Sigstore certificate must carry.")
    ] = None,
    require_attestation: Annotated[
        bool,
        typer.Option(
            "--require-attestation",
            help="Also require a passing, signed scan attestation for the same digests.",
        ),
    ] = False,
    attestation: Annotated[
        Path | None,
        typer.Option(help="The scan attestation (default: as `scan --attest` writes it)."),
    ] = None,
    attestation_key: Annotated[
        Path | None,
        typer.Option("--attestation-key", help="Public key of the attestation (default: --key)."),
    ] = None,
    db: DbOption = None,
    debug: DebugOption = False,
) -> None:
    """Check a model against its signature; exit 1 naming what changed if it does not match."""
    from garrison import keys
    from garrison.errors import UsageError
    from garrison.supplychain.provenance.bundle import SignatureError
    from garrison.supplychain.provenance.signature import default_attestation_path, verify_model

    public = keys.load_public_key(key) if key is not None else None
    sigstore = None
    if trust_root is not None:
        if not identity or not issuer:
            raise UsageError("--trust-root needs --identity and --issuer")
        from garrison.supplychain.provenance.sigstore_verify import SigstoreOptions

        sigstore = SigstoreOptions(trust_root, identity, issuer)
    elif public is None:
        raise UsageError("give --key PUB, or --trust-root with --identity and --issuer")
    att_key = keys.load_public_key(attestation_key) if attestation_key is not None else public
    if require_attestation and att_key is None:
        raise UsageError("--require-attestation needs --key or --attestation-key")
    store, audit = open_audit(db)
    try:
        try:
            result = verify_model(model, public, signature, sigstore, audit=audit)
            line = (
                f"verified {model}: {len(result.manifest.resources)} file(s) match "
                f"{result.signature_path}, signed by {result.signer[:40]}"
            )
            if require_attestation:
                from garrison.supplychain.provenance.attest import check_attestation

                path = attestation or default_attestation_path(model)
                try:
                    attested = check_attestation(path, att_key, result.manifest)  # type: ignore[arg-type]
                except SignatureError as exc:
                    audit.append(
                        "model.verify.attestation", str(model), {"ok": False, "error": str(exc)}
                    )
                    raise
                audit.append(
                    "model.verify.attestation",
                    str(model),
                    {
                        "ok": True,
                        "root_digest": result.manifest.root_digest,
                        "rules": attested.rules,
                    },
                )
                line += f"\n  attestation: {attested.describe()}"
        except SignatureError as exc:
            print(f"garrison: verification failed: {exc}", file=sys.stderr)
            raise typer.Exit(EXIT_FINDINGS) from None
    finally:
        store.close()
    print(line)
