"""`garrison report`: a compliance report for one framework from Garrison JSON reports."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from garrison.cli.errors import handle_errors
from garrison.cli.files import check_output, write_output


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
    from garrison.frameworks import load
    from garrison.report.compliance import compliance_report, render_compliance_json

    fw = load(framework)  # before reading inputs: a typo in the name fails fast
    output = None if output == Path("-") else output
    check_output(output)
    report = compliance_report(fw, reports)
    if fmt is ComplianceFormat.html:
        from garrison.report.compliance_html import render_compliance_html

        text = render_compliance_html(report)
    else:
        text = render_compliance_json(report)
    if not write_output(output, text):
        return
    counts = ", ".join(f"{n} {status}" for status, n in report.status_counts().items())
    print(f"{fw.id}: {len(report.items)} items ({counts}) -> {output}", file=sys.stderr)
