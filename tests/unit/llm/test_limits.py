import pytest

from garrison.errors import UsageError
from garrison.llm import LengthLimit, Verdict, count_tokens, truncate_tokens
from garrison.llm.rules import LENGTH_LIMIT


def test_count_tokens_counts_words_chunks_and_symbols() -> None:
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("a" * 20) == 3  # 8 + 8 + 4
    assert count_tokens("") == 0
    assert count_tokens("x " * 100, limit=10) == 11


def test_truncate_keeps_whole_tokens() -> None:
    assert truncate_tokens("one two three four", 2) == "one two"


def test_text_within_limits_passes_unchanged() -> None:
    outcome = LengthLimit(max_tokens=10).scan("a short prompt")
    assert outcome.verdict is Verdict.ALLOW and outcome.text == "a short prompt"
    assert outcome.details["tokens"] == 3


def test_long_text_is_truncated() -> None:
    outcome = LengthLimit(max_tokens=5).scan("one two three four five six seven")
    assert outcome.verdict is Verdict.REDACT
    assert outcome.text == "one two three four five"
    assert outcome.findings[0].rule == LENGTH_LIMIT.id


def test_long_text_blocks_when_asked() -> None:
    outcome = LengthLimit(max_tokens=5, action="block").scan("word " * 50)
    assert outcome.verdict is Verdict.BLOCK


def test_whitespace_padding_is_bounded_by_characters() -> None:
    outcome = LengthLimit(max_tokens=10, max_chars=100).scan("a" + " " * 10_000 + "b")
    assert outcome.verdict is Verdict.REDACT
    assert len(outcome.text) <= 100


def test_bad_options_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        LengthLimit(max_tokens=0)
    with pytest.raises(UsageError):
        LengthLimit(action="drop")
