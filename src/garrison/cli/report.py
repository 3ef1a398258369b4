"""`garrison report`: a compliance report for one framework from Garrison JSON reports."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from garrison.cli.errors import handle_errors


class ComplianceFormat(StrEnum):
    json = "json"
    html = "html"


@handle_errors
def report_command(
    reports: Annotated[
        list[Path],
        typer.Argument(metavar="REPORT.json...", help="Reports written with -f json."),
    ],
    framework: Annotated[
        str,
        typer.Option(help="owasp-llm, owasp-ml, mitre-atlas, nist-ai-rmf, eu-ai-act or iso-42001."),
    ],
    fmt: Annotated[
        ComplianceFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ComplianceFormat.json,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")
    ] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Map the findings of Garrison reports onto a framework, item by item."""
    from garrison.errors import UsageError
    from garrison.frameworks import load
    from garrison.report.compliance import compliance_report, render_compliance_json

    fw = load(framework)  # before reading inputs: a typo in the name fails fast
    if output is not None and not output.parent.exists():
        raise UsageError(f"output directory does not exist: {output.parent}")
    report = compliance_report(fw, reports)
    if fmt is ComplianceFormat.html:
        from garrison.report.compliance_html import render_compliance_html

        text = render_compliance_html(report)
    else:
        text = render_compliance_json(report)
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    counts = ", ".join(f"{n} {status}" for status, n in report.status_counts().items())
    print(f"{fw.id}: {len(report.items)} items ({counts}) -> {output}", file=sys.stderr)
