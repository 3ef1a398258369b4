"""Report writers. `sample_report` builds the reports the writer tests share."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from garrison.assets import Asset
from garrison.findings import Finding, Location, Severity
from garrison.report.model import Report, ScannedItem

PAYLOAD = "os.system('echo garrison-test')"
# What a hostile archive can put in a member name or an evidence string: ANSI escapes,
# a bidi override, Rich markup, a GitHub Actions log command after a newline, NUL.
HOSTILE = "evil\x1b[2J\u202e[bold red]x[/]\n::error::pwned\x00]]><tag>&"
REFS = ("OWASP-LLM03:2025", "ATLAS-AML.T0010")
STARTED = datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def finding(
    rule: str,
    severity: Severity,
    path: str,
    evidence: str = "",
    *,
    member: str | None = None,
    offset: int | None = None,
    opcode_index: int | None = None,
    line: int | None = None,
) -> Finding:
    where = Location(path, member, offset, opcode_index, line)
    return Finding(
        rule=rule,
        title=f"Title of {rule}",
        severity=severity,
        asset=Asset.from_path(Path(path)),
        location=where,
        evidence=evidence,
        remediation=f"Fix {rule}.",
        refs=REFS,
    )


def sample_report(root: Path, fail_on: Severity = Severity.HIGH) -> Report:
    """Findings of every severity, with members, offsets, opcodes and lines, under `root`."""
    bad = str(root / "models" / "bad.pkl")
    archive = str(root / "models" / "model.zip")
    spaced = str(root / "my models" / "weights #1.pt")
    findings = [
        finding("GA-TST-001", Severity.CRITICAL, bad, PAYLOAD, opcode_index=7),
        finding("GA-TST-002", Severity.HIGH, archive, "torch._load", member="archive/data.pkl"),
        finding("GA-TST-003", Severity.MEDIUM, archive, HOSTILE, member=f"inner.tar!{HOSTILE}"),
        finding("GA-TST-004", Severity.LOW, spaced, "unscanned format", offset=4096),
        finding("GA-TST-005", Severity.INFO, str(root / "config.json"), "note", line=12),
        finding("GA-TST-001", Severity.HIGH, archive, PAYLOAD, member="archive/data.pkl"),
    ]
    items = [
        ScannedItem(bad, "pickle", "scanned", 120),
        ScannedItem(archive, "zip", "scanned", 4000),
        ScannedItem(f"{archive}!archive/data.pkl", "pickle", "scanned", 300),
        ScannedItem(f"{archive}!inner.tar", "tar", "partial", 900, "nesting too deep"),
        ScannedItem(spaced, "unknown", "unscanned", 10, "TFLite"),
        ScannedItem(str(root / "config.json"), "json", "scanned", 50),
        ScannedItem(str(root / "broken.h5"), "hdf5", "error", None, "Permission denied"),
        ScannedItem(str(root / "noise.bin"), "pickle", "skipped", 8, "not this format"),
    ]
    return Report(
        command="scan",
        targets=[str(root)],
        fail_on=fail_on,
        findings=findings,
        items=items,
        started_at=STARTED,
        duration_s=1.25,
    )


def empty_report(root: Path) -> Report:
    return Report(command="scan", targets=[str(root)], started_at=STARTED, duration_s=0.01)
