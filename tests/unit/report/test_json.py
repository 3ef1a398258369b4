"""The JSON report: its schema, its fields, and the documented example."""

from __future__ import annotations

import json
import re
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from garrison.findings import Severity
from garrison.report import render
from garrison.report.json import SCHEMA_VERSION, render_json
from garrison.report.model import ScannedItem
from tests.unit.report import HOSTILE, PAYLOAD, STARTED, empty_report, finding, sample_report

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    text = resources.files("garrison.report").joinpath("report.schema.json").read_text()
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def load(text: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(text)
    return data


def test_sample_and_empty_reports_match_the_schema(
    tmp_path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    for report in (sample_report(tmp_path), empty_report(tmp_path)):
        validator.validate(load(render_json(report)))


def test_top_level_fields(tmp_path: Path) -> None:
    data = load(render_json(sample_report(tmp_path)))
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["tool"]["name"] == "garrison" and data["tool"]["version"]
    assert data["command"] == "scan"
    assert data["targets"] == [str(tmp_path)]
    assert data["started_at"] == "2025-01-02T03:04:05.678Z"
    assert data["duration_s"] == 1.25
    assert data["fail_on"] == "high"
    assert data["failed"] is True


def test_summary_counts(tmp_path: Path) -> None:
    summary = load(render_json(sample_report(tmp_path)))["summary"]
    assert summary["findings"] == 6
    assert summary["by_severity"] == {"critical": 1, "high": 2, "medium": 1, "low": 1, "info": 1}
    assert summary["items"] == {
        "total": 8,
        "scanned": 4,
        "partial": 1,
        "unscanned": 1,
        "skipped": 1,
        "error": 1,
    }


def test_findings_are_sorted_and_complete(tmp_path: Path) -> None:
    findings = load(render_json(sample_report(tmp_path)))["findings"]
    assert [f["severity"] for f in findings] == [
        "critical", "high", "high", "medium", "low", "info",
    ]  # fmt: skip
    top = findings[0]
    assert top["rule"] == "GA-TST-001"
    assert top["evidence"] == PAYLOAD
    assert top["location"] == {"path": str(tmp_path / "models" / "bad.pkl"), "opcode_index": 7}
    assert top["asset"]["path"] == str(tmp_path / "models" / "bad.pkl")
    assert top["remediation"] == "Fix GA-TST-001."
    assert top["refs"] == ["OWASP-LLM03:2025", "ATLAS-AML.T0010"]


def test_items_round_trip(tmp_path: Path) -> None:
    report = sample_report(tmp_path)
    items = load(render_json(report))["items"]
    assert items == [item.to_dict() for item in report.items]
    assert "size" not in items[6] and items[6]["detail"] == "Permission denied"


def test_hostile_strings_survive_as_data(tmp_path: Path) -> None:
    text = render_json(sample_report(tmp_path))
    assert "\x1b" not in text and "\x00" not in text  # escaped by the JSON encoder
    evidence = {f["evidence"] for f in load(text)["findings"]}
    assert HOSTILE in evidence


def test_clean_report(tmp_path: Path) -> None:
    data = load(render_json(empty_report(tmp_path)))
    assert data["failed"] is False
    assert data["findings"] == [] and data["items"] == []
    assert data["summary"]["items"]["total"] == 0


def test_naive_start_time_is_taken_as_utc(tmp_path: Path) -> None:
    report = empty_report(tmp_path)
    report.started_at = STARTED.replace(tzinfo=None)
    assert load(render_json(report))["started_at"] == "2025-01-02T03:04:05.678Z"


def test_started_at_parses_as_iso_8601(tmp_path: Path) -> None:
    value = load(render_json(empty_report(tmp_path)))["started_at"]
    assert datetime.fromisoformat(value) == STARTED


def test_failed_follows_fail_on(tmp_path: Path) -> None:
    report = sample_report(tmp_path, fail_on=Severity.CRITICAL)
    report.findings = [f for f in report.findings if f.severity < Severity.CRITICAL]
    assert load(render_json(report))["failed"] is False


def test_render_dispatches_to_json(tmp_path: Path) -> None:
    report = sample_report(tmp_path)
    assert render(report, "json") == render_json(report)


def test_documented_example_matches_the_schema(validator: jsonschema.Draft202012Validator) -> None:
    doc = (ROOT / "docs" / "report-format.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", doc, flags=re.S)
    example = next(load(b) for b in blocks if '"schema_version"' in b)
    validator.validate(example)
    assert example["schema_version"] == SCHEMA_VERSION


def test_every_schema_field_is_documented() -> None:
    doc = (ROOT / "docs" / "report-format.md").read_text(encoding="utf-8")
    schema = json.loads(
        resources.files("garrison.report").joinpath("report.schema.json").read_text()
    )
    fields = set(schema["properties"])
    for definition in ("finding", "location", "item", "asset"):
        fields |= set(schema["$defs"][definition]["properties"])
    missing = sorted(name for name in fields if f"`{name}`" not in doc)
    assert not missing, missing


def test_undecodable_file_names_can_still_be_written(tmp_path: Path) -> None:
    # A name byte that is not UTF-8 arrives as a lone surrogate (os.fsdecode, tarfile).
    name = str(tmp_path / "m\udcff.pkl")
    report = empty_report(tmp_path)
    report.findings = [finding("GA-TST-001", Severity.HIGH, name, "x", member="a\udc80.pkl")]
    report.items = [ScannedItem(name, "pickle", "scanned")]
    text = render_json(report)
    text.encode("utf-8")
    data = load(text)
    assert data["items"][0]["path"] == name
    assert data["findings"][0]["location"]["member"] == "a\udc80.pkl"
