"""`garrison gateway`: serve the inference gateway."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from garrison.cli.errors import handle_errors
from garrison.cli.provenance import DbOption, DebugOption

gateway_app = typer.Typer(
    name="gateway",
    help="The inference gateway: keys, quotas, guards and audit in front of a model server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@gateway_app.command("serve")
@handle_errors
def serve_command(
    upstream: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="OpenAI-compatible base URL with /v1, e.g. http://127.0.0.1:8000/v1 "
            "(default: upstream in [gateway] of the policy).",
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes (share quotas via --redis).")] = 1,
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Policy file with a [gateway] table.")
    ] = None,
    db: DbOption = None,
    redis: Annotated[
        str | None,
        typer.Option(
            metavar="URL", help="Redis for quotas shared by workers, redis://HOST:PORT/DB."
        ),
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Proxy OpenAI and KServe V2 requests to the upstream, checking each one.

    The upstream's key is read from $GARRISON_UPSTREAM_API_KEY; setting
    $GARRISON_ADMIN_TOKEN mounts the admin API at /admin/keys.
    """
    from garrison.gateway.app import serve
    from garrison.policy import load_policy
    from garrison.store import database_url

    policy = load_policy(policy_file)
    config = policy.gateway.updated(upstream=upstream, redis_url=redis).with_env()
    serve(
        config,
        host=host,
        port=port,
        workers=workers,
        db_url=db or database_url(policy),
        log_level="debug" if debug else "info",
    )
