"""The `garrison` command."""

from __future__ import annotations

from typing import Annotated

import typer

from garrison import __version__
from garrison.cli.audit import audit_app
from garrison.cli.bom import bom_command
from garrison.cli.dashboard import dashboard_command
from garrison.cli.data import data_app
from garrison.cli.discover import discover_command
from garrison.cli.gateway import gateway_app
from garrison.cli.guard import guard_command
from garrison.cli.harden import harden_app
from garrison.cli.inventory import inventory_app
from garrison.cli.keys import keys_app
from garrison.cli.models import models_app
from garrison.cli.modeltest import test_app
from garrison.cli.provenance import keygen_command, sign_command, verify_command
from garrison.cli.redteam import redteam_command
from garrison.cli.report import report_command
from garrison.cli.rules import rules_command
from garrison.cli.scan import scan_command

app = typer.Typer(
    name="garrison",
    help="Security for machine-learning systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("scan")(scan_command)
app.command("discover")(discover_command)
app.command("rules")(rules_command)
app.command("report")(report_command)
app.command("keygen")(keygen_command)
app.command("sign")(sign_command)
app.command("verify")(verify_command)
app.command("bom")(bom_command)
app.add_typer(models_app, name="models")
app.add_typer(test_app, name="test")
app.add_typer(harden_app, name="harden")
app.add_typer(data_app, name="data")
app.command("redteam")(redteam_command)
app.command("guard")(guard_command)
app.add_typer(audit_app, name="audit")
app.add_typer(gateway_app, name="gateway")
app.add_typer(keys_app, name="keys")
app.add_typer(inventory_app, name="inventory")
app.command("dashboard")(dashboard_command)


def _version(value: bool) -> None:
    if value:
        print(f"garrison {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Security for machine-learning systems."""


def main() -> None:
    app()
