"""Smuggled text: invisible and look-alike characters, and encoded payloads.

The guard strips zero-width and bidi control characters, rewrites look-alike letters inside
Latin words to Latin, and decodes text hidden in Unicode tag characters (which blocks).
Base64, hex and ROT13 runs that decode to readable text become payloads: a Pipeline hands
them to every later guard, so PII, secrets or links hidden in an encoding are still found.

What keeps ordinary text quiet: a candidate must decode to valid UTF-8 that is at least 95 %
printable, mostly letters and digits and holds a word, so hashes, UUIDs, random keys and identifiers
(which decode to noise) are ignored; ROT13 needs a run of words that are mostly common
English words after rotation and mostly not before. Legitimate uses are kept: ZWJ inside
emoji sequences, ZWNJ/ZWJ between letters of scripts that need them, tag characters in flag
emoji, and words written wholly in Cyrillic or Greek.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from garrison.findings import Finding, Location
from garrison.llm.rules import (
    BIDI_OVERRIDE,
    ENCODED_PAYLOAD,
    HOMOGLYPHS,
    INVISIBLE_CHARACTERS,
    TAG_CHARACTERS,
)
from garrison.llm.scanner import (
    MAX_FINDINGS,
    MAX_SCAN_CHARS,
    GuardContext,
    ScanResult,
    Verdict,
    over_limit,
    pack,
)
from garrison.rules import Rule

_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_TAGS = re.compile("[\U000e0000-\U000e007f]+")
_FLAG_TAGS = re.compile("[\U000e0030-\U000e0039\U000e0061-\U000e007a]{2,8}\U000e007f")
_WORD = re.compile(r"\w+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_PLAIN_HEX = re.compile(r"[0-9A-Fa-f]+")  # plain hex runs are found by _BASE64
_HEX_ESCAPED = re.compile(
    r"(?:\\x[0-9A-Fa-f]{2}){6,}"
    r"|(?<![0-9A-Fa-f])[0-9A-Fa-f]{2}(?:[ :][0-9A-Fa-f]{2}){7,}(?![0-9A-Fa-f])"
)
_SEGMENT = re.compile(r"[^\n.!?;]{1,2000}")
_LETTERS = re.compile(r"[A-Za-z]+")

MAX_CANDIDATE_CHARS = 16384  # longer runs are decoded from their start
MAX_DEPTH = 2  # base64 inside base64 is decoded once more, no deeper

# Common Latin look-alikes (Unicode confusables), lower and upper case.
CONFUSABLES = {
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w", "ɑ": "a", "ı": "i",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S", "Ԛ": "Q", "Ԝ": "W",
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "κ": "k", "υ": "u", "τ": "t",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
}  # fmt: skip

COMMON_WORDS = frozenset(
    (
        "the", "be", "to", "of", "and", "a", "in", "that", "have", "i", "it", "for", "not",
        "on", "with", "he", "as", "you", "do", "at", "this", "but", "his", "by", "from", "they",
        "we", "say", "her", "she", "or", "an", "will", "my", "one", "all", "would", "there",
        "their", "what", "so", "up", "out", "if", "about", "who", "get", "which", "go", "me",
        "when", "make", "can", "like", "time", "no", "just", "him", "know", "take", "people",
        "into", "year", "your", "good", "some", "could", "them", "see", "other", "than", "then",
        "now", "look", "only", "come", "its", "over", "think", "also", "back", "after", "use",
        "two", "how", "our", "work", "first", "well", "way", "even", "new", "want", "because",
        "any", "these", "give", "day", "most", "us", "is", "are", "was", "were", "been", "has",
        "had", "did", "said", "tell", "please", "ignore", "previous", "instructions",
        "instruction", "prompt", "system", "password", "secret", "key", "reveal", "print",
        "show", "above", "rules", "forget", "disregard", "message", "user", "assistant",
        "admin", "mode", "answer", "write", "send", "email", "data",
    )
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Payload:
    encoding: str
    start: int
    end: int
    decoded: str


class SmugglingGuard:
    """Finds and neutralises hidden or disguised text; see the module docstring."""

    name = "smuggling"

    def __init__(self, decode_payloads: bool = True, max_chars: int = MAX_SCAN_CHARS) -> None:
        self.decode_payloads = decode_payloads
        self.max_chars = max_chars

    def scan(self, text: str, context: GuardContext | None = None) -> ScanResult:
        ctx = context or GuardContext()
        too_long = over_limit(self.name, text, self.max_chars, ctx)
        if too_long:
            return too_long
        findings: list[Finding] = []
        hidden: list[str] = []
        clean = text
        if not text.isascii():
            clean, hidden = _strip_tags(clean, findings, ctx)
            clean = _strip_controls(clean, findings, ctx)
            clean = _fix_homoglyphs(clean, findings, ctx)
        payloads = find_payloads(clean) if self.decode_payloads else []
        for p in payloads[:MAX_FINDINGS]:
            findings.append(
                ENCODED_PAYLOAD.finding(
                    ctx.asset,
                    Location(offset=p.start),
                    f"{p.encoding}, {len(p.decoded)} characters",
                )
            )
        hidden += [p.decoded for p in payloads]
        blocked = any(f.rule == TAG_CHARACTERS.id for f in findings)
        verdict = Verdict.BLOCK if blocked else (Verdict.REDACT if clean != text else Verdict.ALLOW)
        score = 1.0 if blocked else (0.6 if clean != text else (0.3 if findings else 0.0))
        return ScanResult(
            verdict,
            score,
            tuple(findings),
            clean,
            {"payloads": len(hidden)},
            self.name,
            pack(hidden),
        )


def _finding(rule: Rule, ctx: GuardContext, offset: int, evidence: str) -> Finding:
    return rule.finding(ctx.asset, Location(offset=offset), evidence)


def _strip_tags(text: str, findings: list[Finding], ctx: GuardContext) -> tuple[str, list[str]]:
    hidden: list[str] = []
    parts: list[str] = []
    last = 0
    for m in _TAGS.finditer(text):
        run = m.group()
        is_flag = (
            m.start() > 0 and text[m.start() - 1] == "\U0001f3f4" and _FLAG_TAGS.fullmatch(run)
        )
        if is_flag:
            continue
        decoded = "".join(chr(ord(c) - 0xE0000) for c in run if 0xE0020 <= ord(c) <= 0xE007E)
        if decoded.strip():
            hidden.append(decoded)
        if len(findings) < MAX_FINDINGS:
            evidence = f"hidden text: {decoded[:120]}"
            findings.append(_finding(TAG_CHARACTERS, ctx, m.start(), evidence))
        parts += [text[last : m.start()]]
        last = m.end()
    parts.append(text[last:])
    return "".join(parts), hidden


def _keep_joiner(text: str, i: int) -> bool:
    """ZWJ/ZWNJ that real text needs: in emoji sequences, or between non-Latin letters."""
    ch = text[i]
    if ch not in "\u200c\u200d" or i == 0 or i + 1 >= len(text):
        return False
    before, after = text[i - 1], text[i + 1]
    if ch == "\u200d" and _is_symbol(before) and _is_symbol(after):
        return True
    return before.isalpha() and after.isalpha() and not (before.isascii() or after.isascii())


def _is_symbol(ch: str) -> bool:
    return ord(ch) >= 0x2000 and unicodedata.category(ch) in ("So", "Sk", "Mn", "Cf")


def _strip_controls(text: str, findings: list[Finding], ctx: GuardContext) -> str:
    removed: list[int] = []

    def drop(m: re.Match[str]) -> str:
        i = m.start()
        if _keep_joiner(text, i):
            return m.group()
        if not (i == 0 and m.group() == "\ufeff"):  # a leading byte-order mark is harmless
            removed.append(i)
        return ""

    text_out = _ZERO_WIDTH.sub(drop, text)
    if removed:
        evidence = f"{len(removed)} zero-width character(s)"
        findings.append(_finding(INVISIBLE_CHARACTERS, ctx, removed[0], evidence))
    text = text_out
    bidi = _BIDI.search(text)
    if bidi:
        count = len(_BIDI.findall(text))
        evidence = f"{count} bidi control character(s)"
        findings.append(_finding(BIDI_OVERRIDE, ctx, bidi.start(), evidence))
        text = _BIDI.sub("", text)
    return text


@lru_cache(maxsize=4096)
def _latin_form(ch: str) -> str | None:
    """The ASCII letter `ch` imitates, or None."""
    if ch in CONFUSABLES:
        return CONFUSABLES[ch]
    if ch.isascii() or not ch.isalpha():
        return None
    folded = unicodedata.normalize("NFKC", ch)  # fullwidth and mathematical letters
    return folded if len(folded) == 1 and folded.isascii() and folded.isalpha() else None


def _fix_homoglyphs(text: str, findings: list[Finding], ctx: GuardContext) -> str:
    parts: list[str] = []
    last = 0
    for m in _WORD.finditer(text):
        word = m.group()
        if word.isascii():
            continue
        forms = [_latin_form(ch) for ch in word]
        latin = sum(ch.isascii() and ch.isalpha() for ch in word)
        lookalike = sum(f is not None for f in forms)
        folded = any(
            f is not None and ch not in CONFUSABLES for ch, f in zip(word, forms, strict=True)
        )
        # A Cyrillic or Greek word alone is that language; mixed with Latin it is a disguise.
        if lookalike == 0 or not (latin or folded) or lookalike + latin < len(word):
            continue
        fixed = "".join(f or ch for ch, f in zip(word, forms, strict=True))
        if len(findings) < MAX_FINDINGS:
            findings.append(_finding(HOMOGLYPHS, ctx, m.start(), f"{word!r} reads as {fixed!r}"))
        parts += [text[last : m.start()], fixed]
        last = m.end()
    if not parts:
        return text
    parts.append(text[last:])
    return "".join(parts)


def _readable(decoded: str) -> bool:
    if len(decoded) < 6:
        return False
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in decoded)
    if printable < 0.95 * len(decoded):
        return False
    visible = [ch for ch in decoded if not ch.isspace()]
    alnum = sum(ch.isalnum() for ch in visible)
    return alnum >= 0.6 * len(visible) and re.search(r"[^\W\d_]{3}", decoded) is not None


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _decode_base64(run: str) -> str | None:
    body = run.rstrip("=")
    if len(set(body)) < 8 or (body.isalpha() and (body.islower() or body.isupper())):
        return None  # plain words and repeated characters are not base64
    body = body[: len(body) - len(body) % 4] if len(body) % 4 == 1 else body
    padded = body + "=" * (-len(body) % 4)
    try:
        if "-" in body or "_" in body:
            data = base64.urlsafe_b64decode(padded)
        else:
            data = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return _utf8(data)


def _decode_hex(run: str) -> str | None:
    digits = re.sub(r"\\x|[ :]", "", run)
    try:
        return _utf8(bytes.fromhex(digits))
    except ValueError:
        return None


def _common_share(words: list[str]) -> tuple[int, float]:
    hits = sum(w in COMMON_WORDS for w in words)
    return hits, hits / len(words)


def _rot13_payloads(text: str) -> list[Payload]:
    found: list[Payload] = []
    for seg in _SEGMENT.finditer(text):
        # Words of three letters or more: one- and two-letter tokens (loop variables,
        # country codes) rotate into common words too often.
        words = [w.lower() for w in _LETTERS.findall(seg.group()) if len(w) >= 3]
        if len(words) < 4:
            continue
        _, before = _common_share(words)
        hits, after = _common_share([codecs.encode(w, "rot13") for w in words])
        if hits >= 3 and after >= 0.4 and after >= before + 0.25:
            decoded = codecs.encode(seg.group(), "rot13")
            found.append(Payload("rot13", seg.start(), seg.end(), decoded.strip()))
    return found


def find_payloads(text: str, depth: int = 0) -> list[Payload]:
    """Base64, hex and ROT13 runs in `text` that decode to readable text.

    There is no cap on their number (decoys must not push a payload out of view): runs do
    not overlap, so the work stays linear in the length of `text`.
    """
    found: list[Payload] = []
    for m in _HEX_ESCAPED.finditer(text):
        decoded = _decode_hex(m.group())
        if decoded is not None and _readable(decoded):
            found.append(Payload("hex", m.start(), m.end(), decoded))
    for m in _BASE64.finditer(text):
        run = m.group()[:MAX_CANDIDATE_CHARS]
        is_hex = len(run) % 2 == 0 and _PLAIN_HEX.fullmatch(run) is not None
        decoded = _decode_hex(run) if is_hex else _decode_base64(run)
        if decoded is not None and _readable(decoded):
            found.append(Payload("hex" if is_hex else "base64", m.start(), m.end(), decoded))
    found += _rot13_payloads(text)
    if depth + 1 < MAX_DEPTH:
        for p in list(found):
            nested = find_payloads(p.decoded, depth + 1)
            found += [
                Payload(f"{p.encoding}+{n.encoding}", p.start, p.end, n.decoded) for n in nested
            ]
    return found
