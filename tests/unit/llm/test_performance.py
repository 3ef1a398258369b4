"""Every guard reads its largest allowed input, built to be hostile to regexes, in < 1 s.

Times are this thread's CPU time: the bound is about the work a guard does (catastrophic
backtracking takes minutes), not about how busy the machine's other test workers are.
"""

import time

import pytest

from garrison.llm import (
    Guard,
    LeakageGuard,
    LengthLimit,
    LinkGuard,
    Scanner,
    SensitiveGuard,
    SmugglingGuard,
    StructuredOutputGuard,
    Verdict,
)
from garrison.llm.scanner import MAX_SCAN_CHARS

MB = 1 << 20
UNITS = {
    "letters": "a",
    "markdown": "![",
    "links": "[a](",
    "html": "<img src=",
    "base64": "QUJD",
    "hex": "4a",
    "digits": "1234 ",
    "invisible": "\u200b",
    "homoglyphs": "pаypal ",
    "emails": "a@b.",
    "json": "[",
    "real_emails": "x@example.org ",
    "reference_links": "[x]: http://a.test/c\n",
    "readable_base64": "aGVsbG8gd29ybGQgdGhpcyBpcyBhIG5vdGU= ",
}
GUARDS: list[Scanner] = [
    LengthLimit(),
    SmugglingGuard(),
    SensitiveGuard(),
    LeakageGuard("one two three four five six seven eight", "gcanary-abcdefghijklmnop"),
    LinkGuard(["example.com"]),
    StructuredOutputGuard({"type": "object"}),
]


def fill(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


@pytest.mark.parametrize("unit", list(UNITS.values()), ids=list(UNITS))
def test_each_guard_is_fast_at_its_limit(unit: str) -> None:
    for guard in GUARDS:
        text = fill(unit, int(getattr(guard, "max_chars", MAX_SCAN_CHARS)))
        start = time.thread_time()
        guard.scan(text)
        assert time.thread_time() - start < 1.0, guard.name


@pytest.mark.parametrize("unit", ["a", "![", "\u200b", "QUJD"])
def test_a_megabyte_is_bounded(unit: str) -> None:
    text = fill(unit, MB)
    for guard in GUARDS:
        start = time.thread_time()
        outcome = guard.scan(text)
        assert time.thread_time() - start < 1.0, guard.name
        assert outcome.verdict in (Verdict.REDACT, Verdict.BLOCK)  # never passed unread
    guard = Guard("system prompt words here for the test")
    start = time.thread_time()
    guard.scan_input(text)
    guard.scan_output(text)
    assert time.thread_time() - start < 2.0
