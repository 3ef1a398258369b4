"""The console report: what a person sees in a terminal and what CI logs keep."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from garrison.findings import Severity
from garrison.report import render
from garrison.report.console import (
    CI_WIDTH,
    MAX_TABLE_ROWS,
    print_report,
    print_summary,
    progress_bar,
    render_plain,
    summary_line,
)
from garrison.report.model import ScannedItem
from tests.unit.report import PAYLOAD, empty_report, finding, sample_report

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def terminal(width: int = 200) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=True, width=width, color_system="standard"), buf


def test_plain_lists_findings_most_severe_first(tmp_path: Path) -> None:
    text = render_plain(sample_report(tmp_path))
    table = text.split("\n\n")[0].splitlines()
    rows = [line.split()[0] for line in table if not line.startswith(" ")]
    assert rows == ["SEVERITY", "CRITICAL", "HIGH", "HIGH", "MEDIUM", "LOW", "INFO"]


def test_plain_keeps_evidence_and_paths_whole_on_one_line(tmp_path: Path) -> None:
    report = sample_report(tmp_path)
    text = render_plain(report)
    assert f"evidence: {PAYLOAD}" in text.splitlines()[2]
    for f in report.findings:
        assert f.rule in text
    assert str(tmp_path / "my models" / "weights #1.pt") + " @4096" in text
    assert "…" not in text


def test_plain_has_no_colour_or_box_drawing(tmp_path: Path) -> None:
    text = render_plain(sample_report(tmp_path))
    assert "\x1b" not in text
    assert not set(text) & set("─│┃━┏┓┗┛╭╮╰╯")


def test_hostile_strings_cannot_control_terminal_or_ci_log(tmp_path: Path) -> None:
    text = render_plain(sample_report(tmp_path))
    assert "\x1b" not in text and "\x00" not in text and "\u202e" not in text
    assert not any(line.startswith("::") for line in text.splitlines())
    assert "\\x1b[2J" in text and "\\n::error::pwned" in text


def test_undecodable_file_names_are_escaped(tmp_path: Path) -> None:
    report = empty_report(tmp_path)
    report.findings = [finding("GA-TST-001", Severity.HIGH, str(tmp_path / "m\udcff.pkl"), "x")]
    text = render_plain(report)
    text.encode("utf-8")
    assert "m\\udcff.pkl" in text


def test_summary_line_counts_and_verdict(tmp_path: Path) -> None:
    line = summary_line(sample_report(tmp_path))
    assert line.startswith("FAIL (fail-on high)")
    assert "1 critical, 2 high, 1 medium, 1 low, 1 info" in line
    assert "files: 4 scanned, 1 partial, 1 unscanned, 1 skipped, 1 error" in line
    assert "1.25 s" in line


def test_summary_counts_each_path_once(tmp_path: Path) -> None:
    path = str(tmp_path / "checkpoint.pt")
    report = empty_report(tmp_path)
    report.items = [
        ScannedItem(path, "tensor-data", "skipped"),
        ScannedItem(path, "zip", "scanned"),
        ScannedItem(f"{path}!data.pkl", "pickle", "scanned"),
        ScannedItem(str(tmp_path / "x.7z"), "7z", "unscanned"),
        ScannedItem(str(tmp_path / "x.7z"), "zip", "scanned"),
    ]
    assert "files: 2 scanned, 1 unscanned |" in summary_line(report)


def test_verdict_follows_fail_on(tmp_path: Path) -> None:
    report = sample_report(tmp_path)
    report.findings = [f for f in report.findings if f.severity < Severity.HIGH]
    assert summary_line(report).startswith("PASS (fail-on high)")
    report.fail_on = Severity.MEDIUM
    assert summary_line(report).startswith("FAIL (fail-on medium)")


def test_clean_result_says_so(tmp_path: Path) -> None:
    text = render_plain(empty_report(tmp_path))
    assert text.startswith("No findings.")
    assert "PASS" in text and "no findings" in text and "files: none" in text


def test_render_console_format_is_plain_text(tmp_path: Path) -> None:
    report = sample_report(tmp_path)
    assert render(report, "console") == render_plain(report)


def test_print_report_to_a_pipe_is_the_plain_text(tmp_path: Path) -> None:
    report = sample_report(tmp_path)
    buf = io.StringIO()
    print_report(report, Console(file=buf, width=40))
    assert buf.getvalue() == render_plain(report)


def test_print_report_default_console_when_stdout_is_not_a_tty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = sample_report(tmp_path)
    print_report(report)
    assert capsys.readouterr().out == render_plain(report)


def test_no_color_gives_plain_text_even_in_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    console, buf = terminal()
    report = sample_report(tmp_path)
    print_report(report, console)
    assert buf.getvalue() == render_plain(report)


def test_terminal_table_colours_severity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    console, buf = terminal()
    print_report(sample_report(tmp_path), console)
    out = buf.getvalue()
    assert "\x1b[1;31mcritical" in out  # bold red
    assert "\x1b[31mhigh" in out
    assert "\x1b[33mmedium" in out
    assert "\x1b[36mlow" in out
    assert "\x1b[2minfo" in out
    plain = ANSI.sub("", out)
    for header in ("severity", "rule", "location", "title", "evidence"):
        assert header in plain
    assert PAYLOAD in plain
    assert "FAIL" in plain.splitlines()[-1]


def test_terminal_table_does_not_interpret_markup_or_escapes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    console, buf = terminal()
    print_report(sample_report(tmp_path), console)
    plain = ANSI.sub("", buf.getvalue())
    assert "[boldred]x[/]" in re.sub(r"\s", "", plain)
    assert "\x1b[2J" not in buf.getvalue()


def test_terminal_clean_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    console, buf = terminal()
    print_report(empty_report(tmp_path), console)
    plain = ANSI.sub("", buf.getvalue())
    assert "No findings." in plain and "PASS" in plain


def test_long_paths_are_folded_not_truncated_in_a_narrow_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    console, buf = terminal(width=100)
    report = sample_report(tmp_path / ("deep" * 20))
    print_report(report, console)
    plain = ANSI.sub("", buf.getvalue())
    assert "…" not in plain
    assert "bad.pkl" in plain


def test_terminal_table_is_capped_and_says_how_many_are_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    report = empty_report(tmp_path)
    path = str(tmp_path / "a.zip")
    report.findings = [
        finding("GA-TST-001", Severity.LOW, path, f"e{i}", member=f"m{i}.pkl")
        for i in range(MAX_TABLE_ROWS + 7)
    ]
    console, buf = terminal()
    print_report(report, console)
    plain = ANSI.sub("", buf.getvalue())
    assert "… 7 more findings not shown" in plain
    assert len(render_plain(report).splitlines()) == 2 * (MAX_TABLE_ROWS + 7) + 3


def test_ci_width_is_wide_enough_for_paths() -> None:
    assert CI_WIDTH >= 120


def test_print_summary_writes_one_line_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = sample_report(tmp_path)
    print_summary(report)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == summary_line(report) + "\n"


def test_progress_bar_disabled_yields_none() -> None:
    with progress_bar(enabled=False) as callback:
        assert callback is None


def test_progress_bar_accepts_hostile_paths_and_single_files() -> None:
    with progress_bar(enabled=True) as callback:
        assert callback is not None
        callback(0, 1, "only.pkl")  # a single file never shows a bar
        for done in range(3):
            callback(done, 3, f"[/bad markup]{done}\x1b[2J.pkl")
        callback(3, 3, "")


@settings(max_examples=200, deadline=None)
@given(evidence=st.text(), member=st.text(min_size=1))
def test_any_text_prints_as_printable_lines(evidence: str, member: str) -> None:
    report = empty_report(Path("/models"))
    report.findings = [
        finding("GA-TST-001", Severity.HIGH, "/models/m.zip", evidence, member=member)
    ]
    text = render_plain(report)
    text.encode("utf-8")
    assert all(line.isprintable() for line in text.splitlines())
    assert len(text.splitlines()) == (5 if evidence else 4)


@pytest.mark.parametrize("width", [60, 80, 100])
def test_a_narrow_terminal_loses_no_evidence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    console, buf = terminal(width=width)
    report = sample_report(tmp_path)
    print_report(report, console)
    out = buf.getvalue()
    assert "\x1b[1;31mCRITICAL" in out  # still coloured by severity
    text = re.sub(r"\s", "", ANSI.sub("", out))
    for f in report.findings:  # every evidence and title whole, wrapped but never cropped
        if f.evidence.isprintable():  # the hostile one is escaped, as other tests check
            assert re.sub(r"\s", "", f.evidence) in text
        assert re.sub(r"\s", "", f.title) in text
