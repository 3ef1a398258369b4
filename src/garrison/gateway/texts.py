"""Prompt and completion text and token usage, read from OpenAI request and answer bodies."""

from __future__ import annotations

import json
from typing import Any

_DECODER = json.JSONDecoder()
_USAGE_KEY = b'"usage"'
_TAIL = 4096  # bytes at the end of an answer where its usage object sits


def prompt_text(route: str, body: dict[str, Any]) -> str:
    """The text a request sends the model: chat messages, a completion prompt, embedding input."""
    if route == "chat":
        messages = body.get("messages")
        if not isinstance(messages, list):
            return ""
        return "\n".join(
            text for m in messages if isinstance(m, dict) for text in _content(m.get("content"))
        )
    value = body.get("prompt" if route == "completions" else "input")
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(v for v in value if isinstance(v, str))
    return ""


def _content(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):  # parts: {"type": "text", "text": ...}, images and the like
        return [
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        ]
    return []


def estimated_tokens(prompt: str, body: dict[str, Any]) -> int:
    """What quota admission assumes before the upstream counts: 4 characters a token."""
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    completion = limit if isinstance(limit, int) and not isinstance(limit, bool) else 0
    return len(prompt) // 4 + max(completion, 0)


def completion_text(answer: dict[str, Any]) -> str:
    """The generated text of a chat or completion answer, choices joined by newlines."""
    choices = answer.get("choices")
    if not isinstance(choices, list):
        return ""
    texts = []
    for choice in choices:
        if not isinstance(choice, dict):
            continue
        message = choice.get("message")
        text = message.get("content") if isinstance(message, dict) else choice.get("text")
        if isinstance(text, str):
            texts.append(text)
    return "\n".join(texts)


def usage_near_end(data: bytes) -> dict[str, Any] | None:
    """The `usage` object of a large answer (embeddings) without parsing all of it.

    The key is searched for in the answer's last bytes, where OpenAI-compatible servers put
    it; None when it is not there, and the caller estimates instead.
    """
    start = max(len(data) - _TAIL, 0)
    at = data.rfind(_USAGE_KEY, start)
    if at < 0:
        return None
    tail = data[at + len(_USAGE_KEY) :].lstrip()
    if not tail.startswith(b":"):
        return None
    try:
        usage, _ = _DECODER.raw_decode(tail[1:].decode("utf-8").lstrip())
    except (ValueError, RecursionError):
        return None
    return usage if isinstance(usage, dict) else None
