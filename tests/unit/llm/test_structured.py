import pytest

from garrison.errors import UsageError
from garrison.llm import StructuredOutputGuard, Verdict
from garrison.llm.rules import SCHEMA_VIOLATION
from garrison.llm.structured import json_depth, unfence

SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "confidence": {"type": "number"}},
    "required": ["answer"],
    "additionalProperties": False,
}
GUARD = StructuredOutputGuard(SCHEMA)


def test_conforming_json_passes() -> None:
    assert GUARD.scan('{"answer": "yes", "confidence": 0.9}').verdict is Verdict.ALLOW


def test_fenced_json_passes() -> None:
    assert GUARD.scan('```json\n{"answer": "yes"}\n```').verdict is Verdict.ALLOW
    assert unfence("plain") == "plain"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"confidence": 0.9}', "'answer' is a required property"),
        ('{"answer": 3}', "answer: 3 is not of type 'string'"),
        ('{"answer": "a", "extra": 1}', "Additional properties"),
        ("Sure! here it is", "not JSON"),
        ("[" * 100 + "]" * 100, "nests 100 levels"),
    ],
)
def test_bad_output_blocks(text: str, problem: str) -> None:
    outcome = GUARD.scan(text)
    assert outcome.verdict is Verdict.BLOCK
    assert outcome.findings[0].rule == SCHEMA_VIOLATION.id
    assert problem in outcome.findings[0].evidence


def test_size_limit() -> None:
    outcome = StructuredOutputGuard(SCHEMA, max_chars=10).scan('{"answer": "long enough"}')
    assert outcome.blocked and "limit" in outcome.findings[0].evidence


def test_depth_ignores_brackets_in_strings() -> None:
    assert json_depth('{"a": "[[[[", "b": [1, {"c": "\\"]"}]}') == 3


def test_invalid_schema_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        StructuredOutputGuard({"type": "not-a-type"})
