import json

import pytest

from garrison.assets import Asset
from garrison.errors import UsageError
from garrison.findings import Finding, Location, Severity, max_severity
from garrison.rules import Rule


def test_severity_orders_by_rank() -> None:
    assert Severity.CRITICAL > Severity.HIGH > Severity.MEDIUM > Severity.LOW > Severity.INFO
    assert Severity.parse(" High ") is Severity.HIGH
    with pytest.raises(UsageError):
        Severity.parse("urgent")


def test_finding_serialises_to_json() -> None:
    asset = Asset(uri="file:///m.pt", path="m.pt")
    finding = Finding(
        rule="GA-PKL-001",
        title="t",
        severity=Severity.CRITICAL,
        asset=asset,
        location=Location(path="m.pt", member="archive/data.pkl", opcode_index=3),
        evidence="os.system('echo x')",
        refs=("OWASP-LLM03:2025",),
    )
    data = json.loads(json.dumps(finding.to_dict()))
    assert data["severity"] == "critical"
    assert data["location"] == {"path": "m.pt", "member": "archive/data.pkl", "opcode_index": 3}
    assert data["asset"]["path"] == "m.pt"
    assert max_severity([finding]) is Severity.CRITICAL
    assert max_severity([]) is None


def test_rule_evidence_is_clipped_and_printable() -> None:
    rule = Rule("GA-X-001", "t", Severity.LOW, "r", "fix")
    asset = Asset(uri="file:///x")
    finding = rule.finding(asset, Location(), evidence="a\x1b[31mb" + "z" * 1000)
    assert "\x1b" not in finding.evidence
    assert len(finding.evidence) <= 400
