"""Bounds on client input: header bytes, body bytes, JSON nesting, checked without recursion."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import ClientDisconnect
from starlette.types import Message

from garrison.gateway import bounds
from garrison.gateway.errors import GatewayError


def test_headers_over_the_limit_are_431() -> None:
    headers = [(b"authorization", b"Bearer k"), (b"x-pad", b"a" * 200)]
    assert bounds.read_headers(headers, 256).authorization == "Bearer k"
    with pytest.raises(GatewayError) as raised:
        bounds.read_headers(headers, 200)
    assert raised.value.status == 431


@pytest.mark.parametrize(
    ("headers", "token"),
    [
        ([(b"authorization", b"Bearer sk-1")], "sk-1"),
        ([(b"authorization", b"bearer   sk-1 ")], "sk-1"),
        ([(b"api-key", b"sk-2")], "sk-2"),
        ([(b"authorization", b"Basic abc"), (b"api-key", b"sk-3")], "sk-3"),
        ([(b"authorization", b"Basic abc")], None),
        ([(b"authorization", b"Bearer ")], None),
        ([], None),
    ],
)
def test_bearer_token(headers: list[tuple[bytes, bytes]], token: str | None) -> None:
    assert bounds.bearer_token(bounds.read_headers(headers, 10_000)) == token


def test_content_length_is_read_only_when_numeric() -> None:
    assert bounds.read_headers([(b"content-length", b"12")], 100).content_length == 12
    assert bounds.read_headers([(b"content-length", b"-1")], 100).content_length is None


def _receive(chunks: list[bytes], disconnect: bool = False) -> Any:
    messages: list[Message] = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    if disconnect:
        messages[-1]["more_body"] = True
        messages.append({"type": "http.disconnect"})

    async def receive() -> Message:
        return messages.pop(0)

    return receive


def test_body_is_counted_while_read_whatever_the_declared_length() -> None:
    chunks = [b"a" * 600, b"b" * 600]
    assert asyncio.run(bounds.read_body(_receive(chunks), 2000, None)) == b"a" * 600 + b"b" * 600
    for declared in (None, 10):  # absent, or a lie
        with pytest.raises(GatewayError) as raised:
            asyncio.run(bounds.read_body(_receive(chunks), 1000, declared))
        assert raised.value.status == 413


def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    async def receive() -> Message:
        raise AssertionError("the body must not be read")

    with pytest.raises(GatewayError) as raised:
        asyncio.run(bounds.read_body(receive, 1000, 5000))
    assert raised.value.status == 413


def test_client_gone_mid_body() -> None:
    with pytest.raises(ClientDisconnect):
        asyncio.run(bounds.read_body(_receive([b"{"], disconnect=True), 1000, None))


def nested(depth: int) -> bytes:
    return ('{"a":' * (depth - 1) + "[1]" + "}" * (depth - 1)).encode()


def test_depth_at_the_limit_passes_one_over_is_400() -> None:
    assert bounds.parse_object(nested(32), 32)
    with pytest.raises(GatewayError, match="deeper than 32") as raised:
        bounds.parse_object(nested(33), 32)
    assert raised.value.status == 400


@pytest.mark.parametrize("depth", [1_000, 100_000, 1_000_000])
def test_deep_nesting_is_400_not_a_crash(depth: int) -> None:
    with pytest.raises(GatewayError, match="deeper than 32"):
        bounds.parse_object(b'{"a":' + b"[" * depth + b"]" * depth + b"}", 32)
    with pytest.raises(GatewayError):  # unbalanced: invalid and deep
        bounds.parse_object(b"[" * depth, 32)


def test_brackets_inside_strings_do_not_count() -> None:
    text = {"messages": [{"content": "[[[[{{{{" * 100 + '\\"]]' + "\\\\["}]}
    assert bounds.parse_object(json.dumps(text).encode(), 4) == text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not valid UTF-8 JSON"),
        (b"{'model': 1}", "not valid UTF-8 JSON"),
        (b'{"a": "\xff"}', "not valid UTF-8 JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'"text"', "must be a JSON object"),
        (b"null", "must be a JSON object"),
    ],
)
def test_invalid_bodies_are_400(body: bytes, message: str) -> None:
    with pytest.raises(GatewayError, match=message) as raised:
        bounds.parse_object(body, 32)
    assert raised.value.status == 400
    assert raised.value.code == "invalid_json"


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n'),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_json, st.integers(min_value=0, max_value=8))
def test_depth_scan_agrees_with_the_parsed_value(value: Any, limit: int) -> None:
    text = json.dumps(value)
    assert bounds.nested_deeper_than(text, limit) == (_depth(value) > limit)


_BODY_PIECES = st.sampled_from(
    [b"{", b"}", b"[", b"]", b'"', b"\\", b":", b",", b'"a"', b"1", b"null", b"\xff", b"\x00"]
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.lists(_BODY_PIECES, max_size=200).map(b"".join))
def test_arbitrary_bodies_give_a_shallow_object_or_a_400(body: bytes) -> None:
    try:
        parsed = bounds.parse_object(body, 4)
    except GatewayError as exc:
        assert exc.status == 400
        return
    assert isinstance(parsed, dict)
    assert _depth(parsed) <= 4
