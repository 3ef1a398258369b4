"""`garrison rules`: list every rule with its default severity."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from garrison.cli.errors import handle_errors


@handle_errors
def rules_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """List the rules Garrison checks, with their default severity."""
    from garrison.rules import all_rules

    rules = sorted(all_rules().values(), key=lambda r: r.id)
    if as_json:
        data = [
            {"id": r.id, "title": r.title, "severity": r.severity.value, "refs": list(r.refs)}
            for r in rules
        ]
        typer.echo(json.dumps(data, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("rule", "severity", "title", box=None)
    for r in rules:
        table.add_row(r.id, r.severity.value, r.title)
    Console().print(table)
