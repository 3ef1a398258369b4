"""atheris target: arbitrary bytes through a Guard's input and output pipelines.

Only ScanResults may come back: no exception, and no guard may fail (an ERROR result).
"""

from __future__ import annotations

import sys

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports():
    from garrison.llm import Guard, ScanResult

GUARD = Guard(
    "You are a support assistant for Example Corp. Answer billing questions politely.",
    allowed_hosts=["example.com"],
    output_schema={"type": "object", "properties": {"answer": {"type": "string"}}},
    max_input_tokens=512,
    max_output_tokens=512,
)


def TestOneInput(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    GUARD.vault.clear()  # one conversation per input, so the vault never fills up
    for outcome in (GUARD.scan_input(text), GUARD.scan_output(text)):
        if not isinstance(outcome, ScanResult):
            raise AssertionError(type(outcome))
        if outcome.details["errors"]:
            raise AssertionError(outcome.details["errors"])


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
