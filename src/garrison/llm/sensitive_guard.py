"""Personal data and secrets in prompts and answers, replaced by reversible placeholders.

Detection is garrison.sensitive (validated recognisers). A Vault remembers which placeholder
stands for which value across a conversation, so the same value always gets the same
placeholder and the answer can be restored for the user who sent the data.
"""

from __future__ import annotations

from collections.abc import Iterable

from garrison.errors import LimitExceeded, UsageError
from garrison.findings import Finding, Location
from garrison.llm.rules import PERSONAL_DATA, SECRET
from garrison.llm.scanner import (
    MAX_FINDINGS,
    GuardContext,
    ScanResult,
    Verdict,
    over_limit,
)
from garrison.sensitive import SECRET_KINDS, Match, find_pii, find_secrets, mask, restore

# Less than other guards read: garrison.sensitive's overlap check grows with the square of
# the number of matches, so text dense with values (64 Ki of e-mail addresses) takes ~0.3 s.
SENSITIVE_MAX_CHARS = 1 << 16


class Vault:
    """Placeholder <-> value mapping for one conversation (or one user session)."""

    def __init__(self, max_entries: int = 10_000, template: str = "<{kind}_{n}>") -> None:
        if "{n}" not in template or "{kind}" not in template:
            raise UsageError("a placeholder template needs {kind} and {n}")
        self.max_entries = max_entries
        self.template = template
        self._by_value: dict[tuple[str, str], str] = {}
        self._values: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._values)

    @property
    def mapping(self) -> dict[str, str]:
        """placeholder -> original value (a copy)."""
        return dict(self._values)

    def placeholder(self, kind: str, value: str, text: str = "") -> str:
        """The placeholder of `value`, made on first sight; never one already in `text`."""
        key = (kind, value)
        if key in self._by_value:
            return self._by_value[key]
        if len(self._values) >= self.max_entries:
            raise LimitExceeded("vault entries", len(self._values) + 1, self.max_entries)
        n = self._counts.get(kind, 0)
        while True:
            n += 1
            token = self.template.format(kind=kind.upper(), n=n)
            if token not in self._values and token not in text:
                break
        self._counts[kind] = n
        self._by_value[key] = token
        self._values[token] = value
        return token

    def redact(self, text: str, matches: Iterable[Match]) -> str:
        parts: list[str] = []
        last = 0
        for m in sorted(matches, key=lambda m: m.start):
            if m.start < last:
                continue  # overlapping matches keep the first one
            parts += [text[last : m.start], self.placeholder(m.kind, m.text, text)]
            last = m.end
        parts.append(text[last:])
        return "".join(parts)

    def restore(self, text: str) -> str:
        return restore(text, self._values)

    def clear(self) -> None:
        """Forget every value, e.g. when a new conversation starts."""
        self._by_value.clear()
        self._values.clear()
        self._counts.clear()


class SensitiveGuard:
    """Finds PII and secrets and replaces them by placeholders kept in `vault`.

    Without a vault each scan uses a fresh one with `template`, so placeholders cannot be
    restored; pick a template unlike the vault's so the two never mix. While re-checking a
    decoded hidden payload the vault is left untouched.
    """

    name = "sensitive"

    def __init__(
        self,
        vault: Vault | None = None,
        pii: bool = True,
        secrets: bool = True,
        block: bool = False,
        max_chars: int = SENSITIVE_MAX_CHARS,
        template: str = "<{kind}_{n}>",
    ) -> None:
        self.vault = vault
        self.template = template
        self.pii = pii
        self.secrets = secrets
        self.block = block
        self.max_chars = max_chars

    def scan(self, text: str, context: GuardContext | None = None) -> ScanResult:
        ctx = context or GuardContext()
        too_long = over_limit(self.name, text, self.max_chars, ctx)
        if too_long:
            return too_long
        matches = self._matches(text)
        if not matches:
            return ScanResult(Verdict.ALLOW, 0.0, (), text, {}, self.name)
        vault = self.vault
        if vault is None or ctx.recheck:
            vault = Vault(max_entries=len(matches) + 1, template=self.template)
        findings = [self._finding(m, ctx) for m in matches[:MAX_FINDINGS]]
        redacted = vault.redact(text, matches)
        kinds = sorted({m.kind for m in matches})
        has_secret = any(m.kind in SECRET_KINDS for m in matches)
        verdict = Verdict.BLOCK if self.block else Verdict.REDACT
        score = 1.0 if self.block else (0.9 if has_secret else 0.7)
        return ScanResult(
            verdict,
            score,
            tuple(findings),
            redacted,
            {"kinds": kinds, "count": len(matches)},
            self.name,
        )

    def _matches(self, text: str) -> list[Match]:
        found: list[Match] = []
        if self.secrets:
            found += find_secrets(text)
        if self.pii:
            # Secrets first: a key's digits are not also a phone number.
            found += _outside(find_pii(text), found)
        return sorted(found, key=lambda m: m.start)

    @staticmethod
    def _finding(m: Match, ctx: GuardContext) -> Finding:
        rule = SECRET if m.kind in SECRET_KINDS else PERSONAL_DATA
        return rule.finding(ctx.asset, Location(offset=m.start), f"{m.kind}: {mask(m.text)}")


def _outside(matches: list[Match], claimed: list[Match]) -> list[Match]:
    """`matches` that overlap none of `claimed`; both sorted, `claimed` never overlapping."""
    kept: list[Match] = []
    j = 0
    for m in matches:
        while j < len(claimed) and claimed[j].end <= m.start:
            j += 1
        if j < len(claimed) and claimed[j].start < m.end:
            continue
        kept.append(m)
    return kept
