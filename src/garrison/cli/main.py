"""The `garrison` command.

Commands are registered lazily: `garrison scan ...` imports and builds only the scan
command, because building every command's options on each start cost a third of a
second. `garrison --help` (or an unknown name) builds them all.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Any

import typer

from garrison import __version__

# name -> (module, attribute, is a command group)
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "scan": ("garrison.cli.scan", "scan_command", False),
    "discover": ("garrison.cli.discover", "discover_command", False),
    "rules": ("garrison.cli.rules", "rules_command", False),
    "report": ("garrison.cli.report", "report_command", False),
    "keygen": ("garrison.cli.provenance", "keygen_command", False),
    "sign": ("garrison.cli.provenance", "sign_command", False),
    "verify": ("garrison.cli.provenance", "verify_command", False),
    "bom": ("garrison.cli.bom", "bom_command", False),
    "models": ("garrison.cli.models", "models_app", True),
    "test": ("garrison.cli.modeltest", "test_app", True),
    "harden": ("garrison.cli.harden", "harden_app", True),
    "data": ("garrison.cli.data", "data_app", True),
    "redteam": ("garrison.cli.redteam", "redteam_command", False),
    "guard": ("garrison.cli.guard", "guard_command", False),
    "audit": ("garrison.cli.audit", "audit_app", True),
    "gateway": ("garrison.cli.gateway", "gateway_app", True),
    "keys": ("garrison.cli.keys", "keys_app", True),
    "inventory": ("garrison.cli.inventory", "inventory_app", True),
    "dashboard": ("garrison.cli.dashboard", "dashboard_command", False),
}


def _version(value: bool) -> None:
    if value:
        print(f"garrison {__version__}")
        raise typer.Exit()


def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Security for machine-learning systems."""


def build_app(only: str | None = None) -> typer.Typer:
    """The CLI with every command, or with just `only` when it names one."""
    cli = typer.Typer(
        name="garrison",
        help="Security for machine-learning systems.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    cli.callback()(root)
    names = [only] if only in COMMANDS else list(COMMANDS)
    for name in names:
        module, attribute, group = COMMANDS[name]
        target = getattr(importlib.import_module(module), attribute)
        if group:
            cli.add_typer(target, name=name)
        else:
            cli.command(name)(target)
    return cli


def _requested(argv: list[str]) -> str | None:
    """The command name on the line, if the first word names one (options come after)."""
    return argv[0] if argv and argv[0] in COMMANDS else None


def main() -> None:
    cli = build_app(_requested(sys.argv[1:]))
    try:
        code = cli(standalone_mode=False)
    except typer.Abort:
        print("garrison: aborted", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:
        status = _click_status(exc)
        if status is None:
            raise
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `garrison` or a bare group
            exc.show()  # type: ignore[attr-defined]
            sys.exit(status)
        print(_one_line(exc), file=sys.stderr)
        sys.exit(status)
    sys.exit(code if isinstance(code, int) else 0)


def _click_status(exc: Exception) -> int | None:
    """The exit status of one of Click's own errors (usage mistakes are 2), else None.

    Matched by shape, not class: newer Typer vendors Click, older Typer imports it.
    """
    status = getattr(exc, "exit_code", None)
    return status if hasattr(exc, "format_message") and isinstance(status, int) else None


def _one_line(exc: Exception) -> str:
    """Click's three-line usage block as the one line every other mistake gets."""
    message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
    message = message.replace("Value error, ", "").rstrip(".")
    ctx = getattr(exc, "ctx", None)
    where = getattr(ctx, "command_path", "") or "garrison"
    return f"garrison: error: {message} (see '{where} --help')"


def __getattr__(name: str) -> Any:
    # `from garrison.cli.main import app` (tests, embedding) gets the full CLI, built once.
    if name == "app":
        full = build_app()
        globals()["app"] = full
        return full
    raise AttributeError(name)
