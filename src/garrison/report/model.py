"""The Report: the findings of one run plus what ran, on what, and how long."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from garrison import __version__
from garrison.findings import Finding, Severity


@dataclass(frozen=True, slots=True)
class ScannedItem:
    """One file (or archive member) the run looked at and what became of it."""

    path: str
    format: str
    status: str  # scanned, unscanned, skipped, error
    size: int | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "format": self.format, "status": self.status}
        if self.size is not None:
            out["size"] = self.size
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True, slots=True)
class Artifact:
    """A picture or file a check produced (a robustness curve, a ROC): embedded in HTML."""

    name: str
    media_type: str  # image/png, image/svg+xml, text/csv
    data: bytes
    caption: str = ""


@dataclass(slots=True)
class Report:
    command: str
    targets: list[str]
    fail_on: Severity = Severity.HIGH
    findings: list[Finding] = field(default_factory=list)
    items: list[ScannedItem] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration_s: float = 0.0
    tool_version: str = __version__
    # Measured numbers of checks that measure (accuracy under attack, AUCs, curves), by check.
    metrics: dict[str, Any] = field(default_factory=dict)
    artifacts: list[Artifact] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(f.severity >= self.fail_on for f in self.findings)

    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Severity}
        for f in self.findings:
            counts[f.severity.value] += 1
        return counts

    def sorted_findings(self) -> list[Finding]:
        return sorted(
            self.findings,
            key=lambda f: (
                -f.severity.rank,
                f.location.path or "",
                f.location.member or "",
                f.rule,
            ),
        )
