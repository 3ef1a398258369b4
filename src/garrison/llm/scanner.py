"""The one scanner interface of the LLM guards, and the pipeline that composes them.

Every guard takes text and returns a ScanResult: a verdict, a score in [0, 1], the findings,
and the text to pass on (sanitised where the guard rewrites, else the original). A pipeline
runs guards in order, feeds each the text the previous one produced, and turns a guard that
raises into an ERROR result that its `on_error` policy resolves to block or allow: a failing
guard is never a silent pass.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from garrison.assets import Asset
from garrison.errors import UsageError
from garrison.findings import Finding, Location

log = logging.getLogger(__name__)

DEFAULT_ASSET = Asset(uri="llm:app", kind="llm-app")
# What one guard reads at most when used alone (longer text blocks); a Guard cuts text far
# earlier with LengthLimit. At this size the slowest guard (PII) takes ~0.4 s.
MAX_SCAN_CHARS = 1 << 19
MAX_PAYLOADS = 8  # decoded hidden payloads re-checked per text
MAX_FINDINGS = 50  # findings one scanner reports per text; the verdict still counts all


class Verdict(StrEnum):
    ALLOW = "allow"
    REDACT = "redact"
    BLOCK = "block"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Verdict.ALLOW: 0, Verdict.REDACT: 1, Verdict.ERROR: 2, Verdict.BLOCK: 3}


@dataclass(frozen=True, slots=True)
class GuardContext:
    """What a guard may need besides the text: where it runs and on what asset."""

    stage: str = "input"  # "input" (user to model) or "output" (model to user)
    asset: Asset = DEFAULT_ASSET
    recheck: bool = False  # True while re-checking a decoded hidden payload


@dataclass(frozen=True, slots=True)
class ScanResult:
    verdict: Verdict
    score: float
    findings: tuple[Finding, ...]
    text: str
    details: dict[str, Any] = field(default_factory=dict)
    scanner: str = ""
    payloads: tuple[str, ...] = ()  # decoded hidden text for the guards after this one

    @property
    def blocked(self) -> bool:
        return self.verdict is Verdict.BLOCK

    def to_dict(self) -> dict[str, Any]:
        return {
            "scanner": self.scanner,
            "verdict": self.verdict.value,
            "score": round(self.score, 4),
            "findings": [f.to_dict() for f in self.findings],
            "details": self.details,
        }


@runtime_checkable
class Scanner(Protocol):
    name: str

    def scan(self, text: str, context: GuardContext | None = None) -> ScanResult: ...


def pack(texts: Sequence[str], slots: int = MAX_PAYLOADS) -> tuple[str, ...]:
    """At most `slots` texts: the ones past the last slot are joined into it, never dropped."""
    if len(texts) <= slots:
        return tuple(texts)
    return (*texts[: slots - 1], "\n".join(texts[slots - 1 :]))


def result(
    scanner: str,
    text: str,
    findings: Sequence[Finding] = (),
    verdict: Verdict | None = None,
    score: float | None = None,
    **details: Any,
) -> ScanResult:
    """A ScanResult whose verdict defaults to ALLOW without findings and REDACT with them."""
    if verdict is None:
        verdict = Verdict.REDACT if findings else Verdict.ALLOW
    if score is None:
        score = 1.0 if verdict is Verdict.BLOCK else (0.5 if findings else 0.0)
    return ScanResult(verdict, score, tuple(findings), text, details, scanner)


def over_limit(scanner: str, text: str, limit: int, context: GuardContext) -> ScanResult | None:
    """A BLOCK result when `text` is longer than a guard reads: unread text is never passed."""
    if len(text) <= limit:
        return None
    from garrison.llm.rules import LENGTH_LIMIT

    finding = LENGTH_LIMIT.finding(
        context.asset, Location(offset=limit), f"{len(text)} characters, {scanner} reads {limit}"
    )
    return result(scanner, text[:limit], [finding], Verdict.BLOCK)


def _error_result(scanner: str, text: str, exc: BaseException, context: GuardContext) -> ScanResult:
    from garrison.llm.rules import GUARD_ERROR

    log.warning("guard %s failed: %s: %s", scanner, type(exc).__name__, exc)
    finding = GUARD_ERROR.finding(context.asset, Location(), f"{scanner}: {type(exc).__name__}")
    return ScanResult(
        Verdict.ERROR,
        1.0,
        (finding,),
        text,
        {"error": f"{type(exc).__name__}: {exc}"[:300]},
        scanner,
    )


def run_scanner(scanner: Scanner, text: str, context: GuardContext) -> ScanResult:
    """`scanner.scan`, with any exception (even a bad return value) turned into ERROR."""
    name = str(getattr(scanner, "name", type(scanner).__name__))
    try:
        outcome = scanner.scan(text, context)
        if not isinstance(outcome, ScanResult):
            raise TypeError(f"returned {type(outcome).__name__}, not ScanResult")
    except Exception as exc:  # a guard's failure must surface as a verdict, not a crash
        return _error_result(name, text, exc, context)
    if len(outcome.findings) > MAX_FINDINGS:
        outcome = dataclasses.replace(outcome, findings=outcome.findings[:MAX_FINDINGS])
    return outcome if outcome.scanner else dataclasses.replace(outcome, scanner=name)


class Pipeline:
    """Scanners run in order; each sees the text the one before produced.

    Decoded hidden payloads reported by a scanner (base64, tag characters...) are re-checked
    by every scanner after it; anything found there blocks, since it cannot be redacted in
    place. `on_error` says what a failing scanner means: "block" (the default) or "allow"
    (the error is still reported in the findings and in details["errors"]).
    """

    name = "pipeline"

    def __init__(
        self, scanners: Iterable[Scanner], on_error: str = "block", fail_fast: bool = True
    ) -> None:
        if on_error not in ("block", "allow"):
            raise UsageError(f"on_error must be 'block' or 'allow', not {on_error!r}")
        self.scanners = tuple(scanners)
        self.on_error = on_error
        self.fail_fast = fail_fast

    def scan(self, text: str, context: GuardContext | None = None) -> ScanResult:
        ctx = context or GuardContext()
        results: list[ScanResult] = []
        payloads: list[str] = []
        current = text
        for scanner in self.scanners:
            outcome = run_scanner(scanner, current, ctx)
            outcome = self._recheck(scanner, outcome, payloads, ctx)
            results.append(outcome)
            if outcome.verdict is not Verdict.ERROR:
                current = outcome.text
            payloads = list(pack([*payloads, *outcome.payloads]))
            if self.fail_fast and self._resolve(outcome.verdict) is Verdict.BLOCK:
                break
        return self._combine(results, current)

    def _recheck(
        self, scanner: Scanner, outcome: ScanResult, payloads: list[str], ctx: GuardContext
    ) -> ScanResult:
        hidden: list[Finding] = []
        sub_ctx = dataclasses.replace(ctx, recheck=True)
        for payload in payloads:
            sub = run_scanner(scanner, payload, sub_ctx)
            hidden += [
                dataclasses.replace(f, evidence=f"in decoded hidden text: {f.evidence}")
                for f in sub.findings
            ]
        if not hidden:
            return outcome
        return dataclasses.replace(
            outcome,
            verdict=Verdict.BLOCK,
            score=1.0,
            findings=outcome.findings + tuple(hidden),
        )

    def _resolve(self, verdict: Verdict) -> Verdict:
        if verdict is Verdict.ERROR:
            return Verdict.BLOCK if self.on_error == "block" else Verdict.ALLOW
        return verdict

    def _combine(self, results: list[ScanResult], text: str) -> ScanResult:
        verdict = max(
            (self._resolve(r.verdict) for r in results), key=lambda v: v.rank, default=Verdict.ALLOW
        )
        findings = tuple(f for r in results for f in r.findings)
        errors = {
            r.scanner: r.details.get("error", "") for r in results if r.verdict is Verdict.ERROR
        }
        details = {"results": [r.to_dict() for r in results], "errors": errors}
        score = max((r.score for r in results), default=0.0)
        return ScanResult(verdict, score, findings, text, details, self.name)
