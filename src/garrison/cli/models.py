"""`garrison models`: the approved-model registry."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from garrison.cli.errors import handle_errors
from garrison.cli.provenance import DbOption, DebugOption

if TYPE_CHECKING:
    from garrison.supplychain.provenance.approvals import Approval, Registry

models_app = typer.Typer(
    name="models",
    help="Approve, list and revoke models by their digests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _registry(db: str | None) -> Registry:
    from garrison.policy import load_policy
    from garrison.store import database_url, open_store
    from garrison.supplychain.provenance.approvals import Registry

    return Registry(open_store(db or database_url(load_policy())))


@models_app.command("approve")
@handle_errors
def approve_command(
    model: Annotated[Path, typer.Argument(metavar="PATH", help="A model file or directory.")],
    owner: Annotated[str, typer.Option(help="Team or person accountable for the model.")],
    risk_tier: Annotated[
        str, typer.Option("--risk-tier", help="minimal, limited or high (EU AI Act tiers).")
    ],
    expires: Annotated[
        str | None, typer.Option(help="Last day the approval is valid, YYYY-MM-DD.")
    ] = None,
    override: Annotated[
        str | None,
        typer.Option(metavar="REASON", help="Approve despite findings at or above high (audited)."),
    ] = None,
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Policy for the scan.")
    ] = None,
    db: DbOption = None,
    debug: DebugOption = False,
) -> None:
    """Scan a model and record its digests as approved."""
    from garrison.errors import UsageError
    from garrison.policy import load_policy
    from garrison.supplychain import scan_path
    from garrison.supplychain.provenance.manifest import build_manifest
    from garrison.supplychain.provenance.verdict import verdict

    if not model.exists():
        raise UsageError(f"no such file or directory: {model}")
    day = None
    if expires is not None:
        try:
            day = datetime.strptime(expires, "%Y-%m-%d").date()
        except ValueError:
            raise UsageError(f"--expires wants a date as YYYY-MM-DD, not {expires!r}") from None
    policy = load_policy(policy_file).model_copy(update={"require_approved": False})
    manifest = build_manifest(model)
    report = scan_path([model], policy)
    registry = _registry(db)
    try:
        approval = registry.approve(
            manifest, owner, risk_tier.lower(), verdict(report), expires=day, override=override
        )
    finally:
        registry.store.close()
    note = f" (override: {approval.override_reason})" if approval.override_reason else ""
    print(
        f"approved {model} as #{approval.id}: digest {approval.root_digest[:16]}…, "
        f"{approval.files} file(s), owner {approval.owner}, risk tier {approval.risk_tier}, "
        f"expires {(approval.expires_at or 'never')[:10]}{note}"
    )


@models_app.command("list")
@handle_errors
def list_command(
    all_: Annotated[
        bool, typer.Option("--all", help="Include revoked and expired approvals.")
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="JSON lines instead of a table.")
    ] = False,
    db: DbOption = None,
    debug: DebugOption = False,
) -> None:
    """List approved models."""
    registry = _registry(db)
    try:
        approvals = registry.list(include_inactive=all_)
    finally:
        registry.store.close()
    if json_output:
        for a in approvals:
            print(json.dumps(a.to_dict(), sort_keys=True))
        return
    _print_table(approvals)


def _print_table(approvals: list[Approval]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(approvals)} approval(s)", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("id", "model", "digest", "owner", "tier", "approved", "by", "expires", "status"):
        table.add_column(column, no_wrap=True)
    for a in approvals:
        status = a.status().value
        style = {"approved": "green", "expired": "yellow", "revoked": "red"}.get(status, "")
        table.add_row(
            str(a.id),
            a.model_name,
            a.root_digest[:12],
            a.owner,
            a.risk_tier,
            a.approved_at[:10],
            a.approved_by,
            (a.expires_at or "never")[:10],
            f"[{style}]{status}[/]" if style else status,
        )
    # Piped output keeps every column whole rather than wrapping at 80 characters.
    Console(width=None if sys.stdout.isatty() else 160).print(table)


@models_app.command("revoke")
@handle_errors
def revoke_command(
    selector: Annotated[
        str,
        typer.Argument(
            metavar="ID|DIGEST|PATH", help="Approval id, digest prefix, or the model path."
        ),
    ],
    reason: Annotated[str, typer.Option(help="Why the model may no longer be used.")],
    db: DbOption = None,
    debug: DebugOption = False,
) -> None:
    """Revoke the approval of a model."""
    target = selector
    if Path(selector).exists() and not selector.isdigit():
        from garrison.supplychain.provenance.manifest import build_manifest

        target = build_manifest(Path(selector)).root_digest
    registry = _registry(db)
    try:
        revoked = registry.revoke(target, reason)
    finally:
        registry.store.close()
    for a in revoked:
        print(f"revoked #{a.id} {a.model_name} ({a.root_digest[:16]}…): {a.revoke_reason}")
