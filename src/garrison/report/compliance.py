"""Compliance reports: a framework's items, each with what Garrison checked and found.

Inputs are the JSON reports that `garrison scan`, `data check`, `test`, `redteam`,
`discover` (and `guard -f json`) write. Reports do not yet record which checks ran, so the
rules of the command that produced an input count as run, as do rules that fired.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from garrison.errors import UsageError
from garrison.findings import Severity
from garrison.frameworks import Framework, FrameworkItem, covering_rules, load

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from garrison.rules import Rule

STATUSES = ("findings", "not-run", "checked-clean", "team-evidence")
MAX_INPUT_BYTES = 256 * 1024 * 1024
MAX_EXAMPLES = 5  # findings shown per item
# Rule-id prefixes each command runs (guard runs the input guards only).
COMMAND_RULES: dict[str, tuple[str, ...]] = {
    "scan": (
        "GA-CMP-",
        "GA-GGUF-",
        "GA-HF-",
        "GA-JINJA-",
        "GA-KERAS-",
        "GA-NPY-",
        "GA-ONNX-",
        "GA-PKL-",
        "GA-SAFET-",
        "GA-SCAN-",
        "GA-SEVENZIP-",
        "GA-TAR-",
        "GA-TF-",
        "GA-TORCH-",
        "GA-ZIP-",
    ),
    "data check": ("GA-DATA-",),
    "test evasion": ("GA-ROB-001", "GA-ROB-005"),
    "test privacy": ("GA-ROB-002", "GA-ROB-005"),
    "test extraction": ("GA-ROB-003", "GA-ROB-005"),
    "test inversion": ("GA-ROB-004", "GA-ROB-005"),
    "redteam": ("GA-RT-",),
    "guard": tuple(f"GA-LLM-00{n}" for n in range(1, 10)),
    "discover": ("GA-POST-",),
}

__all__ = [
    "COMMAND_RULES",
    "STATUSES",
    "ComplianceReport",
    "InputFinding",
    "InputReport",
    "ItemResult",
    "compliance_dict",
    "compliance_report",
    "parse_input",
    "read_input",
    "render_compliance_json",
]


@dataclass(frozen=True, slots=True)
class InputFinding:
    rule: str
    severity: str
    path: str
    evidence: str


@dataclass(frozen=True, slots=True)
class InputReport:
    """One Garrison JSON report, reduced to what a compliance report needs."""

    source: str
    command: str
    tool_version: str
    started_at: str
    findings: tuple[InputFinding, ...]


@dataclass(frozen=True, slots=True)
class ItemResult:
    item: FrameworkItem
    status: str
    rules: tuple[str, ...] = ()  # rules that cover the item
    rules_run: tuple[str, ...] = ()
    rules_fired: dict[str, int] = field(default_factory=dict)  # rule -> finding count
    by_severity: dict[str, int] = field(default_factory=dict)
    examples: tuple[InputFinding, ...] = ()  # the worst few findings, for the reader


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    framework: Framework
    items: tuple[ItemResult, ...]
    inputs: tuple[InputReport, ...]
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for result in self.items:
            counts[result.status] += 1
        return counts

    def severity_counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Severity}
        for result in self.items:
            for severity, n in result.by_severity.items():
                counts[severity] += n
        return counts


def compliance_report(
    framework: str | Framework,
    reports: Sequence[str | Path | Mapping[str, Any]],
    rules: Mapping[str, Rule] | None = None,
) -> ComplianceReport:
    """Map the findings of Garrison reports (paths or parsed JSON) onto a framework's items."""
    if rules is None:
        from garrison.rules import all_rules

        rules = all_rules()
    fw = load(framework) if isinstance(framework, str) else framework
    inputs = tuple(
        read_input(r) if isinstance(r, str | Path) else parse_input(r, "<report>") for r in reports
    )
    fired: dict[str, dict[str, int]] = {}  # rule -> severity -> count
    found: dict[str, list[InputFinding]] = {}
    for report in inputs:
        for f in report.findings:
            by_sev = fired.setdefault(f.rule, {})
            by_sev[f.severity] = by_sev.get(f.severity, 0) + 1
            found.setdefault(f.rule, []).append(f)
    prefixes = tuple(p for r in inputs for p in COMMAND_RULES.get(r.command, ()))
    run = {rid for rid in rules if rid in fired or (prefixes and rid.startswith(prefixes))}
    items = tuple(_result(item, rules.values(), run, fired, found) for item in fw.items)
    return ComplianceReport(framework=fw, items=items, inputs=inputs)


