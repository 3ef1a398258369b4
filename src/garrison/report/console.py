"""Human-readable reports: a Rich table in a terminal, plain aligned text everywhere else."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from garrison.findings import Finding, Severity

if TYPE_CHECKING:
    from garrison.report.model import Report

ProgressCallback = Callable[[int, int, str], None]

# Colour carries severity; the word is always printed too, so nothing depends on colour alone.
SEVERITY_STYLES: dict[Severity, str] = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}

# CI logs are not terminals: Rich would assume 80 columns and fold every path.
CI_WIDTH = 160
# In plain text the location column is padded to the longest location up to this width;
# longer ones are printed whole and push the title along rather than being cut.
LOCATION_COLUMN_MAX = 60
STATUS_ORDER = ("scanned", "partial", "unscanned", "skipped", "error")
# A terminal table of a hostile archive's 100,000 findings helps nobody and takes minutes
# to lay out; the most severe rows are shown and the rest counted (plain text lists all).
MAX_TABLE_ROWS = 500
# Below this many columns the table would crop its evidence column; rows are printed instead.
WIDE_TABLE = 120

__all__ = [
    "SEVERITY_STYLES",
    "print_report",
    "print_summary",
    "progress_bar",
    "render_plain",
    "summary_line",
]


def print_report(report: Report, console: Console | None = None) -> None:
    """Print the findings table and the summary line (plain text when not a colour terminal)."""
    console = console or _stdout_console()
    if _is_plain(console):
        console.out(render_plain(report).rstrip("\n"), highlight=False)
        return
    findings = report.sorted_findings()
    if findings and console.width < WIDE_TABLE:
        _print_rows(console, findings[:MAX_TABLE_ROWS])
    elif findings:
        console.print(_table(findings[:MAX_TABLE_ROWS]))
    else:
        console.print(Text("No findings.", style="bold green"))
    if len(findings) > MAX_TABLE_ROWS:
        hidden = len(findings) - MAX_TABLE_ROWS
        console.print(f"… {hidden} more findings not shown; --format json lists all", markup=False)
    console.print(_summary_text(report), soft_wrap=True)


def render_plain(report: Report) -> str:
    """The console report as plain text: no colour, no box drawing, nothing truncated."""
    findings = report.sorted_findings()
    lines: list[str] = []
    if findings:
        lines += _plain_rows(findings)
    else:
        lines.append("No findings.")
    lines += ["", summary_line(report)]
    return "\n".join(lines) + "\n"


def print_summary(report: Report, console: Console | None = None) -> None:
    """One line on stderr, for when the report itself went to a file."""
    console = console or Console(stderr=True, highlight=False)
    if _is_plain(console):
        console.out(summary_line(report), highlight=False)
    else:
        console.print(_summary_text(report), soft_wrap=True)


def summary_line(report: Report) -> str:
    """Verdict, counts by severity, what was scanned and how long it took, on one line."""
    verdict = "FAIL" if report.failed else "PASS"
    counts = report.counts()
    by_severity = ", ".join(f"{counts[s.value]} {s.value}" for s in Severity)
    findings = f"findings: {by_severity}" if report.findings else "no findings"
    # Runs that look at no files (model tests, data checks on one table) skip the file counts.
    files = (
        f"files: {_status_counts(report)} | " if report.items or report.command == "scan" else ""
    )
    return (
        f"{verdict} (fail-on {report.fail_on.value}) | {findings} | "
        f"{files}{report.duration_s:.2f} s"
    )


@contextmanager
def progress_bar(enabled: bool) -> Iterator[ProgressCallback | None]:
    """Yield a `(done, total, path)` callback driving a progress bar on stderr, or None.

    The bar appears only once a scan has more than one asset: a single file finishes
    before a bar would be worth drawing.
    """
    if not enabled:
        yield None
        return
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task: list[TaskID] = []

    def update(done: int, total: int, path: str) -> None:
        if total <= 1:
            return
        if not task:
            progress.start()
            task.append(progress.add_task("scanning", total=total))
        # The description is rendered as markup; a file named "[red]x" must stay literal.
        label = escape(_printable(_shorten(path))) if path else "done"
        progress.update(task[0], completed=done, total=total, description=label)

    try:
        yield update
    finally:
        progress.stop()


def _stdout_console() -> Console:
    width = None if sys.stdout.isatty() else CI_WIDTH
    return Console(width=width, highlight=False)


def _is_plain(console: Console) -> bool:
    return not console.is_terminal or console.no_color or console.is_dumb_terminal


def _print_rows(console: Console, findings: list[Finding]) -> None:
    """The plain layout in colour: in a narrow terminal five table columns would crop the
    evidence, and a finding's evidence is the part nobody may lose."""
    indent = " " * 10
    for f in findings:
        style = SEVERITY_STYLES[f.severity]
        head = Text.assemble(
            (f"{f.severity.value.upper():<8}", style),
            "  ",
            (f.rule, style),
            "  ",
            _printable(str(f.location)),
            "  ",
            (_printable(f.title), "bold"),
        )
        console.print(head, overflow="fold")
        if f.evidence:
            evidence = Text(f"{indent}evidence: {_printable(f.evidence)}", style="dim")
            console.print(evidence, overflow="fold")
    console.print()


