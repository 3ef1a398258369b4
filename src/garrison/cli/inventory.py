"""`garrison inventory`: discovered AI assets, their owners, risk tiers and verdicts."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from garrison.cli.errors import handle_errors
from garrison.cli.provenance import DbOption, DebugOption

if TYPE_CHECKING:
    from garrison.posture.inventory import Inventory, InventoryEntry

inventory_app = typer.Typer(
    name="inventory",
    help="List discovered AI assets; set owners; classify under the EU AI Act.",
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

AssetArgument = Annotated[
    str, typer.Argument(metavar="ASSET", help="The asset's URI, or a part of its path only it has.")
]
ActorOption = Annotated[
    str | None, typer.Option("--actor", help="Who is answering (default: the user name).")
]


class ListFormat(StrEnum):
    console = "console"
    json = "json"


def _inventory(db: str | None) -> Inventory:
    from garrison.policy import load_policy
    from garrison.posture.inventory import Inventory
    from garrison.store import database_url, open_store

    # An explicit --db must exist: `discover --record` fills the inventory, these read it.
    return Inventory(open_store(db or database_url(load_policy()), create=db is None))


@inventory_app.callback(invoke_without_command=True)
@handle_errors
def list_command(
    ctx: typer.Context,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only this category (model, ai-service, ...).")
    ] = None,
    tier: Annotated[
        str | None,
        typer.Option(
            "--tier", help="Only this risk tier: prohibited, high, limited, minimal, unclassified."
        ),
    ] = None,
    format: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.console,
    db: DbOption = None,
    debug: DebugOption = False,
) -> None:
    """List the inventory: asset, kind, owner, risk tier and the latest verdict per area."""
    if ctx.invoked_subcommand is not None:
        return
    from garrison.errors import UsageError
    from garrison.posture.observations import CATEGORIES

    if kind is not None and kind not in CATEGORIES:
        raise UsageError(f"--kind must be one of {', '.join(CATEGORIES)}; got {kind!r}")
    inventory = _inventory(db)
    try:
        entries = inventory.list(category=kind, tier=tier)
    finally:
        inventory.store.close()
    if format is ListFormat.json:
        print(json.dumps([e.to_dict() for e in entries], indent=2, sort_keys=True))
        return
    _print_table(entries)


def _verdict_cell(entry: InventoryEntry, area: str) -> str:
    verdict = entry.verdicts.get(area)
    if verdict is None:
        return "-"
    if verdict.passed:
        return "[green]pass[/]" if not verdict.findings else f"[green]pass[/] ({verdict.findings})"
    return f"[red]fail[/] ({verdict.max_severity}, {verdict.findings})"


def _print_table(entries: list[InventoryEntry]) -> None:
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    areas = sorted({area for e in entries for area in e.verdicts})
    table = Table(title=f"{len(entries)} asset(s)", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("asset", "kind", "owner", "risk tier", *areas):
        table.add_column(column, no_wrap=column != "asset")
    tier_style = {"prohibited": "bold red", "high": "red", "limited": "yellow", "minimal": "green"}
    for e in entries:
        tier = e.risk_tier or "unclassified"
        style = tier_style.get(tier, "dim")
        table.add_row(
            f"{escape(e.location)} [dim]{escape(e.name)}[/]",
            e.category,
            escape(e.owner) if e.owner else "[dim]none[/]",
            f"[{style}]{tier}[/]",
            *(_verdict_cell(e, area) for area in areas),
        )
    Console(width=None if sys.stdout.isatty() else 160).print(table)


@inventory_app.command("classify")
@handle_errors
def classify_command(
    asset: AssetArgument,
    answers: Annotated[
        Path | None,
        typer.Option(
            "--answers",
            metavar="FILE.json",
            help='{"question_id": true|false, ...}; without it the questions are asked here.',
        ),
    ] = None,
    actor: ActorOption = None,
    db: DbOption = None,
    debug: DebugOption = False,
) -> None:
    """Walk the EU AI Act questionnaire for ASSET and record its risk tier."""
    inventory = _inventory(db)
    try:
        entry = inventory.find(asset)
        given = _read_answers(answers) if answers is not None else _ask(entry)
        assessment = inventory.classify(entry.uri, given, actor)
    finally:
        inventory.store.close()
    print(f"{entry.uri}: risk tier {assessment.tier} ({assessment.reason()})")


def _read_answers(path: Path) -> dict[str, bool]:
    from garrison.errors import UsageError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} must hold a JSON object of question id -> true/false")
    return data


def _ask(entry: InventoryEntry) -> dict[str, bool]:
    from garrison.posture.eu_ai_act import next_question

    print(f"EU AI Act risk tier of {entry.uri}", file=sys.stderr)
    given: dict[str, bool] = {}
    while (question := next_question(given)) is not None:
        given[question.id] = typer.confirm(f"[{question.ref}] {question.text}", default=False)
    return given


@inventory_app.command("owner")
@handle_errors
def owner_command(
    asset: AssetArgument,
    owner: Annotated[str, typer.Argument(metavar="OWNER", help="Team or person accountable.")],
    actor: ActorOption = None,
    db: DbOption = None,
    debug: DebugOption = False,
) -> None:
    """Record who owns ASSET."""
    inventory = _inventory(db)
    try:
        updated = inventory.set_owner(inventory.find(asset).uri, owner, actor)
    finally:
        inventory.store.close()
    print(f"{updated.uri}: owner {updated.owner}")