def _result(
    item: FrameworkItem,
    rules: Iterable[Rule],
    run: set[str],
    fired: dict[str, dict[str, int]],
    found: dict[str, list[InputFinding]],
) -> ItemResult:
    covering = covering_rules(item, rules)
    if not covering:
        return ItemResult(item=item, status="team-evidence")
    rules_run = tuple(r for r in covering if r in run)
    rules_fired = {r: sum(fired[r].values()) for r in covering if r in fired}
    by_severity: dict[str, int] = {}
    for r in rules_fired:
        for severity, n in fired[r].items():
            by_severity[severity] = by_severity.get(severity, 0) + n
    status = "findings" if rules_fired else ("checked-clean" if rules_run else "not-run")
    examples = sorted(
        (f for r in rules_fired for f in found[r]), key=lambda f: -Severity(f.severity).rank
    )[:MAX_EXAMPLES]
    return ItemResult(
        item=item,
        status=status,
        rules=tuple(covering),
        rules_run=rules_run,
        rules_fired=rules_fired,
        by_severity=by_severity,
        examples=tuple(examples),
    )


def read_input(path: str | Path) -> InputReport:
    """Read one Garrison JSON report from disk; a UsageError names what is wrong with it."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise UsageError(f"{path}: report larger than {MAX_INPUT_BYTES} bytes")
    try:
        data = json.loads(raw)
    except ValueError:
        raise UsageError(f"{path}: not JSON; give reports written with -f json") from None
    return parse_input(data, str(path))


def parse_input(data: Any, source: str) -> InputReport:
    """Accept a scan/data/test/redteam/discover report, or `garrison guard -f json` output."""
    not_ours = UsageError(f"{source}: not a Garrison JSON report (written with -f json)")
    if not isinstance(data, dict):
        raise not_ours
    if isinstance(data.get("results"), list) and "tool" not in data:
        findings = [
            f for r in data["results"] if isinstance(r, dict) for f in r.get("findings", [])
        ]
        return _input(source, "guard", "", "", findings, not_ours)
    tool = data.get("tool")
    if not isinstance(tool, dict) or tool.get("name") != "garrison":
        raise not_ours
    if not isinstance(data.get("command"), str) or not isinstance(data.get("findings"), list):
        raise not_ours
    version = str(data.get("schema_version", "1.0"))
    if version.split(".")[0] != "1":  # a later major version may mean fields this reader misreads
        raise UsageError(f"{source}: report schema {version}; this Garrison reads 1.x")
    return _input(
        source,
        data["command"],
        str(tool.get("version", "")),
        str(data.get("started_at", "")),
        data["findings"],
        not_ours,
    )


def _input(
    source: str,
    command: str,
    version: str,
    started: str,
    findings: list[Any],
    not_ours: UsageError,
) -> InputReport:
    severities = {s.value for s in Severity}
    out = []
    for f in findings:
        if not isinstance(f, dict) or not isinstance(f.get("rule"), str):
            raise not_ours
        if f.get("severity") not in severities:
            raise not_ours
        location = f.get("location")
        path = location.get("path") if isinstance(location, dict) else None
        out.append(
            InputFinding(f["rule"], f["severity"], str(path or ""), str(f.get("evidence", "")))
        )
    return InputReport(source, command, version, started, tuple(out))


def render_compliance_json(report: ComplianceReport) -> str:
    from garrison.report.json import dumps

    return dumps(compliance_dict(report))


def compliance_dict(report: ComplianceReport) -> dict[str, Any]:
    """The compliance report as JSON-ready data (docs/compliance.md describes each field)."""
    from garrison import __version__
    from garrison.report.json import iso_utc

    fw = report.framework
    return {
        "tool": {"name": "garrison", "version": __version__},
        "kind": "compliance",
        "generated_at": iso_utc(report.generated_at),
        "framework": {"id": fw.id, "title": fw.title, "version": fw.version, "source": fw.source},
        "summary": {"items": report.status_counts(), "findings": report.severity_counts()},
        "inputs": [
            {
                "source": i.source,
                "command": i.command,
                "tool_version": i.tool_version,
                "started_at": i.started_at,
                "findings": len(i.findings),
            }
            for i in report.inputs
        ],
        "items": [_item_dict(r) for r in report.items],
    }


def _item_dict(result: ItemResult) -> dict[str, Any]:
    item = result.item
    out: dict[str, Any] = {"id": item.id, "title": item.title, "source": item.source}
    if item.tactic:
        out["tactic"] = item.tactic
    out.update(
        status=result.status,
        rules=list(result.rules),
        rules_run=list(result.rules_run),
        rules_fired=dict(result.rules_fired),
        by_severity=dict(result.by_severity),
        evidence=item.evidence,
        examples=[
            {"rule": f.rule, "severity": f.severity, "path": f.path, "evidence": f.evidence}
            for f in result.examples
        ],
    )
    return out
