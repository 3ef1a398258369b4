"""The HTML compliance report: one row per framework item, with bar charts drawn as inline SVG.

Charts are SVG markup built by the template from numbers only, so the page needs no script;
every text from input (file names, framework titles) is escaped by Jinja's autoescape and a
Content-Security-Policy forbids scripts and remote loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from garrison.report.json import iso_utc

if TYPE_CHECKING:
    from garrison.report.compliance import ComplianceReport

BAR_WIDTH = 320  # pixels for the longest bar
STATUS_COLOURS = {
    "findings": "#cf222e",
    "not-run": "#9a6700",
    "checked-clean": "#1a7f37",
    "team-evidence": "#57606a",
}
SEVERITY_COLOURS = {
    "critical": "#82071e",
    "high": "#cf222e",
    "medium": "#9a6700",
    "low": "#0969da",
    "info": "#57606a",
}

__all__ = ["render_compliance_html"]


def render_compliance_html(report: ComplianceReport) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("garrison.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("compliance.html.j2").render(
        report=report,
        framework=report.framework,
        generated=iso_utc(report.generated_at),
        status_chart=_bars(report.status_counts(), STATUS_COLOURS),
        severity_chart=_bars(report.severity_counts(), SEVERITY_COLOURS),
    )


def _bars(counts: dict[str, int], colours: dict[str, str]) -> list[dict[str, Any]]:
    """One bar per label: its count, its width in pixels and a fixed colour."""
    top = max(counts.values(), default=0) or 1
    return [
        {
            "label": label,
            "count": count,
            "width": round(BAR_WIDTH * count / top),
            "y": 24 * row,
            "colour": colours.get(label, "#57606a"),
        }
        for row, (label, count) in enumerate(counts.items())
    ]
