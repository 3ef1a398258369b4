"""`garrison discover`: AI assets (shadow AI) and risky AI configuration on disk."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from garrison.cli.errors import EXIT_FINDINGS, handle_errors
from garrison.cli.files import check_output, write_output
from garrison.cli.scan import (
    FailOnOption,
    FormatOption,
    OutputFormat,
    OutputOption,
    PolicyOption,
)

if TYPE_CHECKING:
    from garrison.policy import Policy
    from garrison.posture import Discovery
    from garrison.store import Store


@handle_errors
def discover_command(
    paths: Annotated[
        list[Path], typer.Argument(metavar="PATH", help="Repositories, directories or disks.")
    ],
    format: FormatOption = OutputFormat.console,
    output: OutputOption = None,
    fail_on: FailOnOption = None,
    policy_file: PolicyOption = None,
    gateway_url: Annotated[
        list[str] | None,
        typer.Option(
            "--gateway-url",
            help="Base URL of the Garrison gateway (repeatable): AI calls elsewhere are findings.",
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Store URL: check models against approvals, keys for owners."),
    ] = None,
    bom: Annotated[
        Path | None, typer.Option("--bom", help="CycloneDX JSON BOM whose models are approved.")
    ] = None,
    record: Annotated[
        bool,
        typer.Option(
            "--record", help="Store the assets and their posture verdicts in the inventory (--db)."
        ),
    ] = False,
    follow_links: Annotated[
        bool, typer.Option("--follow-links", help="Follow symbolic links, even out of PATHs.")
    ] = False,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=0,
            help="Processes for large trees (0: one per CPU, 1: none).",
        ),
    ] = 0,
    progress: Annotated[
        bool, typer.Option(help="Show a progress bar (on by default in a terminal).")
    ] = True,
    debug: Annotated[bool, typer.Option(help="Show tracebacks and debug logs.")] = False,
) -> None:
    """Find models, datasets, notebooks, vector stores and AI SDK use, and risky configuration."""
    from garrison.errors import UsageError
    from garrison.findings import Severity
    from garrison.policy import load_policy
    from garrison.posture import discover

    policy = load_policy(policy_file)
    updates: dict[str, object] = {}
    if fail_on is not None:
        updates["fail_on"] = Severity.parse(fail_on)
    if follow_links:
        updates["follow_symlinks"] = True
    if gateway_url:
        try:
            posture = policy.posture.model_validate(
                {**policy.posture.model_dump(), "gateway_urls": tuple(gateway_url)}
            )
        except ValueError as exc:
            raise UsageError(f"--gateway-url: {_first_error(exc)}") from None
        updates["posture"] = posture
    policy = policy.model_copy(update=updates)
    check_output(output)
    if bom is not None and not bom.is_file():
        raise UsageError(f"BOM file not found: {bom}")

    # Opened (and created) before the walk, so a bad store URL fails fast.
    store = _open_store(db, policy) if record else None
    from garrison.report.console import progress_bar

    try:
        with progress_bar(enabled=progress and sys.stderr.isatty()) as on_progress:
            found = discover(paths, policy, store_url=db, bom=bom, progress=on_progress, jobs=jobs)
        if store is not None:
            _record(found, store)
    finally:
        if store is not None:
            store.close()
    report = found.report
    if format is OutputFormat.console and output is None:
        from garrison.report.console import print_report

        print_report(report)
        counts = ", ".join(f"{n} {category}" for category, n in found.counts().items() if n)
        print(f"inventory: {counts or 'no AI assets'} in {found.files} files")
    else:
        from garrison.report import render

        if write_output(output, render(report, format.value)):
            from garrison.report.console import print_summary

            print_summary(report)
    if report.failed:
        raise typer.Exit(EXIT_FINDINGS)


def _open_store(db: str | None, policy: Policy) -> Store:
    from garrison.store import database_url, open_store

    return open_store(db or database_url(policy))


def _record(found: Discovery, store: Store) -> None:
    from garrison.posture.inventory import Inventory

    counts = Inventory(store).record_discovery(found)
    print(
        f"inventory: recorded {counts.total} asset(s), {counts.added} new, "
        f"{counts.failed} failing posture, in {store.display_url}",
        file=sys.stderr,
    )


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return str(errors()[0].get("msg", exc))
    return str(exc)
