import pytest

from garrison.errors import UsageError
from garrison.findings import Severity
from garrison.llm import GuardContext, Pipeline, Scanner, ScanResult, Verdict
from garrison.llm.rules import GUARD_ERROR


class Upper:
    name = "upper"

    def scan(self, text: str, context: GuardContext | None = None) -> ScanResult:
        return ScanResult(Verdict.REDACT, 0.5, (), text.upper())


class Record:
    name = "record"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def scan(self, text: str, context: GuardContext | None = None) -> ScanResult:
        self.seen.append(text)
        return ScanResult(Verdict.ALLOW, 0.0, (), text)


class Explode:
    name = "explode"

    def scan(self, text: str, context: GuardContext | None = None) -> ScanResult:
        raise RuntimeError("model failed to load")


class WrongType:
    name = "wrong"

    def scan(self, text: str, context: GuardContext | None = None) -> ScanResult:
        return "allow"  # type: ignore[return-value]


def test_scanners_satisfy_the_protocol() -> None:
    assert isinstance(Upper(), Scanner)
    assert isinstance(Pipeline([]), Scanner)


def test_sanitised_text_flows_forward() -> None:
    record = Record()
    outcome = Pipeline([Upper(), record]).scan("hello")
    assert record.seen == ["HELLO"]
    assert outcome.text == "HELLO"
    assert outcome.verdict is Verdict.REDACT
    assert [r["scanner"] for r in outcome.details["results"]] == ["upper", "record"]


def test_a_raising_scanner_blocks_by_default() -> None:
    record = Record()
    outcome = Pipeline([Explode(), record], fail_fast=False).scan("hi")
    assert outcome.verdict is Verdict.BLOCK
    assert outcome.findings[0].rule == GUARD_ERROR.id
    assert "RuntimeError" in outcome.details["errors"]["explode"]
    assert record.seen == ["hi"]  # the failing guard's text is the original


def test_on_error_allow_allows_but_reports() -> None:
    outcome = Pipeline([Explode(), Upper()], on_error="allow").scan("hi")
    assert outcome.verdict is Verdict.REDACT
    assert outcome.text == "HI"
    assert "explode" in outcome.details["errors"]
    assert any(f.rule == GUARD_ERROR.id and f.severity is Severity.MEDIUM for f in outcome.findings)


def test_a_scanner_returning_garbage_is_an_error() -> None:
    outcome = Pipeline([WrongType()], on_error="block").scan("x")
    assert outcome.verdict is Verdict.BLOCK
    assert "TypeError" in outcome.details["errors"]["wrong"]


def test_fail_fast_stops_at_the_first_block() -> None:
    record = Record()
    outcome = Pipeline([Explode(), record]).scan("x")
    assert outcome.blocked and record.seen == []


def test_empty_pipeline_allows() -> None:
    outcome = Pipeline([]).scan("x")
    assert outcome.verdict is Verdict.ALLOW and outcome.text == "x"


def test_bad_on_error_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        Pipeline([], on_error="ignore")
