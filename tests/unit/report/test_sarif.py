"""SARIF output: valid against the official 2.1.0 schema and shaped for GitHub code scanning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import garrison.rules
from garrison.findings import Severity
from garrison.report import render
from garrison.report.model import ScannedItem
from garrison.report.sarif import FINGERPRINT_KEY, MAX_NOTIFICATIONS, render_sarif
from garrison.rules import Rule
from tests.unit.report import PAYLOAD, empty_report, finding, sample_report

SCHEMA = Path(__file__).resolve().parents[2] / "data" / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def sarif(report: Any, root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render_sarif(report, root=root))
    return data


def run_of(report: Any, root: Path) -> dict[str, Any]:
    run: dict[str, Any] = sarif(report, root)["runs"][0]
    return run


def test_vendored_schema_is_the_official_one() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    assert len(schema["definitions"]) == 52


def test_reports_validate_against_official_schema(
    tmp_path: Path, validator: jsonschema.Draft4Validator
) -> None:
    for report in (sample_report(tmp_path), empty_report(tmp_path)):
        validator.validate(sarif(report, tmp_path))


def test_validator_catches_a_broken_log(
    tmp_path: Path, validator: jsonschema.Draft4Validator
) -> None:
    log = sarif(sample_report(tmp_path), tmp_path)
    log["runs"][0]["results"][0]["level"] = "critical"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(log)


def test_log_header_and_driver(tmp_path: Path) -> None:
    log = sarif(sample_report(tmp_path), tmp_path)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-schema-2.1.0.json")
    assert len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "Garrison"
    assert driver["semanticVersion"] == driver["version"] != ""
    assert driver["informationUri"].startswith("https://")


def test_one_rule_per_rule_used_and_indexes_point_at_it(tmp_path: Path) -> None:
    run = run_of(sample_report(tmp_path), tmp_path)
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert ids == ["GA-TST-001", "GA-TST-002", "GA-TST-003", "GA-TST-004", "GA-TST-005"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


@pytest.mark.parametrize(
    ("severity", "level", "score"),
    [
        (Severity.CRITICAL, "error", "9.5"),
        (Severity.HIGH, "error", "8.0"),
        (Severity.MEDIUM, "warning", "5.5"),
        (Severity.LOW, "note", "3.0"),
        (Severity.INFO, "note", "0.0"),
    ],
)
def test_levels_and_security_severity(
    tmp_path: Path, severity: Severity, level: str, score: str
) -> None:
    report = empty_report(tmp_path)
    report.findings = [finding("GA-TST-009", severity, str(tmp_path / "m.pkl"), "x")]
    run = run_of(report, tmp_path)
    rule = run["tool"]["driver"]["rules"][0]
    assert run["results"][0]["level"] == level
    assert run["results"][0]["properties"]["severity"] == severity.value
    assert rule["properties"]["security-severity"] == score
    assert rule["defaultConfiguration"]["level"] == level  # fallback rule: finding's severity


def test_rule_severity_is_the_worst_reported(tmp_path: Path) -> None:
    run = run_of(sample_report(tmp_path), tmp_path)
    rule = run["tool"]["driver"]["rules"][0]  # GA-TST-001: one critical, one high
    assert rule["properties"]["security-severity"] == "9.5"
    assert [r["level"] for r in run["results"] if r["ruleId"] == "GA-TST-001"] == ["error"] * 2


def test_rule_metadata_comes_from_the_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = Rule(
        "GA-TST-001",
        "Dangerous callable in pickle",
        Severity.HIGH,
        "Unpickling calls whatever the file names.",
        "Do not load it.",
        ("OWASP-LLM03:2025", "ATLAS-AML.T0011"),
    )
    monkeypatch.setattr(garrison.rules, "all_rules", lambda: {catalog.id: catalog})
    rule = run_of(sample_report(tmp_path), tmp_path)["tool"]["driver"]["rules"][0]
    assert rule["name"] == "DangerousCallableInPickle"
    assert rule["shortDescription"]["text"] == catalog.title
    assert rule["fullDescription"]["text"] == catalog.rationale
    assert "Do not load it." in rule["help"]["text"]
    assert "`ATLAS-AML.T0011`" in rule["help"]["markdown"]
    assert rule["defaultConfiguration"]["level"] == "error"
    assert rule["helpUri"].endswith("rules.md#ga-tst-001")
    tags = rule["properties"]["tags"]
    assert tags[0] == "security" and "ATLAS-AML.T0011" in tags
    assert len(tags) == len(set(tags))


def test_missing_catalog_falls_back_to_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, validator: jsonschema.Draft4Validator
) -> None:
    def broken() -> dict[str, Rule]:
        raise ModuleNotFoundError("No module named 'garrison.supplychain.pickle_scan'")

    monkeypatch.setattr(garrison.rules, "all_rules", broken)
    log = sarif(sample_report(tmp_path), tmp_path)
    validator.validate(log)
    rule = log["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["shortDescription"]["text"] == "Title of GA-TST-001"
    assert "Fix GA-TST-001." in rule["help"]["text"]


def test_every_result_has_what_github_needs(tmp_path: Path) -> None:
    run = run_of(sample_report(tmp_path), tmp_path)
    for result in run["results"]:
        assert result["message"]["text"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["region"]["startLine"] >= 1
        assert physical["artifactLocation"]["uri"]
        assert result["partialFingerprints"]["primaryLocationLineHash"]
    for rule in run["tool"]["driver"]["rules"]:
        assert 0.0 <= float(rule["properties"]["security-severity"]) <= 10.0
        assert "security" in rule["properties"]["tags"]


def test_uris_are_relative_forward_slash_and_percent_encoded(tmp_path: Path) -> None:
    results = run_of(sample_report(tmp_path), tmp_path)["results"]
    artifacts = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in results]
    uris = {a["uri"] for a in artifacts}
    assert uris == {
        "models/bad.pkl",
        "models/model.zip",
        "my%20models/weights%20%231.pt",
        "config.json",
    }
    assert all(a["uriBaseId"] == "%SRCROOT%" for a in artifacts)
    base = run_of(sample_report(tmp_path), tmp_path)["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base == tmp_path.as_uri() + "/"


def test_relative_paths_are_resolved_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    report = empty_report(tmp_path)
    report.findings = [finding("GA-TST-001", Severity.HIGH, "models/../models/a.pt", "x")]
    data = json.loads(render_sarif(report))
    artifact = data["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert artifact["artifactLocation"] == {"uri": "models/a.pt", "uriBaseId": "%SRCROOT%"}


def test_github_workspace_is_the_source_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    report = empty_report(tmp_path)
    report.findings = [finding("GA-TST-001", Severity.HIGH, "m.pt", "x")]
    data = json.loads(render_sarif(report))
    uri = data["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "sub/m.pt"


def test_files_outside_the_root_get_absolute_uris(tmp_path: Path) -> None:
    report = empty_report(tmp_path)
    outside = tmp_path.parent / "elsewhere" / "m.pt"
    report.findings = [finding("GA-TST-001", Severity.HIGH, str(outside), "x")]
    artifact = run_of(report, tmp_path / "repo")["results"][0]["locations"][0]
    assert artifact["physicalLocation"]["artifactLocation"] == {"uri": outside.as_uri()}


def test_members_opcodes_offsets_and_lines(tmp_path: Path) -> None:
    results = run_of(sample_report(tmp_path), tmp_path)["results"]
    by_rule = {r["ruleId"]: r["locations"][0] for r in reversed(results)}
    opcode = by_rule["GA-TST-001"]
    assert opcode["logicalLocations"] == [
        {"name": "opcode 7", "fullyQualifiedName": "bad.pkl@op7", "kind": "instruction"}
    ]
    assert opcode["properties"] == {"opcode_index": 7}
    member = by_rule["GA-TST-002"]
    assert member["logicalLocations"][0] == {
        "name": "archive/data.pkl",
        "fullyQualifiedName": "archive/data.pkl",
        "kind": "resource",
    }
    offset = by_rule["GA-TST-004"]["logicalLocations"][0]
    assert offset["name"] == "offset 4096" and offset["kind"] == "offset"
    assert by_rule["GA-TST-005"]["physicalLocation"]["region"] == {"startLine": 12}


def test_message_carries_title_and_evidence(tmp_path: Path) -> None:
    result = run_of(sample_report(tmp_path), tmp_path)["results"][0]
    assert result["message"]["text"] == f"Title of GA-TST-001: {PAYLOAD}"


def test_fingerprints_are_stable_and_distinguish_findings(tmp_path: Path) -> None:
    first = run_of(sample_report(tmp_path), tmp_path)["results"]
    again = run_of(sample_report(tmp_path), tmp_path)["results"]
    prints = [r["partialFingerprints"][FINGERPRINT_KEY] for r in first]
    assert prints == [r["partialFingerprints"][FINGERPRINT_KEY] for r in again]
    assert len(set(prints)) == len(prints)


def test_fingerprint_ignores_offsets_and_counts_duplicates(tmp_path: Path) -> None:
    path = str(tmp_path / "m.pkl")
    report = empty_report(tmp_path)
    report.findings = [
        finding("GA-TST-001", Severity.HIGH, path, "x", opcode_index=1),
        finding("GA-TST-001", Severity.HIGH, path, "x", opcode_index=9),
    ]
    prints = [r["partialFingerprints"] for r in run_of(report, tmp_path)["results"]]
    digest_a, count_a = prints[0][FINGERPRINT_KEY].split(":")
    digest_b, count_b = prints[1][FINGERPRINT_KEY].split(":")
    assert digest_a == digest_b and (count_a, count_b) == ("1", "2")
    assert prints[0]["primaryLocationLineHash"] != prints[1]["primaryLocationLineHash"]


def test_invocation(tmp_path: Path) -> None:
    (invocation,) = run_of(sample_report(tmp_path), tmp_path)["invocations"]
    assert invocation["executionSuccessful"] is True
    assert invocation["startTimeUtc"] == "2025-01-02T03:04:05.678Z"
    assert invocation["endTimeUtc"] == "2025-01-02T03:04:06.928Z"
    assert invocation["exitCode"] == 1
    assert invocation["properties"] == {"failOn": "high", "failed": True}
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and "Permission denied" in note["message"]["text"]


def test_scan_error_notifications_are_capped(
    tmp_path: Path, validator: jsonschema.Draft4Validator
) -> None:
    report = empty_report(tmp_path)
    report.items = [ScannedItem(f"f{i}", "zip", "error", None, "bad") for i in range(250)]
    log = sarif(report, tmp_path)
    validator.validate(log)
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert len(notes) == MAX_NOTIFICATIONS + 1
    assert notes[-1]["message"]["text"] == "150 more scan errors"


def test_empty_report_is_a_run_with_no_results(tmp_path: Path) -> None:
    run = run_of(empty_report(tmp_path), tmp_path)
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []
    assert run["invocations"][0]["exitCode"] == 0


def test_render_dispatches_to_sarif(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    report = sample_report(tmp_path)
    assert render(report, "sarif") == render_sarif(report, root=tmp_path)


def test_undecodable_file_names_become_their_original_bytes(
    tmp_path: Path, validator: jsonschema.Draft4Validator
) -> None:
    report = empty_report(tmp_path)
    report.findings = [finding("GA-TST-001", Severity.HIGH, str(tmp_path / "m\udcff.pkl"), "x")]
    text = render_sarif(report, root=tmp_path)
    text.encode("utf-8")
    log = json.loads(text)
    validator.validate(log)
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert artifact["artifactLocation"]["uri"] == "m%FF.pkl"


@settings(max_examples=50, deadline=None)
@given(evidence=st.text(), member=st.text(min_size=1), name=st.text(min_size=1))
def test_any_text_gives_valid_sarif(evidence: str, member: str, name: str) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    root = Path("/models")
    report = empty_report(root)
    path = "/models/" + name.replace("/", "_").replace("\x00", "_")
    report.findings = [finding("GA-TST-001", Severity.HIGH, path, evidence, member=member)]
    text = render_sarif(report, root=root)
    text.encode("utf-8")
    jsonschema.Draft4Validator(schema).validate(json.loads(text))
