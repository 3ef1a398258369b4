"""Bounds on what a client sends: header bytes, body bytes, JSON nesting.

Each check runs before the next costs anything: headers before the body is read, the
declared Content-Length before a byte of it, the byte count while reading (a lying or absent
Content-Length gains nothing), and the nesting without recursion.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import Receive

from garrison.gateway import errors

# A JSON string, escapes included: unambiguous, so it never backtracks more than linearly.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


@dataclass(frozen=True, slots=True)
class RequestHeaders:
    """The few headers the gateway reads, picked up in the pass that measures them all."""

    authorization: str | None = None
    api_key: str | None = None
    content_length: int | None = None
    accept: str | None = None
    inference_header: str | None = None  # KServe's binary tensor extension


def read_headers(headers: list[tuple[bytes, bytes]], max_bytes: int) -> RequestHeaders:
    total = 0
    authorization = api_key = length = accept = binary = None
    for name, value in headers:
        total += len(name) + len(value)
        if name == b"authorization":
            authorization = value
        elif name == b"api-key":
            api_key = value
        elif name == b"content-length":
            length = value
        elif name == b"accept":
            accept = value
        elif name == b"inference-header-content-length":
            binary = value
    if total > max_bytes:
        raise errors.headers_too_large(max_bytes)
    return RequestHeaders(
        authorization=_text(authorization),
        api_key=_text(api_key),
        content_length=int(length) if length is not None and length.isdigit() else None,
        accept=_text(accept),
        inference_header=_text(binary),
    )


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


def bearer_token(headers: RequestHeaders) -> str | None:
    """The key from `Authorization: Bearer <key>`, else from the `api-key` header."""
    if headers.authorization is not None:
        scheme, _, token = headers.authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    if headers.api_key is not None and headers.api_key.strip():
        return headers.api_key.strip()
    return None


async def read_body(receive: Receive, max_bytes: int, declared: int | None) -> bytes:
    """The whole body, refused with 413 as soon as it is known to be too large."""
    if declared is not None and declared > max_bytes:
        raise errors.body_too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > max_bytes:
                raise errors.body_too_large(max_bytes)
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def parse_object(body: bytes, max_depth: int) -> dict[str, Any]:
    """A JSON object nested at most `max_depth` deep, or a 400 that says what is wrong."""
    try:
        text = body.decode("utf-8")
        data = json.loads(text)
    except RecursionError:  # nested deeper than the interpreter's own limit
        raise errors.invalid_json(_too_deep(max_depth)) from None
    except ValueError:  # includes UnicodeDecodeError and JSONDecodeError
        raise errors.invalid_json("request body is not valid UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise errors.invalid_json("request body must be a JSON object") from None
    if nested_deeper_than(text, max_depth):
        raise errors.invalid_json(_too_deep(max_depth))
    return data


def _too_deep(max_depth: int) -> str:
    return f"request body is nested deeper than {max_depth} levels"


def nested_deeper_than(text: str, limit: int) -> bool:
    """Whether valid JSON text nests more than `limit` levels, counted without recursion.

    Text holding no more brackets than `limit`, counting those inside strings too, cannot be.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for bracket in "".join(_BRACKETS.findall(_STRING.sub("", text))):
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False