def _table(findings: list[Finding]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_lines=False, header_style="bold", expand=False)
    table.add_column("severity", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("location", overflow="fold", min_width=20)
    table.add_column("title", overflow="fold", min_width=16)
    table.add_column("evidence", overflow="fold", min_width=20)
    for f in findings:
        style = SEVERITY_STYLES[f.severity]
        # Text objects, not markup strings: evidence and member names come from the
        # scanned file and may contain "[...]" that Rich would otherwise interpret.
        table.add_row(
            Text(f.severity.value, style=style),
            Text(f.rule, style=style),
            Text(_printable(str(f.location))),
            Text(_printable(f.title)),
            Text(_printable(f.evidence), style="dim" if f.severity is Severity.INFO else ""),
        )
    return table


def _plain_rows(findings: list[Finding]) -> list[str]:
    locations = [_printable(str(f.location)) for f in findings]
    rule_w = max(len("RULE"), *(len(f.rule) for f in findings))
    loc_w = min(LOCATION_COLUMN_MAX, max(len("LOCATION"), *(len(x) for x in locations)))
    sev_w = len("CRITICAL")
    indent = " " * (sev_w + 2)
    lines = [f"{'SEVERITY':<{sev_w}}  {'RULE':<{rule_w}}  {'LOCATION':<{loc_w}}  TITLE"]
    for f, location in zip(findings, locations, strict=True):
        title = _printable(f.title)
        lines.append(
            f"{f.severity.value.upper():<{sev_w}}  {f.rule:<{rule_w}}  {location:<{loc_w}}  {title}"
        )
        if f.evidence:
            # Evidence gets its own line so a payload is never split across wrapped rows
            # and stays greppable in CI logs.
            lines.append(f"{indent}evidence: {_printable(f.evidence)}")
    return lines


def _summary_text(report: Report) -> Text:
    style = "bold red" if report.failed else "bold green"
    line = summary_line(report)
    verdict, _, rest = line.partition(" ")
    return Text.assemble((verdict, style), " ", rest)


def _status_counts(report: Report) -> str:
    from garrison.report.json import status_by_path

    counts = Counter(status_by_path(report.items).values())
    if not counts:
        return "none"
    known = [s for s in STATUS_ORDER if counts[s]]
    other = sorted(s for s in counts if s not in STATUS_ORDER)
    return ", ".join(f"{counts[s]} {_printable(s)}" for s in (*known, *other))


def _shorten(path: str, limit: int = 60) -> str:
    return path if len(path) <= limit else "…" + path[-(limit - 1) :]


def _printable(text: str) -> str:
    """Escape control characters (ANSI escapes, bidi overrides, newlines) from scanned files.

    Archive member names and titles reach the terminal and CI logs; an ESC sequence or a
    newline followed by `::` must not be able to rewrite the screen or inject log commands.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
