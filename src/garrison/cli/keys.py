"""`garrison keys`: create, list and revoke the gateway's API keys."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from garrison.cli.errors import handle_errors
from garrison.cli.provenance import DbOption, DebugOption

if TYPE_CHECKING:
    from garrison.gateway.keys import ApiKey, KeyStore

keys_app = typer.Typer(
    name="keys",
    help="Create, list and revoke API keys of the inference gateway.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class KeysFormat(StrEnum):
    console = "console"
    json = "json"


FormatOption = Annotated[KeysFormat, typer.Option("--format", "-f", help="Output format.")]
LimitOption = Annotated[int | None, typer.Option(metavar="N", show_default=False)]


def _key_store(db: str | None, create: bool = False) -> KeyStore:
    """The key store; a --db that names a missing SQLite file is refused unless creating a
    key, so a mistyped path is not answered with an empty list."""
    from garrison.gateway.keys import KeyStore
    from garrison.policy import load_policy
    from garrison.store import database_url, open_store

    return KeyStore(open_store(db or database_url(load_policy()), create=create or db is None))


def _names(text: str | None) -> tuple[str, ...] | None:
    """A comma-separated list; None when the option was not given."""
    if text is None:
        return None
    return tuple(name.strip() for name in text.split(",") if name.strip())


@keys_app.command("create")
@handle_errors
def create_command(
    owner: Annotated[str, typer.Option(help="Team or person accountable for the key.")],
    models: Annotated[
        str | None, typer.Option(metavar="A,B", help="Models the key may use (default: all).")
    ] = None,
    scopes: Annotated[
        str | None,
        typer.Option(
            metavar="A,B", help="Of chat,completions,embeddings,models,infer (default: all)."
        ),
    ] = None,
    tools: Annotated[
        str | None,
        typer.Option(
            metavar="A,B", help="Tools the key may offer; '' for none (default: the policy's)."
        ),
    ] = None,
    guard_mode: Annotated[
        str | None, typer.Option(help="block, redact or log: overrides the route's guard mode.")
    ] = None,
    rpm: LimitOption = None,
    tpm: LimitOption = None,
    daily_tokens: LimitOption = None,
    expires: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD", help="Last day the key is valid (UTC).")
    ] = None,
    fmt: FormatOption = KeysFormat.console,
    db: DbOption = None,
    debug: DebugOption = False,
) -> None:
    """Create a key and print its secret, once: it is stored only as a hash."""
    from garrison.errors import UsageError
    from garrison.gateway.keys import SCOPES, key_to_dict, parse_expiry

    if models is not None and not _names(models):
        # An empty model list means "all" to the key store, the opposite of --tools '':
        # refuse it rather than hand out an unrestricted key to someone who asked for none.
        raise UsageError("--models '' names no model; leave --models out for a key to all models")
    if expires is not None and len(expires.strip()) != 10:
        raise UsageError(f"--expires wants a date as YYYY-MM-DD, not {expires!r}")
    store = _key_store(db, create=True)
    try:
        secret, key = store.create(
            owner,
            models=_names(models) or (),
            scopes=SCOPES if scopes is None else (_names(scopes) or ()),
            tools=_names(tools),
            guard_mode=guard_mode,
            rpm=rpm,
            tpm=tpm,
            daily_tokens=daily_tokens,
            expires=parse_expiry(expires) if expires is not None else None,
        )
    finally:
        store.store.close()
    print("Store this secret now: it cannot be shown again.", file=sys.stderr)
    if fmt is KeysFormat.json:
        print(json.dumps({"secret": secret, "key": key_to_dict(key)}, sort_keys=True))
        return
    print(f"created {key.id} for {key.owner}, expires {(key.expires or 'never')[:10]}")
    print(secret)


@keys_app.command("list")
@handle_errors
def list_command(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    fmt: FormatOption = KeysFormat.console,
    db: DbOption = None,
    debug: DebugOption = False,
) -> None:
    """List keys (never their secrets)."""
    from garrison.gateway.keys import key_to_dict

    store = _key_store(db)
    try:
        keys = store.list(include_revoked=all_)
    finally:
        store.store.close()
    if fmt is KeysFormat.json:
        print(json.dumps([key_to_dict(k) for k in keys], sort_keys=True))
        return
    _print_table(keys)


def _print_table(keys: list[ApiKey]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from garrison.gateway.keys import SCOPES, key_status

    table = Table(title=f"{len(keys)} key(s)", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("id", "owner", "models", "scopes", "rpm", "tpm", "daily", "expires", "status"):
        table.add_column(column, no_wrap=True)
    for k in keys:
        status = key_status(k)
        style = {"active": "green", "expired": "yellow", "revoked": "red"}[status]
        table.add_row(
            k.id,
            k.owner,
            ",".join(k.models) or "all",
            "all" if set(k.scopes) == set(SCOPES) else ",".join(k.scopes),
            _limit(k.rpm),
            _limit(k.tpm),
            _limit(k.daily_tokens),
            (k.expires or "never")[:10],
            f"[{style}]{status}[/]",
        )
    # Piped output keeps every column whole rather than wrapping at 80 characters.
    Console(width=None if sys.stdout.isatty() else 160).print(table)


def _limit(value: int | None) -> str:
    return "-" if value is None else str(value)


@keys_app.command("revoke")
@handle_errors
def revoke_command(
    key_id: Annotated[
        str, typer.Argument(metavar="ID", help="The key's id, e.g. gk_3f9a1c2e7b40.")
    ],
    reason: Annotated[str, typer.Option(help="Why the key may no longer be used.")],
    db: DbOption = None,
    debug: DebugOption = False,
) -> None:
    """Revoke a key; running gateways refuse it within their refresh interval."""
    store = _key_store(db)
    try:
        key = store.revoke(key_id, reason)
    finally:
        store.store.close()
    print(f"revoked {key.id} ({key.owner}): {reason.strip()}")
