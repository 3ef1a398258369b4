"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Follows the subset GitHub documents: rules with `security-severity` and a `security` tag,
a region with `startLine` on every result (model files have no lines, so line 1), paths
relative to the checkout under `%SRCROOT%`, and our own `partialFingerprints` so the upload
action never has to hash multi-gigabyte binaries line by line.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from garrison.findings import Finding, Location, Severity
from garrison.report.json import dumps, iso_utc
from garrison.rules import Rule

if TYPE_CHECKING:
    from garrison.report.model import Report, ScannedItem

log = logging.getLogger(__name__)

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://github.com/garrison-ml/garrison"
RULES_DOC_URI = INFORMATION_URI + "/blob/main/docs/rules.md"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "garrisonFinding/v1"
MAX_NOTIFICATIONS = 100

LEVELS: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub maps >= 9.0 to critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}

__all__ = ["LEVELS", "SECURITY_SEVERITY", "render_sarif", "sarif_log"]


def render_sarif(report: Report, root: Path | None = None) -> str:
    """SARIF text for `report`; paths under `root` become relative URIs (see `sarif_log`)."""
    return dumps(sarif_log(report, root))


def sarif_log(report: Report, root: Path | None = None) -> dict[str, Any]:
    """The SARIF log as data.

    `root` is the source root that `%SRCROOT%` stands for: by default $GITHUB_WORKSPACE in
    GitHub Actions (the checkout, even when the scan ran in a subdirectory), else the cwd.
    """
    base = Path(os.path.abspath(root or os.environ.get("GITHUB_WORKSPACE") or Path.cwd()))
    findings = report.sorted_findings()
    rule_ids = list(dict.fromkeys(f.rule for f in findings))
    rule_index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    run: dict[str, Any] = {
        "tool": {"driver": _driver(report, findings, rule_ids)},
        "invocations": [_invocation(report)],
        "originalUriBaseIds": {SRCROOT: {"uri": _file_uri(base).rstrip("/") + "/"}},
        "results": _results(findings, rule_index, base),
        "columnKind": "unicodeCodePoints",
        "properties": {"command": report.command, "targets": list(report.targets)},
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _driver(report: Report, findings: list[Finding], rule_ids: list[str]) -> dict[str, Any]:
    catalog = _catalog() if rule_ids else {}
    worst: dict[str, Severity] = {}
    first: dict[str, Finding] = {}
    for f in findings:  # most severe first, so the first seen is the worst
        worst.setdefault(f.rule, f.severity)
        first.setdefault(f.rule, f)
    rules = [
        _descriptor(catalog.get(rule_id) or _rule_from(first[rule_id]), worst[rule_id])
        for rule_id in rule_ids
    ]
    return {
        "name": "Garrison",
        "fullName": f"Garrison {report.tool_version}",
        "version": report.tool_version,
        "semanticVersion": report.tool_version,
        "informationUri": INFORMATION_URI,
        "rules": rules,
    }


def _catalog() -> dict[str, Rule]:
    from garrison.rules import all_rules

    try:
        return all_rules()
    except ImportError as exc:
        # A missing optional scanner module must not cost the user the whole report;
        # each result then describes its rule from the finding itself.
        log.warning("rule catalog unavailable (%s); describing rules from findings", exc)
        return {}


def _rule_from(finding: Finding) -> Rule:
    return Rule(
        id=finding.rule,
        title=finding.title,
        severity=finding.severity,
        rationale=finding.title,
        remediation=finding.remediation,
        refs=finding.refs,
    )


def _descriptor(rule: Rule, worst: Severity) -> dict[str, Any]:
    help_uri = f"{RULES_DOC_URI}#{rule.id.lower()}"
    tags = list(dict.fromkeys(("security", "machine-learning", *rule.refs)))
    return {
        "id": rule.id,
        "name": _pascal(rule.title) or rule.id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale or rule.title},
        "helpUri": help_uri,
        "help": {"text": _help_text(rule), "markdown": _help_markdown(rule, help_uri)},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        # GitHub shows one severity per rule: use the worst this run reported, so a rule a
        # policy or the evidence raised (or lowered) is shown as reported, not as its default.
        "properties": {
            "tags": tags,
            "security-severity": SECURITY_SEVERITY[worst],
            "refs": list(rule.refs),
        },
    }


def _help_text(rule: Rule) -> str:
    parts = [rule.rationale or rule.title]
    if rule.remediation:
        parts.append(f"Remediation: {rule.remediation}")
    if rule.refs:
        parts.append(f"References: {', '.join(rule.refs)}")
    return "\n\n".join(parts)


def _help_markdown(rule: Rule, help_uri: str) -> str:
    parts = [
        f"**{rule.title}** (`{rule.id}`, default severity {rule.severity.value})",
        rule.rationale or rule.title,
    ]
    if rule.remediation:
        parts.append(f"**Remediation:** {rule.remediation}")
    if rule.refs:
        parts.append("**References:** " + ", ".join(f"`{ref}`" for ref in rule.refs))
    parts.append(f"[Rule documentation]({help_uri})")
    return "\n\n".join(parts)


