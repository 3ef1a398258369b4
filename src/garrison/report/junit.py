"""JUnit XML, for CI systems that show test results (GitLab, Jenkins, Azure Pipelines).

One testsuite per run and one testcase per scanned file or archive member. Findings at or
above the fail threshold become `<failure>` elements, so the test view agrees with the exit
code; milder findings are listed in `<system-out>`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from garrison.findings import Finding
from garrison.report.json import iso_utc, status_by_path

if TYPE_CHECKING:
    from garrison.report.model import Report

SUITE_NAME = "garrison scan"
MAX_MEMBER_LEVELS = 32
# XML 1.0 allows only TAB, LF, CR below U+0020, and no surrogates, U+FFFE or U+FFFF.
# ElementTree writes such characters as-is, which makes the whole document unparseable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

__all__ = ["render_junit"]


def render_junit(report: Report) -> str:
    """JUnit XML text: `<testsuites>` holding one `<testsuite>` for the run."""
    cases = _testcases(report)
    failed = sum(1 for case in cases if case.find("failure") is not None)
    skipped = sum(1 for case in cases if case.find("skipped") is not None)
    counts = {
        "tests": str(len(cases)),
        "failures": str(failed),
        "errors": "0",
        "skipped": str(skipped),
        "time": f"{max(report.duration_s, 0.0):.3f}",
    }
    root = ET.Element("testsuites", {"name": "garrison", **counts})
    suite = ET.SubElement(
        root,
        "testsuite",
        {"name": SUITE_NAME, **counts, "timestamp": iso_utc(report.started_at).rstrip("Z")},
    )
    suite.append(_properties(report))
    suite.extend(cases)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _testcases(report: Report) -> list[ET.Element]:
    cases = _cases(report)
    by_key: dict[str, list[Finding]] = defaultdict(list)
    for f in report.sorted_findings():
        by_key[_owner(f, cases)].append(f)
    keys = list(cases) + [key for key in by_key if key not in cases]
    if not keys:
        keys = [", ".join(report.targets) or SUITE_NAME]
    return [_testcase(cases.get(key) or _Case(key), by_key.get(key, []), report) for key in keys]


@dataclass(slots=True)
class _Case:
    """One path's items merged: its overall status, and the format and detail behind it."""

    path: str
    format: str = "unknown"
    status: str | None = None
    detail: str = ""


def _cases(report: Report) -> dict[str, _Case]:
    statuses = status_by_path(report.items)
    cases = {path: _Case(path, status=status) for path, status in statuses.items()}
    described: set[str] = set()
    for item in report.items:
        # Format and detail come from the item that decided the path's status.
        if item.status == statuses[item.path] and item.path not in described:
            described.add(item.path)
            cases[item.path].format = item.format
            cases[item.path].detail = item.detail
    return cases


def _owner(f: Finding, items: dict[str, _Case]) -> str:
    """The item a finding belongs to: its member, else the nearest enclosing archive."""
    path = f.location.path or f.asset.path or f.asset.uri
    member = f.location.member
    # Member names may themselves contain "!"; bound the walk so a name made of thousands
    # of them cannot make rendering quadratic. Real nesting is a handful of levels.
    for _ in range(MAX_MEMBER_LEVELS):
        if not member:
            break
        key = f"{path}!{member}"
        if key in items:
            return key
        member = member.rpartition("!")[0]
    return path


def _testcase(item: _Case, findings: list[Finding], report: Report) -> ET.Element:
    classname = f"garrison.scan.{_xml(item.format)}"
    case = ET.Element("testcase", {"name": _xml(item.path), "classname": classname, "time": "0"})
    failing = [f for f in findings if f.severity >= report.fail_on]
    milder = [f for f in findings if not f.severity >= report.fail_on]
    for f in failing:
        failure = ET.SubElement(
            case, "failure", {"message": _xml(_message(f)), "type": _xml(f.rule)}
        )
        failure.text = _xml(_details(f))
    if not failing and item.status in ("unscanned", "skipped"):
        reason = f"{item.status}: {item.detail}" if item.detail else item.status
        ET.SubElement(case, "skipped", {"message": _xml(reason)})
    if milder:
        out = ET.SubElement(case, "system-out")
        out.text = _xml("\n\n".join(_details(f) for f in milder))
    return case


def _properties(report: Report) -> ET.Element:
    props = ET.Element("properties")
    values = {
        "garrison.version": report.tool_version,
        "command": report.command,
        "targets": " ".join(report.targets),
        "fail_on": report.fail_on.value,
        "failed": str(report.failed).lower(),
    }
    for name, value in values.items():
        ET.SubElement(props, "property", {"name": name, "value": _xml(value)})
    return props


def _message(f: Finding) -> str:
    return f"[{f.severity.value}] {f.rule} {f.title}"


def _details(f: Finding) -> str:
    lines = [f"{f.severity.value.upper()} {f.rule}: {f.title}", f"location: {f.location}"]
    if f.evidence:
        lines.append(f"evidence: {f.evidence}")
    if f.remediation:
        lines.append(f"remediation: {f.remediation}")
    if f.refs:
        lines.append(f"refs: {', '.join(f.refs)}")
    return "\n".join(lines)


def _xml(text: str) -> str:
    """Replace characters XML 1.0 cannot carry with a visible `\\xNN` / `\\uNNNN` escape."""
    return _NOT_XML.sub(lambda m: repr(m.group())[1:-1], text)
