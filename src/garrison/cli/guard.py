"""`garrison guard`: run the input guards on text, or on every line of a JSON-lines file."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from garrison.cli.errors import EXIT_FINDINGS, handle_errors

MAX_LINE_BYTES = 10 * 1024 * 1024


class GuardFormat(StrEnum):
    console = "console"
    json = "json"
    jsonl = "jsonl"


@handle_errors
def guard_command(
    text: Annotated[str | None, typer.Argument(metavar="TEXT", help="Text to check.")] = None,
    input_file: Annotated[
        Path | None, typer.Option("--input", help="JSON-lines file: one text per line.")
    ] = None,
    text_field: Annotated[
        str, typer.Option(help="Field of each line that holds the text.")
    ] = "text",
    fmt: Annotated[
        GuardFormat, typer.Option("--format", "-f", help="Output format.")
    ] = GuardFormat.console,
    threshold: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=1.0, help="Injection score that flags, 0-1 (default: the model's)."
        ),
    ] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks and debug logs.")] = False,
) -> None:
    """Score prompt injection and run the input guards; exit 1 when something is flagged."""
    from garrison.errors import UsageError

    if (text is None) == (input_file is None):
        raise UsageError("give TEXT, or --input FILE.jsonl (not both)")
    if input_file is not None:
        numbered = list(_read_lines(input_file, text_field))
        lines, texts = [n for n, _ in numbered], [t for _, t in numbered]
    else:
        lines, texts = [1], [text or ""]
    results = check_texts(texts, threshold)
    if input_file is not None:  # which input line each result answers (blank lines are skipped)
        results = [{"line": n, **r} for n, r in zip(lines, results, strict=True)]
    flagged = any(r["flagged"] or r["blocked"] for r in results)
    if fmt is GuardFormat.jsonl:
        for r in results:
            sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
    elif fmt is GuardFormat.json:
        sys.stdout.write(json.dumps({"results": results}, indent=2, ensure_ascii=False) + "\n")
    else:
        for n, r in zip(lines, results, strict=True):
            mark = "FLAGGED" if r["flagged"] else ("BLOCKED" if r["blocked"] else "ok")
            if mark == "ok" and r["verdict"] != "allow":
                mark = r["verdict"].upper()  # e.g. REDACT: a guard rewrote the text
            rules = ", ".join(sorted({f["rule"] for f in r["findings"]})) or "-"
            print(f"{n:>5}  {mark:<8} injection {r['score']:.3f}  {rules}")
    if flagged:
        raise typer.Exit(EXIT_FINDINGS)


def _read_lines(path: Path, field: str) -> Iterator[tuple[int, str]]:
    from garrison.errors import UsageError

    try:
        handle = path.open("rb")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            if len(raw) > MAX_LINE_BYTES:
                raise UsageError(f"{path}:{number}: line longer than {MAX_LINE_BYTES} bytes")
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except ValueError:
                raise UsageError(f"{path}:{number}: not a JSON object") from None
            value = row.get(field) if isinstance(row, dict) else None
            if not isinstance(value, str):
                raise UsageError(f"{path}:{number}: no text field {field!r}")
            yield number, value


def check_texts(texts: list[str], threshold: float | None = None) -> list[dict[str, Any]]:
    """Injection score (batched) plus the other input guards, one result per text, in order."""
    from garrison.llm import Guard
    from garrison.llm.injection import InjectionScanner

    scanner = InjectionScanner(threshold=threshold)
    scores = scanner.scan_batch(texts)
    guard = Guard()
    out = []
    for text, score in zip(texts, scores, strict=True):
        result = guard.scan_input(text)
        guard.vault.clear()
        flagged = bool(score >= scanner.threshold)
        findings = [f.to_dict() for f in result.findings]
        if flagged:
            findings = [f.to_dict() for f in scanner.scan(text).findings] + findings
        out.append(
            {
                "score": round(float(score), 6),
                "flagged": flagged,
                "blocked": result.blocked,
                "verdict": "block" if flagged else result.verdict.value,
                "findings": findings,
            }
        )
    return out
