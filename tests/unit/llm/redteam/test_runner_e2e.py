"""The harness against the vulnerable app on localhost: it finds exactly what the app is open to."""

import json
from pathlib import Path

import pytest

from garrison.errors import UsageError
from garrison.llm.redteam import (
    FAMILIES,
    ClientConfig,
    ProbeContext,
    build_report,
    discover_probes,
    run,
)
from garrison.report import render
from tests.unit.llm.redteam.vulnerable_app import Fault, VulnerableApp, serve

PROBES = discover_probes()
TOTAL = sum(len(p.build_requests(ProbeContext("any"))) for p in PROBES)


def config(url: str, concurrency: int = 4) -> ClientConfig:
    return ClientConfig(url, "vulnerable-1", concurrency=concurrency, backoff_base_s=0.01)


@pytest.mark.parametrize(
    "vulnerable",
    [
        set(),
        set(FAMILIES),
        {"indirect-injection", "system-prompt-extraction", "markdown-exfiltration", "tool-abuse"},
        {"direct-injection", "jailbreak", "encoding-bypass", "sensitive-leakage"},
        *({f} for f in FAMILIES),
    ],
    ids=lambda v: "+".join(sorted(v)) or "hardened",
)
def test_finds_exactly_the_families_the_app_is_vulnerable_to(vulnerable: set[str]) -> None:
    app = VulnerableApp(vulnerable=set(vulnerable))
    with serve(app) as url:
        result = run(PROBES, config(url))
    assert result.vulnerable_families() == vulnerable
    assert not result.stopped and not result.errors_by_kind()
    assert len(result.attempts) == TOTAL == len(app.bodies)
    rates = result.by_family()
    for family in FAMILIES:
        assert (rates[family]["success_rate"] > 0) == (family in vulnerable)


def test_report_carries_rates_findings_and_transcripts_in_every_format() -> None:
    app = VulnerableApp(vulnerable={"tool-abuse", "markdown-exfiltration"})
    with serve(app) as url:
        result = run(PROBES, config(url))
    report = build_report(result)
    assert len(report.findings) == len(result.hits()) > 0
    assert {f.rule for f in report.findings} == {"GA-RT-007", "GA-RT-008"}
    assert report.failed
    metrics = report.metrics["redteam"]
    assert metrics["families"]["tool-abuse"]["success_rate"] == 1.0
    assert metrics["families"]["jailbreak"]["success_rate"] == 0.0
    transcript = metrics["transcripts"]["tool-abuse/delete-document"]
    assert transcript[-1]["tool_calls"][0]["name"] == "delete_file"
    data = json.loads(render(report, "json"))
    assert data["metrics"]["redteam"]["families"]["markdown-exfiltration"]["successes"] == 3
    sarif = json.loads(render(report, "sarif"))
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"GA-RT-007", "GA-RT-008"}
    assert "GA-RT-008" in render(report, "html")
    assert "GA-RT-007" in render(report, "console")


def test_hardened_app_gives_a_clean_report() -> None:
    with serve(VulnerableApp()) as url:
        report = build_report(run(PROBES, config(url)))
    assert report.findings == [] and not report.failed


class Interrupted(Exception):
    pass


def test_resume_sends_only_the_remaining_attempts(tmp_path: Path) -> None:
    state = tmp_path / "state.jsonl"
    app = VulnerableApp(vulnerable={"direct-injection", "sensitive-leakage"})
    done: list[str] = []

    def stop_after_seven(result: object) -> None:
        done.append(result.id)  # type: ignore[attr-defined]
        if len(done) == 7:
            raise Interrupted

    with serve(app) as url:
        with pytest.raises(Interrupted):
            run(PROBES, config(url, concurrency=1), state, on_result=stop_after_seven)
        assert len(app.bodies) == 7
        result = run(PROBES, config(url), state, progress=True)
    assert len(app.bodies) == TOTAL  # 7 then the rest; nothing sent twice
    sent = [json.dumps(b["messages"]) for b in app.bodies]
    assert len(set(sent)) == TOTAL
    assert len(result.attempts) == TOTAL
    assert result.vulnerable_families() == {"direct-injection", "sensitive-leakage"}
    assert len(state.read_text().splitlines()) == 1 + TOTAL


def test_failed_attempts_are_recorded_and_retried_on_resume(tmp_path: Path) -> None:
    state = tmp_path / "state.jsonl"
    app = VulnerableApp(vulnerable={"jailbreak"})
    app.faults = [Fault(200, b"<html>oops</html>") for _ in range(3)]
    with serve(app) as url:
        first = run(PROBES, config(url, concurrency=1), state)
        assert first.errors_by_kind() == {"malformed": 3}
        assert "not a chat completion" in next(a for a in first.attempts if a.error_kind).evidence
        assert sum(f["errors"] for f in first.by_family().values()) == 3
        assert build_report(first).findings[-1].rule == "GA-RT-009"
        second = run(PROBES, config(url), state)
    assert len(app.times) == TOTAL + 3
    assert second.errors_by_kind() == {} and len(second.attempts) == TOTAL
    assert second.vulnerable_families() == {"jailbreak"}


def test_a_state_file_from_another_target_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.jsonl"
    with serve(VulnerableApp()) as url:
        run(PROBES[:1], config(url), state)
        with pytest.raises(UsageError, match="belongs to a run against"):
            run(PROBES[:1], ClientConfig(url, "other-model"), state)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("garbage\n")
    with pytest.raises(UsageError, match="not a red-team state file"):
        run(PROBES[:1], config("http://127.0.0.1:9"), bad)
