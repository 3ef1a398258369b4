"""A self-contained HTML report: findings, embedded charts (PNG data URIs) and measurements.

Everything from input (paths, evidence, member names) is escaped by Jinja's autoescape, and a
Content-Security-Policy forbids scripts and remote loads, so a hostile file name cannot turn
the report into a page that runs code or phones home.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from garrison.report.json import dumps, iso_utc

if TYPE_CHECKING:
    from garrison.report.model import Report

MAX_ROWS = 2000
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")

__all__ = ["render_html"]


def render_html(report: Report) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("garrison.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    findings = report.sorted_findings()
    artifacts: list[dict[str, Any]] = [
        {
            "name": a.name,
            "caption": a.caption,
            "media_type": a.media_type,
            "b64": base64.b64encode(a.data).decode("ascii"),
        }
        for a in report.artifacts
        if a.media_type in IMAGE_TYPES  # SVG can carry script; only raster images are inlined
    ]
    return env.get_template("report.html.j2").render(
        report=report,
        findings=findings[:MAX_ROWS],
        omitted=max(0, len(findings) - MAX_ROWS),
        artifacts=artifacts,
        metrics=dumps(report.metrics).strip() if report.metrics else "",
        started=iso_utc(report.started_at),
    )
