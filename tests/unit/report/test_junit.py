"""JUnit XML: parseable whatever the evidence holds, with counts that agree with the verdict."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.findings import Severity
from garrison.report import render
from garrison.report.junit import render_junit
from garrison.report.model import ScannedItem
from tests.unit.report import HOSTILE, PAYLOAD, empty_report, finding, sample_report

# Every character below U+0020, plus what XML 1.0 also forbids or escapes specially.
# U+DCFF is how os.fsdecode and tarfile carry a name byte that is not valid UTF-8.
NASTY = "".join(chr(c) for c in range(32)) + "\udcff\ufffe\uffff]]><x a='1'>&amp;\u202e"


def parse(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))


def suite_of(text: str) -> ET.Element:
    suite = parse(text).find("testsuite")
    assert suite is not None
    return suite


def cases_by_name(suite: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in suite.iter("testcase")}


def test_parses_with_one_suite_and_a_case_per_item(tmp_path: Path) -> None:
    report = sample_report(tmp_path)
    root = parse(render_junit(report))
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "garrison scan"
    assert list(cases_by_name(suite)) == [item.path for item in report.items]
    assert suite.get("tests") == str(len(report.items)) == root.get("tests")


def test_failures_are_findings_at_or_above_fail_on(tmp_path: Path) -> None:
    suite = suite_of(render_junit(sample_report(tmp_path)))
    cases = cases_by_name(suite)
    bad = cases[str(tmp_path / "models" / "bad.pkl")]
    (failure,) = bad.findall("failure")
    assert failure.get("type") == "GA-TST-001"
    assert failure.get("message") == "[critical] GA-TST-001 Title of GA-TST-001"
    assert PAYLOAD in (failure.text or "")
    member = cases[str(tmp_path / "models" / "model.zip") + "!archive/data.pkl"]
    assert [f.get("type") for f in member.findall("failure")] == ["GA-TST-001", "GA-TST-002"]
    assert suite.get("failures") == "2"
    assert suite.get("errors") == "0"


def test_milder_findings_go_to_system_out(tmp_path: Path) -> None:
    cases = cases_by_name(suite_of(render_junit(sample_report(tmp_path))))
    spaced = cases[str(tmp_path / "my models" / "weights #1.pt")]
    assert spaced.find("failure") is None
    out = spaced.findtext("system-out") or ""
    assert "LOW GA-TST-004" in out and "remediation: Fix GA-TST-004." in out
    assert spaced.find("skipped") is not None  # unscanned, nothing failing


def test_fail_on_moves_findings_between_failure_and_system_out(tmp_path: Path) -> None:
    suite = suite_of(render_junit(sample_report(tmp_path, fail_on=Severity.CRITICAL)))
    assert suite.get("failures") == "1"
    suite = suite_of(render_junit(sample_report(tmp_path, fail_on=Severity.INFO)))
    assert suite.get("failures") == "5"  # every case with a finding


def test_skipped_counts_unscanned_and_skipped_items(tmp_path: Path) -> None:
    suite = suite_of(render_junit(sample_report(tmp_path)))
    assert suite.get("skipped") == "2"
    reasons = {s.get("message") for s in suite.iter("skipped")}
    assert reasons == {"unscanned: TFLite", "skipped: not this format"}


def test_member_finding_without_its_own_item_goes_to_enclosing_archive(tmp_path: Path) -> None:
    cases = cases_by_name(suite_of(render_junit(sample_report(tmp_path))))
    inner = cases[str(tmp_path / "models" / "model.zip") + "!inner.tar"]
    assert "GA-TST-003" in (inner.findtext("system-out") or "")


def test_finding_without_an_item_gets_its_own_case(tmp_path: Path) -> None:
    report = empty_report(tmp_path)
    report.findings = [finding("GA-TST-006", Severity.HIGH, str(tmp_path / "models"), "dir")]
    cases = cases_by_name(suite_of(render_junit(report)))
    assert list(cases) == [str(tmp_path / "models")]
    assert cases[str(tmp_path / "models")].find("failure") is not None


def test_hostile_evidence_and_names_stay_well_formed(tmp_path: Path) -> None:
    report = empty_report(tmp_path)
    path = str(tmp_path / f"m{NASTY}.pkl")
    report.findings = [
        finding("GA-TST-001", Severity.CRITICAL, path, NASTY, member=NASTY),
        finding("GA-TST-002", Severity.LOW, path, HOSTILE),
    ]
    text = render_junit(report)
    suite = suite_of(text)
    failure = next(suite.iter("failure"))
    body = failure.text or ""
    assert "\\x00" in body and "\\x1b" in body and "\\udcff" in body and "\\uffff" in body
    assert "]]><x a='1'>&amp;" in body  # markup-like text is data, not XML
    assert "\t" in body and "\n" in body  # allowed characters are kept
    assert "::error::pwned" in (next(suite.iter("system-out")).text or "")


def test_empty_report_has_one_passing_case(tmp_path: Path) -> None:
    suite = suite_of(render_junit(empty_report(tmp_path)))
    (case,) = suite.iter("testcase")
    assert case.get("name") == str(tmp_path)
    assert suite.get("tests") == "1" and suite.get("failures") == "0"


def test_properties_record_the_run(tmp_path: Path) -> None:
    suite = suite_of(render_junit(sample_report(tmp_path)))
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["fail_on"] == "high" and props["failed"] == "true"
    assert props["command"] == "scan" and props["targets"] == str(tmp_path)
    assert suite.get("time") == "1.250"
    assert suite.get("timestamp") == "2025-01-02T03:04:05.678"


def test_render_dispatches_to_junit(tmp_path: Path) -> None:
    report = sample_report(tmp_path)
    assert render(report, "junit") == render_junit(report)


def test_member_names_full_of_separators_stay_linear(tmp_path: Path) -> None:
    # Walking up 30,000 "!" levels would copy gigabytes; the walk is bounded instead.
    report = empty_report(tmp_path)
    path = str(tmp_path / "a.zip")
    member = "!".join(["x"] * 30_000)
    report.findings = [
        finding("GA-TST-001", Severity.HIGH, path, "x", member=member) for _ in range(20)
    ]
    suite = suite_of(render_junit(report))
    assert list(cases_by_name(suite)) == [path]


def test_items_of_one_path_merge_into_one_case(tmp_path: Path) -> None:
    # A PyTorch checkpoint is read as tensor data (skipped), a zip and a PyTorch archive.
    path = str(tmp_path / "checkpoint.pt")
    report = empty_report(tmp_path)
    report.items = [
        ScannedItem(path, "tensor-data", "skipped", None, "heads sniffed"),
        ScannedItem(path, "zip:pytorch", "scanned", None, "3 members"),
        ScannedItem(path, "zip", "scanned"),
    ]
    (case,) = suite_of(render_junit(report)).iter("testcase")
    assert case.get("classname") == "garrison.scan.zip:pytorch"
    assert case.find("skipped") is None


@settings(max_examples=200, deadline=None)
@given(evidence=st.text(), member=st.text(min_size=1), title=st.text())
def test_any_text_gives_well_formed_xml(evidence: str, member: str, title: str) -> None:
    root = Path("/models")
    report = empty_report(root)
    f = finding("GA-TST-001", Severity.CRITICAL, "/models/m.zip", evidence, member=member)
    report.findings = [replace(f, title=title)]
    suite = suite_of(render_junit(report))
    assert suite.get("failures") == "1"
