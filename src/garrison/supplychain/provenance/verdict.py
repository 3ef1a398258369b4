"""A scan's verdict in a few fields: what approvals, attestations and the audit log keep."""

from __future__ import annotations

from typing import Any

from garrison import __version__
from garrison.findings import Severity
from garrison.report.model import Report


def rules_version() -> str:
    """The Garrison version plus a digest of the rule catalog (ids and severities)."""
    import hashlib

    from garrison.rules import all_rules

    catalog = ",".join(
        f"{r.id}:{r.severity.value}" for r in sorted(all_rules().values(), key=lambda r: r.id)
    )
    return f"{__version__}+rules.{hashlib.sha256(catalog.encode()).hexdigest()[:12]}"


def verdict(report: Report, threshold: Severity | None = None) -> dict[str, Any]:
    """passed is false when a finding is at or above `threshold` (default: the report's fail_on)."""
    bar = threshold or report.fail_on
    severities = [f.severity for f in report.findings]
    worst = max(severities, key=lambda s: s.rank) if severities else None
    return {
        "passed": not any(s >= bar for s in severities),
        "threshold": bar.value,
        "max_severity": worst.value if worst else None,
        "findings": len(severities),
        "counts": {k: v for k, v in report.counts().items() if v},
    }
