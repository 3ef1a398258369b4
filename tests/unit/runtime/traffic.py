"""Records for the runtime tests: generated traffic, never real prompts."""

from __future__ import annotations

import random

from garrison.gateway.record import ALLOW, RequestRecord

WORDS = [f"{a}{b}{c}" for a in "bcdfgklmnprst" for b in "aeiou" for c in "lmnrstvz"]


def record(
    prompt: str = "hello",
    *,
    key_id: str | None = "k1",
    completion: str = "fine, thanks",
    decision: str = ALLOW,
    status: int = 200,
    route: str = "chat",
    **fields: object,
) -> RequestRecord:
    fields.setdefault("request_id", f"req-{random.getrandbits(32):08x}")
    return RequestRecord(
        ts="2025-01-02T03:04:05.678Z",
        route=route,
        status=status,
        decision=decision,
        key_id=key_id,
        prompt_text=prompt,
        completion_text=completion,
        **fields,  # type: ignore[arg-type]
    )


def diverse_prompts(n: int, seed: int = 0) -> list[str]:
    """A sweep: each prompt a fresh random sentence over a 520-word vocabulary."""
    rng = random.Random(seed)
    return [" ".join(rng.choices(WORDS, k=rng.randint(8, 30))) for _ in range(n)]


def repetitive_prompts(n: int, seed: int = 0) -> list[str]:
    """An app's usual traffic: a few templates, a few fillers."""
    rng = random.Random(seed)
    templates = [
        "What is the weather in {} today?",
        "Summarise the last email from {} please",
        "Translate 'good morning' for {}",
        "Book a meeting with {} tomorrow",
    ]
    names = ["Alice", "Bob", "Paris", "Tokyo", "the team"]
    return [rng.choice(templates).format(rng.choice(names)) for _ in range(n)]
