"""Report writers: console, JSON, SARIF 2.1.0, JUnit XML and HTML."""

from __future__ import annotations

from garrison.report.model import Report, ScannedItem

FORMATS = ("console", "json", "sarif", "junit", "html")

__all__ = ["FORMATS", "Report", "ScannedItem", "render"]


def render(report: Report, fmt: str) -> str:
    """Render a report as text in one of FORMATS (console output is plain text here)."""
    if fmt == "json":
        from garrison.report.json import render_json

        return render_json(report)
    if fmt == "sarif":
        from garrison.report.sarif import render_sarif

        return render_sarif(report)
    if fmt == "junit":
        from garrison.report.junit import render_junit

        return render_junit(report)
    if fmt == "html":
        from garrison.report.html import render_html

        return render_html(report)
    if fmt == "console":
        from garrison.report.console import render_plain

        return render_plain(report)
    from garrison.errors import UsageError

    raise UsageError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
