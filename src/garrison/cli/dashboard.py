"""`garrison dashboard`: serve the read-only web dashboard over the store."""

from __future__ import annotations

from typing import Annotated

import typer

from garrison.cli.errors import handle_errors
from garrison.cli.provenance import DbOption, DebugOption


@handle_errors
def dashboard_command(
    host: Annotated[
        str, typer.Option(help="Address to listen on; any but loopback needs a token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="GARRISON_DASHBOARD_TOKEN",
            show_envvar=True,
            help="Token a browser must give once (?token= or the login form).",
        ),
    ] = None,
    verify_every: Annotated[
        float,
        typer.Option(
            min=1,
            help="Seconds a full audit-log verify stays current before a background re-verify.",
        ),
    ] = 60.0,
    db: DbOption = None,
    debug: DebugOption = False,
) -> None:
    """Inventory, findings, gateway traffic and the audit log's state in a browser."""
    from garrison.policy import load_policy
    from garrison.store import database_url
    from garrison.web.app import serve

    serve(
        db or database_url(load_policy()),
        host=host,
        port=port,
        token=token or None,
        verify_ttl_s=verify_every,
    )
