"""`garrison scan`: static scan of model files, archives and directories."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from garrison.cli.errors import EXIT_FINDINGS, handle_errors
from garrison.cli.files import check_output, write_output

if TYPE_CHECKING:
    from garrison.policy import Policy
    from garrison.report.console import ProgressCallback
    from garrison.report.model import Report


class OutputFormat(StrEnum):
    console = "console"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    html = "html"


# The report options `scan` and `discover` share.
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Report format.")]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the report to FILE.")
]
FailOnOption = Annotated[
    str | None,
    typer.Option(
        metavar="SEVERITY",
        help="Exit 1 when a finding is at or above: critical, high, medium, low, info.",
    ),
]
PolicyOption = Annotated[
    Path | None,
    typer.Option("--policy", metavar="FILE", help="garrison.toml or pyproject.toml to use."),
]


@handle_errors
def scan_command(
    paths: Annotated[
        list[Path], typer.Argument(metavar="PATH", help="Model files, archives or directories.")
    ],
    format: FormatOption = OutputFormat.console,
    output: OutputOption = None,
    fail_on: FailOnOption = None,
    policy_file: PolicyOption = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=0,
            metavar="N",
            help="Processes for large scans (0: one per CPU, 1: none).",
        ),
    ] = 0,
    progress: Annotated[
        bool, typer.Option(help="Show a progress bar (on by default in a terminal).")
    ] = True,
    record: Annotated[
        bool, typer.Option("--record", help="Write the verdict to the audit log.")
    ] = False,
    attest: Annotated[
        bool,
        typer.Option(
            "--attest",
            help="Write a signed in-toto attestation of the verdict per PATH (needs --key).",
        ),
    ] = False,
    key: Annotated[
        Path | None,
        typer.Option("--key", "-k", metavar="FILE", help="PEM private key for --attest."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", metavar="URL", help="Store URL for --record and require_approved."),
    ] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks and debug logs.")] = False,
) -> None:
    """Scan model files without executing them; exit 1 on findings at or above --fail-on."""
    from garrison.findings import Severity
    from garrison.policy import load_policy
    from garrison.report import render
    from garrison.supplychain import scan_path

    policy = load_policy(policy_file)
    if fail_on is not None:
        policy = policy.model_copy(update={"fail_on": Severity.parse(fail_on)})
    output = None if output == Path("-") else output
    check_output(output)

    if attest and key is None:
        from garrison.errors import UsageError

        raise UsageError("--attest needs --key KEY")
    signing_key = None
    if key is not None:
        from garrison import keys

        signing_key = keys.load_private_key(key, keys.password_from_env())
    if db is not None:
        policy = policy.model_copy(update={"store_url": db})
    if record:  # a bad store URL is told before the scan, not after it
        from garrison.store.db import check_url, database_url

        check_url(database_url(policy))

    if progress and sys.stderr.isatty():
        from garrison.report.console import progress_bar

        bar: AbstractContextManager[ProgressCallback | None] = progress_bar(enabled=True)
    else:
        bar = nullcontext(None)  # Rich stays unimported for piped JSON/SARIF output
    with bar as on_progress:
        report = scan_path(paths, policy, progress=on_progress, debug=debug, jobs=jobs)

    if format is OutputFormat.console and output is None:
        from garrison.report.console import print_report

        print_report(report)
    elif write_output(output, render(report, format.value)) and format is not OutputFormat.console:
        from garrison.report.console import print_summary

        print_summary(report)
    if (signing_key is not None and attest) or record:
        from garrison.supplychain.provenance.attest import (
            attest_paths,
            manifests_of,
            record_verdict,
        )

        manifests = manifests_of(paths, policy)
        if signing_key is not None and attest:
            for written in attest_paths(paths, report, signing_key, policy, manifests):
                print(f"attestation: {written}", file=sys.stderr)
        if record:
            record_verdict(paths, report, policy, manifests)
            _record_in_inventory(report, policy)
    if report.failed:
        raise typer.Exit(EXIT_FINDINGS)


def _record_in_inventory(report: Report, policy: Policy) -> None:
    """The scan's verdict on each scanned file the inventory knows (`discover --record`)."""
    from garrison.posture.inventory import Inventory
    from garrison.store import database_url, open_store

    store = open_store(database_url(policy))
    try:
        count = Inventory(store).record_scan(report, "supplychain")
    finally:
        store.close()
    if count:
        print(f"inventory: supplychain verdict on {count} asset(s)", file=sys.stderr)
