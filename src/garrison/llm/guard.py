"""Guard: the two-line API that wraps an LLM call in the input and output pipelines.

    guard = Guard(system_prompt=SYSTEM, allowed_hosts=["example.com"])
    answer = guard.wrap(call_model)(user_text)

`call_model` must send `guard.system_prompt_with_canary` as its system prompt for leakage
detection by canary; overlap with `system_prompt` is checked either way. PII and secrets in
the input reach the model as placeholders and are restored in the answer for the user.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ParamSpec

from garrison.assets import Asset
from garrison.errors import GarrisonError, UsageError
from garrison.llm.leakage import LeakageGuard, make_canary, plant_canary
from garrison.llm.limits import LengthLimit
from garrison.llm.links import LinkGuard
from garrison.llm.scanner import (
    DEFAULT_ASSET,
    GuardContext,
    Pipeline,
    Scanner,
    ScanResult,
)
from garrison.llm.sensitive_guard import SensitiveGuard, Vault
from garrison.llm.smuggling import SmugglingGuard
from garrison.llm.structured import StructuredOutputGuard

P = ParamSpec("P")


class Blocked(GarrisonError):
    """A guard blocked the text; `result` holds the verdict and the findings."""

    def __init__(self, stage: str, result: ScanResult) -> None:
        rules = ", ".join(dict.fromkeys(f.rule for f in result.findings)) or "no finding"
        super().__init__(f"{stage} blocked by Garrison guards ({rules})")
        self.stage = stage
        self.result = result


class Guard:
    """Input and output pipelines for one conversation (the vault is per Guard)."""

    def __init__(
        self,
        system_prompt: str = "",
        *,
        allowed_hosts: Iterable[str] | None = None,
        output_schema: dict[str, Any] | None = None,
        max_input_tokens: int = 4096,
        max_output_tokens: int = 8192,
        leak_threshold: float = 0.3,
        on_error: str = "block",
        input_scanners: Sequence[Scanner] = (),
        output_scanners: Sequence[Scanner] = (),
        canary: str | None = None,
        asset: Asset = DEFAULT_ASSET,
    ) -> None:
        if isinstance(allowed_hosts, str):  # one host as a str would be read letter by letter
            raise UsageError(f"allowed_hosts takes a list of hosts, e.g. [{allowed_hosts!r}]")
        self.system_prompt = system_prompt
        self.canary = canary or make_canary()
        self.vault = Vault()
        self.asset = asset
        # Guards after a length limit read exactly what it lets through.
        limit_in = LengthLimit(max_input_tokens)
        chars_in = limit_in.max_chars
        self.input_pipeline = Pipeline(
            [
                limit_in,
                SmugglingGuard(max_chars=chars_in),
                SensitiveGuard(self.vault, max_chars=chars_in),
                *input_scanners,
            ],
            on_error=on_error,
        )
        limit_out = LengthLimit(max_output_tokens)
        chars_out = limit_out.max_chars
        structured = (
            [StructuredOutputGuard(output_schema, max_chars=chars_out)]
            if output_schema is not None
            else []
        )
        self.output_pipeline = Pipeline(
            [
                limit_out,
                *structured,
                SmugglingGuard(max_chars=chars_out),
                LeakageGuard(system_prompt, self.canary, leak_threshold, max_chars=chars_out),
                LinkGuard(allowed_hosts, max_chars=chars_out),
                # Values the model produced itself are removed for good: a template unlike
                # the vault's keeps restore() from ever touching them.
                SensitiveGuard(template="[{kind} {n} REDACTED]", max_chars=chars_out),
                *output_scanners,
            ],
            on_error=on_error,
        )

    @property
    def system_prompt_with_canary(self) -> str:
        """The system prompt to send to the model: `system_prompt` with the canary planted."""
        return plant_canary(self.system_prompt, self.canary)

    def scan_input(self, text: str) -> ScanResult:
        return self.input_pipeline.scan(text, GuardContext("input", self.asset))

    def scan_output(self, text: str) -> ScanResult:
        """The output verdict; an answer that is not blocked has the vault's values restored."""
        outcome = self.output_pipeline.scan(text, GuardContext("output", self.asset))
        if outcome.blocked:
            return outcome
        return ScanResult(
            outcome.verdict,
            outcome.score,
            outcome.findings,
            self.vault.restore(outcome.text),
            outcome.details,
            outcome.scanner,
        )

    def check_input(self, text: str) -> ScanResult:
        """The input's result (send `.text` to the model); raises Blocked when it blocks."""
        outcome = self.scan_input(text)
        if outcome.blocked:
            raise Blocked("input", outcome)
        return outcome

    def check_output(self, text: str) -> ScanResult:
        """The answer's result (show `.text` to the user); raises Blocked when it blocks."""
        outcome = self.scan_output(text)
        if outcome.blocked:
            raise Blocked("output", outcome)
        return outcome

    def wrap(self, fn: Callable[P, str]) -> Callable[P, str]:
        """`fn(prompt, ...) -> answer` with its prompt checked and its answer checked."""

        @functools.wraps(fn)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> str:
            if args and isinstance(args[0], str):
                args = (self.check_input(args[0]).text, *args[1:])  # type: ignore[assignment]
            elif isinstance(kwargs.get("prompt"), str):
                kwargs["prompt"] = self.check_input(str(kwargs["prompt"])).text
            else:
                raise UsageError("the wrapped function's prompt must be its first argument")
            answer = fn(*args, **kwargs)
            if not isinstance(answer, str):
                raise UsageError(
                    f"the wrapped function must return the answer as a str, not "
                    f"{type(answer).__name__}"
                )
            return self.check_output(answer).text

        return guarded