def _results(findings: list[Finding], rule_index: dict[str, int], base: Path) -> list[Any]:
    seen: Counter[str] = Counter()
    results = []
    for f in findings:
        uri, relative = _artifact_uri(f, base)
        digest = _fingerprint(f, uri)
        seen[digest] += 1
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": rule_index[f.rule],
                "level": LEVELS[f.severity],
                "message": {"text": f"{f.title}: {f.evidence}" if f.evidence else f.title},
                "locations": [_location(f.location, uri, relative)],
                "partialFingerprints": {
                    FINGERPRINT_KEY: f"{digest}:{seen[digest]}",
                    "primaryLocationLineHash": f"{digest[:16]}:{seen[digest]}",
                },
                "properties": {"severity": f.severity.value, "refs": list(f.refs)},
            }
        )
    return results


def _location(loc: Location, uri: str, relative: bool) -> dict[str, Any]:
    artifact: dict[str, Any] = {"uri": uri}
    if relative:
        artifact["uriBaseId"] = SRCROOT
    # GitHub needs a startLine to place an alert; binary model files have no lines.
    region = {"startLine": loc.line if loc.line and loc.line > 0 else 1}
    out: dict[str, Any] = {"physicalLocation": {"artifactLocation": artifact, "region": region}}
    logical = _logical_locations(loc)
    if logical:
        out["logicalLocations"] = logical
    detail = {k: v for k, v in loc.to_dict().items() if k != "path"}
    if detail:
        out["properties"] = detail
    return out


def _logical_locations(loc: Location) -> list[dict[str, str]]:
    """Archive members and pickle opcodes, which a file path and line cannot express."""
    logical: list[dict[str, str]] = []
    if loc.member:
        logical.append(
            {
                "name": loc.member.rsplit("!", 1)[-1],
                "fullyQualifiedName": loc.member,
                "kind": "resource",
            }
        )
    scope = loc.member or Path(loc.path or "").name
    if loc.opcode_index is not None:
        logical.append(
            {
                "name": f"opcode {loc.opcode_index}",
                "fullyQualifiedName": f"{scope}@op{loc.opcode_index}",
                "kind": "instruction",
            }
        )
    elif loc.offset is not None:
        logical.append(
            {
                "name": f"offset {loc.offset}",
                "fullyQualifiedName": f"{scope}@{loc.offset}",
                "kind": "offset",
            }
        )
    return logical


def _artifact_uri(f: Finding, base: Path) -> tuple[str, bool]:
    """A forward-slash URI relative to `base` when the file is under it, else absolute."""
    path = f.location.path or f.asset.path
    if not path:
        return f.asset.uri, False
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(base)
    except ValueError:
        return _file_uri(absolute), False
    return _quote(relative.as_posix()), True


def _file_uri(path: Path) -> str:
    return ("file:///" if path.drive else "file://") + _quote(path.as_posix())


def _quote(path: str) -> str:
    # Names that are not valid UTF-8 reach us as U+DC80-U+DCFF (surrogateescape): encode
    # them back to their original bytes; any other lone surrogate is made visible instead.
    try:
        return quote(path, safe="/", errors="surrogateescape")
    except UnicodeEncodeError:
        return quote(path, safe="/", errors="backslashreplace")


def _fingerprint(f: Finding, uri: str) -> str:
    # Offsets and opcode indexes move when a file is re-saved; the rule, file, member
    # and evidence identify the same problem across runs.
    key = "\x1f".join((f.rule, uri, f.location.member or "", f.evidence))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _invocation(report: Report) -> dict[str, Any]:
    end = report.started_at + timedelta(seconds=max(report.duration_s, 0.0))
    invocation: dict[str, Any] = {
        # Files that could not be read are findings (GA-SCAN-004/005), not a tool failure.
        "executionSuccessful": True,
        "startTimeUtc": iso_utc(report.started_at),
        "endTimeUtc": iso_utc(end),
        "exitCode": 1 if report.failed else 0,
        "properties": {"failOn": report.fail_on.value, "failed": report.failed},
    }
    notes = _notifications([i for i in report.items if i.status == "error"])
    if notes:
        invocation["toolExecutionNotifications"] = notes
    return invocation


def _notifications(errors: list[ScannedItem]) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = [
        {"level": "error", "message": {"text": f"{item.path}: {item.detail or 'scan error'}"}}
        for item in errors[:MAX_NOTIFICATIONS]
    ]
    if len(errors) > MAX_NOTIFICATIONS:
        extra = len(errors) - MAX_NOTIFICATIONS
        notes.append({"level": "error", "message": {"text": f"{extra} more scan errors"}})
    return notes


def _pascal(title: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", title))
