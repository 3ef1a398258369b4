"""`garrison audit`: verify, show, export and checkpoint the tamper-evident audit log."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from garrison.cli.errors import EXIT_FINDINGS, handle_errors

if TYPE_CHECKING:
    from garrison.store import Store

audit_app = typer.Typer(
    name="audit",
    help="The tamper-evident audit log.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Store URL (default: $GARRISON_DB_URL, else the user data dir)."),
]
DebugOption = Annotated[bool, typer.Option(help="Show tracebacks and debug logs.")]


def _open(db: str | None, create: bool = False) -> Store:
    from garrison.policy import load_policy
    from garrison.store import database_url, open_store

    return open_store(db or database_url(load_policy()), create=create)


@audit_app.command("verify")
@handle_errors
def verify_command(
    db: DbOption = None,
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="PEM public key every checkpoint must be signed by."),
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Check the hash chain and checkpoints; exit 1 if the log was tampered with."""
    from garrison.store import AuditLog, load_public_key

    key = load_public_key(public_key) if public_key is not None else None
    store = _open(db)
    try:
        result = AuditLog(store).verify(key)
    finally:
        store.close()
    if result.problem is not None:
        print(f"audit log TAMPERED at record {result.problem.seq}: {result.problem.message}")
        raise typer.Exit(EXIT_FINDINGS)
    print(
        f"audit log intact: {result.records} records, {result.checkpoints} checkpoints, "
        f"head {result.head_seq} {result.head_hash[:16]}"
    )


@audit_app.command("show")
@handle_errors
def show_command(
    db: DbOption = None,
    action: Annotated[str | None, typer.Option(help="Only records of this action.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show the latest N records.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of text.")] = False,
    debug: DebugOption = False,
) -> None:
    """Show the latest records, oldest first."""
    from garrison.store import AuditLog

    store = _open(db)
    try:
        records = AuditLog(store).records(action=action, limit=limit)
    finally:
        store.close()
    for record in records:
        row = _record_dict(record)
        if as_json:
            print(json.dumps(row, sort_keys=True))
        else:
            print(
                f"{row['seq']:>6}  {row['ts']}  {row['actor']}  {row['action']}  {row['subject']}"
            )


@audit_app.command("export")
@handle_errors
def export_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="JSON lines file to write.")],
    db: DbOption = None,
    debug: DebugOption = False,
) -> None:
    """Write every record and checkpoint as JSON lines, to keep a copy outside the store."""
    from garrison.store import AuditLog

    store = _open(db)
    log = AuditLog(store)
    count = 0
    try:
        with output.open("w", encoding="utf-8") as out:
            for record in log.iter_records():
                out.write(json.dumps({"kind": "record", **record}, sort_keys=True) + "\n")
                count += 1
            for cp in log.checkpoints():
                out.write(json.dumps({"kind": "checkpoint", **cp}, sort_keys=True) + "\n")
    except OSError as exc:
        from garrison.errors import UsageError

        raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    finally:
        store.close()
    print(f"exported {count} records to {output}", file=sys.stderr)


@audit_app.command("checkpoint")
@handle_errors
def checkpoint_command(
    key: Annotated[Path, typer.Option("--key", help="PEM Ed25519 private key to sign with.")],
    db: DbOption = None,
    debug: DebugOption = False,
) -> None:
    """Sign the current head of the log."""
    from garrison.store import AuditLog, load_private_key

    private_key = load_private_key(key)
    store = _open(db)
    try:
        cp = AuditLog(store).checkpoint(private_key)
    finally:
        store.close()
    print(f"checkpoint {cp.seq} signed record {cp.record_seq} {cp.head_hash[:16]}")


@audit_app.command("keygen")
@handle_errors
def keygen_command(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Private key file; the public key goes to .pub.")
    ],
    debug: DebugOption = False,
) -> None:
    """Create an Ed25519 key pair for checkpoints."""
    from garrison import keys

    public = keys.write_key_pair(output, keys.generate_key("ed25519"))
    print(f"wrote {output} and {public}")


def _record_dict(record: Any) -> dict[str, Any]:
    names = ("seq", "ts", "actor", "action", "subject", "details", "prev_hash", "hash")
    return {name: getattr(record, name) for name in names}
