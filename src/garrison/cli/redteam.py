"""`garrison redteam`: attack an OpenAI-compatible chat endpoint with known attack families."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from garrison.cli.errors import handle_errors
from garrison.cli.modeltest import FormatOpt, OutputOpt, ReportFormat


@handle_errors
def redteam_command(
    target: Annotated[
        str, typer.Option(help="Base URL of the endpoint, e.g. http://host:8000/v1.")
    ],
    model: Annotated[str, typer.Option(help="Model name to send in each request.")],
    api_key: Annotated[
        str | None, typer.Option(help="API key (default: $GARRISON_REDTEAM_API_KEY).")
    ] = None,
    probe: Annotated[
        list[str] | None, typer.Option(help="Probe id or family to run (repeatable; default: all).")
    ] = None,
    rate: Annotated[
        float | None, typer.Option(min=0.01, help="At most this many requests per second.")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in flight at once.")] = 4,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for one answer.")] = 60.0,
    state: Annotated[
        Path | None,
        typer.Option(
            help="JSON-lines state file: a rerun with it skips attempts already answered."
        ),
    ] = None,
    list_probes: Annotated[bool, typer.Option("--list", help="List the probes and exit.")] = False,
    fmt: FormatOpt = ReportFormat.console,
    output: OutputOpt = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar (in a terminal).")] = True,
    debug: Annotated[bool, typer.Option(help="Show tracebacks and debug logs.")] = False,
) -> None:
    """Run attack probes against an endpoint; exit 1 when an attack succeeds."""
    import sys

    from garrison.cli.files import check_output
    from garrison.cli.modeltest import finish_report
    from garrison.llm.redteam import ClientConfig, build_report, discover_probes, run

    probes = discover_probes(tuple(probe or ()))
    if list_probes:
        for p in probes:
            d = p.describe()
            print(f"{d['id']:<32} {d['family']:<26} {', '.join([*d['owasp'], *d['atlas']])}")
        return
    check_output(output)  # before the run, which can take minutes
    config = ClientConfig(
        target, model, api_key=api_key, rate=rate, concurrency=concurrency, timeout_s=timeout
    )
    result = run(probes, config, state, progress=progress and sys.stderr.isatty())
    if result.stopped:
        print(f"garrison: run stopped: {result.stopped}", file=sys.stderr)
    finish_report(build_report(result), fmt, output)
