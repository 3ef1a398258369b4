"""Turn a red-team run into a Report: one finding per successful attack, rates in metrics."""

from __future__ import annotations

from garrison.assets import Asset
from garrison.findings import Finding, Location, Severity
from garrison.llm.redteam.rules import BY_FAMILY, INCOMPLETE
from garrison.llm.redteam.runner import RedteamResult
from garrison.report.model import Report

MAX_TRANSCRIPTS = 200


def findings(result: RedteamResult) -> list[Finding]:
    asset = Asset(uri=result.target, kind="endpoint", format=result.model)
    out = [
        BY_FAMILY[hit.family].finding(
            asset, Location(member=hit.id), f"{hit.evidence} [{hit.probe}]"
        )
        for hit in result.hits()
        if hit.family in BY_FAMILY
    ]
    errors = result.errors_by_kind()
    if errors or result.stopped:
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(errors.items()))
        first = next((a.evidence for a in result.attempts if a.status == "error"), "")
        evidence = f"failed attempts: {counts or 'none'}; " + (result.stopped or first)
        out.append(INCOMPLETE.finding(asset, Location(), evidence))
    return out


def build_report(result: RedteamResult, fail_on: Severity = Severity.HIGH) -> Report:
    """A Report with metrics["redteam"]: per-family rates, errors, and successful transcripts."""
    metrics = result.to_dict()
    metrics["transcripts"] = {
        hit.id: list(hit.transcript) for hit in result.hits()[:MAX_TRANSCRIPTS]
    }
    return Report(
        command="redteam",
        targets=[result.target],
        fail_on=fail_on,
        findings=findings(result),
        duration_s=result.duration_s,
        metrics={"redteam": metrics},
    )
