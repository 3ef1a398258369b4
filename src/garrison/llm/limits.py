"""Length and token limits: the first guard, so every guard after it reads bounded text.

Tokens are counted by a cheap regex, not a model's tokenizer: each run of up to 8 word
characters is one token and each other non-space character is one token. For English prose
and code this lands near BPE counts (GPT-style tokenizers average ~4 characters a token)
and it never under-counts long opaque strings by much, which is what a limit needs.
"""

from __future__ import annotations

import re

from garrison.errors import UsageError
from garrison.findings import Location
from garrison.llm.rules import LENGTH_LIMIT
from garrison.llm.scanner import GuardContext, ScanResult, Verdict, result

_TOKEN = re.compile(r"\w{1,8}|[^\w\s]")
CHARS_PER_TOKEN_BOUND = 16  # characters read per allowed token at most (whitespace included)


def count_tokens(text: str, limit: int | None = None) -> int:
    """Approximate token count of `text`; counting stops once it passes `limit`."""
    n = 0
    for _ in _TOKEN.finditer(text):
        n += 1
        if limit is not None and n > limit:
            break
    return n


def truncate_tokens(text: str, max_tokens: int) -> str:
    """`text` cut after its `max_tokens`-th token."""
    end = 0
    for n, m in enumerate(_TOKEN.finditer(text), 1):
        if n > max_tokens:
            break
        end = m.end()
    return text[:end]


class LengthLimit:
    """Blocks or truncates text over `max_tokens` tokens or `max_chars` characters."""

    name = "length_limit"

    def __init__(
        self, max_tokens: int = 4096, max_chars: int | None = None, action: str = "truncate"
    ) -> None:
        if max_tokens < 1:
            raise UsageError("max_tokens must be at least 1")
        if action not in ("truncate", "block"):
            raise UsageError(f"action must be 'truncate' or 'block', not {action!r}")
        self.max_tokens = max_tokens
        self.max_chars = max_chars or max_tokens * CHARS_PER_TOKEN_BOUND
        self.action = action

    def scan(self, text: str, context: GuardContext | None = None) -> ScanResult:
        ctx = context or GuardContext()
        head = text[: self.max_chars]
        tokens = count_tokens(head, self.max_tokens)
        if tokens <= self.max_tokens and len(text) <= self.max_chars:
            return result(self.name, text, tokens=tokens)
        evidence = (
            f"over {self.max_tokens} tokens"
            if tokens > self.max_tokens
            else f"{len(text)} characters > {self.max_chars}"
        )
        cut = truncate_tokens(head, self.max_tokens)
        finding = LENGTH_LIMIT.finding(ctx.asset, Location(offset=len(cut)), evidence)
        if self.action == "block":
            return result(self.name, cut, [finding], Verdict.BLOCK, tokens=tokens)
        return result(
            self.name, cut, [finding], Verdict.REDACT, tokens=min(tokens, self.max_tokens)
        )
