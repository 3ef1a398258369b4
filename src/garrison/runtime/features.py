"""Cheap per-request features the drift monitor compares: lengths, writing system, guard
scores, blocks and refusals. No text is kept, only these values."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable

from garrison.gateway.record import BLOCK, RequestRecord

NUMERIC = frozenset({"prompt_length", "completion_length", "guard_score"})
SCRIPT_CHARS = 256  # characters read to find the writing system

# (first code point, last code point, script), sorted; letters elsewhere are "other".
_RANGES = (
    (0x0041, 0x024F, "latin"),
    (0x0370, 0x03FF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0E00, 0x0E7F, "thai"),
    (0x1100, 0x11FF, "hangul"),
    (0x1E00, 0x1EFF, "latin"),
    (0x3040, 0x30FF, "cjk"),  # kana: Japanese is counted with the Han characters
    (0x3400, 0x4DBF, "cjk"),
    (0x4E00, 0x9FFF, "cjk"),
    (0xAC00, 0xD7AF, "hangul"),
)
_STARTS = [r[0] for r in _RANGES]
_REFUSAL = re.compile(
    r"\b(?:i can(?:no|')?t|i(?:'m| am) (?:sorry|unable|not able)|i won't|i will not|"
    r"as an ai)\b"
)


def script(text: str) -> str:
    """The writing system of most letters in the start of `text`, or "none"."""
    head = text[:SCRIPT_CHARS]
    if head.isascii():
        return "latin" if any(c.isalpha() for c in head) else "none"
    counts: dict[str, int] = {}
    for char in head:
        if char.isalpha():
            name = _script_of(ord(char))
            counts[name] = counts.get(name, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else "none"


def _script_of(point: int) -> str:
    index = bisect_right(_STARTS, point) - 1
    if index >= 0 and point <= _RANGES[index][1]:
        return _RANGES[index][2]
    return "other"


def is_refusal(text: str) -> bool:
    return _REFUSAL.search(text[:200].lower()) is not None


def _guard_score(record: RequestRecord) -> float:
    return max((v.score for v in record.guards), default=0.0)


EXTRACTORS: dict[str, Callable[[RequestRecord], float | str]] = {
    "prompt_length": lambda r: float(len(r.prompt_text)),
    "completion_length": lambda r: float(len(r.completion_text)),
    "script": lambda r: script(r.prompt_text),
    "guard_score": _guard_score,
    "blocked": lambda r: "yes" if r.decision == BLOCK else "no",
    "refusal": lambda r: "yes" if is_refusal(r.completion_text) else "no",
}
