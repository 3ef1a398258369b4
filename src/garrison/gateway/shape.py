"""The shape of an OpenAI request body, checked before any guard reads it.

Guards read the texts they can find; a body whose texts sit where no guard looks (content as
an object, a number of tokens as a string) would pass them unread and reach an upstream that
may coerce it. Such a body is refused here, with a 400 naming the field, fail closed.
"""

from __future__ import annotations

from typing import Any

from garrison.gateway.errors import GatewayError

# OpenAI's content part types; a text part's text is read by the guards, the rest carry media.
_PART_TYPES = frozenset({"text", "image_url", "input_audio", "file", "refusal"})
_COUNTS = ("max_tokens", "max_completion_tokens", "n")


def check_shape(route: str, body: dict[str, Any]) -> None:
    """Raise a 400 GatewayError when `body` is not a request of `route`'s shape."""
    if "stream" in body and not isinstance(body["stream"], bool):
        raise _invalid("stream", "must be true or false")
    for name in _COUNTS:
        value = body.get(name)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            raise _invalid(name, "must be a whole number, 0 or more")
    if route == "chat":
        _check_messages(body.get("messages"))
    elif route == "completions":
        _check_texts("prompt", body.get("prompt"))


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list):  # empty carries nothing unread: the upstream judges it
        raise _invalid("messages", "must be a list of messages")
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise _invalid(where, "must be an object with a string role")
        content = message.get("content")
        if content is None or isinstance(content, str):
            continue
        if not isinstance(content, list):
            raise _invalid(f"{where}.content", "must be a string or a list of content parts")
        for j, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind not in _PART_TYPES:
                raise _invalid(f"{where}.content[{j}]", "is not a known content part")
            if kind == "text" and not isinstance(part.get("text"), str):
                raise _invalid(f"{where}.content[{j}].text", "must be a string")


def _check_texts(name: str, value: Any) -> None:
    # Token-id prompts (lists of integers) are OpenAI's too; guards cannot read them, and
    # the guard stage decides what to do with a prompt it cannot read.
    if value is None or isinstance(value, str):
        return
    if isinstance(value, list) and all(
        (isinstance(v, str | int) and not isinstance(v, bool)) or _is_int_list(v) for v in value
    ):
        return
    raise _invalid(name, "must be a string, a list of strings or a list of token ids")


def _is_int_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    )


def _invalid(param: str, why: str) -> GatewayError:
    return GatewayError(400, f"{param} {why}", code="invalid_request", reason="bounds", param=param)
