"""The JSON report: everything a run found and looked at (schema: report.schema.json)."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from garrison.report.model import Report, ScannedItem

# Bump the major version for any change that can break a reader (a removed or renamed
# field, a changed type); add fields under a minor bump. docs/report-format.md lists changes.
SCHEMA_VERSION = "1.0"
TOOL_NAME = "garrison"
ITEM_STATUSES = ("scanned", "partial", "unscanned", "skipped", "error")
# When one path has several items (a checkpoint read both as a zip and as PyTorch), the
# path's status is the least reassuring one; skipped aspects never hide a scanned one.
_STATUS_PRECEDENCE = ("error", "partial", "unscanned", "scanned", "skipped")
# Lone surrogates: os.fsdecode and tarfile turn undecodable name bytes into U+DC80-U+DCFF.
_SURROGATE = re.compile("[\ud800-\udfff]")

__all__ = ["SCHEMA_VERSION", "dumps", "render_json", "report_dict", "status_by_path"]


def render_json(report: Report) -> str:
    """Serialise a report as indented JSON text (UTF-8 safe, stable key order)."""
    return dumps(report_dict(report))


def dumps(data: object) -> str:
    """Indented JSON that can always be written as UTF-8.

    Non-ASCII stays readable; lone surrogates (from file and tar member names that are not
    valid UTF-8) become `\\udcXX` escapes, which decode back to the same string, instead of
    making the report impossible to write.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def report_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data; see docs/report-format.md for each field."""
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": report.tool_version},
        "command": report.command,
        "targets": list(report.targets),
        "started_at": iso_utc(report.started_at),
        "duration_s": round(report.duration_s, 3),
        "fail_on": report.fail_on.value,
        "failed": report.failed,
        "summary": _summary(report),
        "findings": [f.to_dict() for f in report.sorted_findings()],
        "items": [item.to_dict() for item in report.items],
    }
    if report.metrics:
        out["metrics"] = report.metrics
    if report.artifacts:
        out["artifacts"] = [
            {"name": a.name, "media_type": a.media_type, "bytes": len(a.data), "caption": a.caption}
            for a in report.artifacts
        ]
    return out


def iso_utc(when: datetime) -> str:
    """ISO 8601 in UTC with a `Z` suffix, to the millisecond; naive times are taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    text = when.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _summary(report: Report) -> dict[str, Any]:
    statuses = Counter(item.status for item in report.items)
    items: dict[str, int] = {"total": len(report.items)}
    items.update({status: statuses.get(status, 0) for status in ITEM_STATUSES})
    return {
        "findings": len(report.findings),
        "by_severity": report.counts(),
        "items": items,
    }


def status_by_path(items: Iterable[ScannedItem]) -> dict[str, str]:
    """One status per file or member path, in first-seen order (see _STATUS_PRECEDENCE)."""

    def rank(status: str) -> float:
        # Statuses added later rank just after "partial": unknown is not reassuring.
        return _STATUS_PRECEDENCE.index(status) if status in _STATUS_PRECEDENCE else 1.5

    statuses: dict[str, str] = {}
    for item in items:
        current = statuses.get(item.path)
        if current is None or rank(item.status) < rank(current):
            statuses[item.path] = item.status
    return statuses
