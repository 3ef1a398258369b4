"""Compliance reports: statuses per framework item, JSON and HTML output, and the CLI."""

from __future__ import annotations

import importlib
import json
import pickle
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from garrison.cli.main import app
from garrison.errors import UsageError
from garrison.report.compliance import (
    COMMAND_RULES,
    compliance_dict,
    compliance_report,
)
from garrison.report.compliance_html import render_compliance_html
from garrison.report.json import render_json
from garrison.rules import CATALOG_MODULES
from garrison.supplychain import scan_path
from tests.unit.supplychain.helpers import Payload

runner = CliRunner()
HOSTILE_ARG = "echo <script>alert(1)</script>&<img src=x onerror=alert(2)>"


class HostilePayload:
    """Pickles to os.system with markup in its argument; written by the test, never loaded."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, (HOSTILE_ARG,))


def scan_json(tmp_path: Path, payload: object, name: str = "scan.json") -> Path:
    model = tmp_path / f"{name}.pkl"
    model.write_bytes(pickle.dumps(payload, protocol=2))
    out = tmp_path / name
    out.write_text(render_json(scan_path(model)), encoding="utf-8")
    return out


def by_id(report: object) -> dict[str, dict[str, object]]:
    return {i["id"]: i for i in compliance_dict(report)["items"]}  # type: ignore[arg-type]


def test_pickle_finding_puts_supply_chain_item_in_findings(tmp_path: Path) -> None:
    items = by_id(compliance_report("owasp-llm", [scan_json(tmp_path, Payload())]))
    supply = items["OWASP-LLM03:2025"]
    assert supply["status"] == "findings"
    assert supply["by_severity"] == {"critical": 1}
    assert supply["rules_fired"] == {"GA-PKL-001": 1}
    assert items["OWASP-LLM01:2025"]["status"] == "not-run"  # no guard or redteam input
    assert items["OWASP-LLM09:2025"]["status"] == "team-evidence"
    assert items["OWASP-LLM09:2025"]["evidence"]


def test_clean_scan_marks_its_items_checked_clean(tmp_path: Path) -> None:
    items = by_id(compliance_report("owasp-ml", [scan_json(tmp_path, {"weights": [1, 2]})]))
    assert items["OWASP-ML06:2023"]["status"] == "checked-clean"
    assert items["OWASP-ML01:2023"]["status"] == "not-run"  # only `test evasion` runs it


def test_iso_42001_items_follow_their_mapping(tmp_path: Path) -> None:
    items = by_id(compliance_report("iso-42001", [scan_json(tmp_path, Payload())]))
    assert items["ISO-42001-A.10.3"]["status"] == "findings"
    assert items["ISO-42001-A.2.2"]["status"] == "team-evidence"


def test_guard_output_counts_as_input_guard_run() -> None:
    guard = {"results": [{"flagged": False, "blocked": False, "findings": []}]}
    items = by_id(compliance_report("owasp-llm", [guard]))
    assert items["OWASP-LLM01:2025"]["status"] == "checked-clean"


def test_every_rule_run_by_a_command_is_mapped() -> None:
    prefixes = tuple(p for ps in COMMAND_RULES.values() for p in ps)
    # Provenance gates and output guards have no command that writes a report of them.
    unmapped = {"garrison.supplychain.provenance.rules", "garrison.llm.rules"}
    for name in set(CATALOG_MODULES) - unmapped:
        for rule in importlib.import_module(name).RULES:
            assert rule.id.startswith(prefixes), rule.id


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_html_escapes_hostile_evidence_and_draws_svg_charts(tmp_path: Path) -> None:
    html = render_compliance_html(
        compliance_report("owasp-llm", [scan_json(tmp_path, HostilePayload())])
    )
    parser = _Tags()
    parser.feed(html)
    assert "svg" in parser.tags and "rect" in parser.tags
    assert "script" not in parser.tags and "img" not in parser.tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "default-src 'none'" in html


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "not JSON"),
        (b'{"tool": {"name": "other"}, "command": "scan", "findings": []}', "not a Garrison"),
        (b'{"tool": {"name": "garrison"}, "command": "scan", "findings": [1]}', "not a Garrison"),
        (b"[]", "not a Garrison"),
    ],
)
def test_inputs_that_are_not_garrison_reports_are_refused(
    tmp_path: Path, content: bytes, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    with pytest.raises(UsageError, match=message):
        compliance_report("owasp-llm", [bad])


def test_cli_writes_json_and_html(tmp_path: Path) -> None:
    scan = scan_json(tmp_path, Payload())
    out = tmp_path / "owasp.json"
    result = runner.invoke(app, ["report", "--framework", "owasp-llm", str(scan), "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["framework"]["id"] == "owasp-llm"
    assert data["summary"]["items"]["findings"] >= 1
    result = runner.invoke(app, ["report", "--framework", "eu-ai-act", str(scan), "-f", "html"])
    assert result.exit_code == 0 and "<svg" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--framework", "owasp-top10"], "unknown framework 'owasp-top10'"),
        (["--framework", "owasp-llm"], "missing.json: No such file"),
    ],
)
def test_cli_user_mistakes_exit_2_with_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    wrong = str(tmp_path / "missing.json")
    if "unknown" in message:
        wrong = str(scan_json(tmp_path, Payload()))
    result = runner.invoke(app, ["report", *args, wrong])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_report_of_a_later_schema_major_is_refused(tmp_path: Path) -> None:
    path = scan_json(tmp_path, {"weights": [1.0]})
    data = json.loads(path.read_text())
    data["schema_version"] = "2.0"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["report", "--framework", "owasp-llm", str(path)])
    assert result.exit_code == 2
    assert "report schema 2.0; this Garrison reads 1.x" in result.output
    data["schema_version"] = "1.3"  # a later minor only adds fields: still read
    path.write_text(json.dumps(data))
    assert runner.invoke(app, ["report", "--framework", "owasp-llm", str(path)]).exit_code == 0
