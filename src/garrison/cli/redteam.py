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
        str | None, typer.Option(help="Base URL of the endpoint, e.g. http://host:8000/v1.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model name to send in each request.")] = None,
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
    fail_on: Annotated[
        str,
        typer.Option(
            help="Exit 1 when a finding is at or above this severity; the default, medium, "
            "means any successful attack."
        ),
    ] = "medium",
    fmt: FormatOpt = ReportFormat.console,
    output: OutputOpt = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar (in a terminal).")] = True,
    debug: Annotated[bool, typer.Option(help="Show tracebacks and debug logs.")] = False,
) -> None:
    """Run attack probes against an endpoint; exit 1 when an attack succeeds.

    Exit 2 when the target answered none of the attempts (nothing was tested).
    """
    import sys

    from garrison.cli.files import check_output
    from garrison.cli.modeltest import finish_report
    from garrison.errors import UsageError
    from garrison.findings import Severity
    from garrison.llm.redteam import ClientConfig, build_report, discover_probes, run

    probes = discover_probes(tuple(probe or ()))
    if list_probes:
        for p in probes:
            d = p.describe()
            print(f"{d['id']:<32} {d['family']:<26} {', '.join([*d['owasp'], *d['atlas']])}")
        return
    if not target or not model:
        raise UsageError("--target and --model are required (or --list to see the probes)")
    threshold = Severity.parse(fail_on)
    # Both checked before the run, which can take minutes.
    check_output(output)
    check_output(state, "--state")
    config = ClientConfig(
        target, model, api_key=api_key, rate=rate, concurrency=concurrency, timeout_s=timeout
    )
    result = run(probes, config, state, progress=progress and sys.stderr.isatty())
    if result.stopped:
        print(f"garrison: run stopped: {result.stopped}", file=sys.stderr)
    answered = sum(a.status != "error" for a in result.attempts)
    if result.attempts and not answered:
        finish_report(build_report(result, threshold), fmt, output, exit_on_findings=False)
        raise UsageError(
            f"the target answered none of {len(result.attempts)} attempts, so nothing was "
            "tested; see GA-RT-009 above for why"
        )
    finish_report(build_report(result, threshold), fmt, output)
