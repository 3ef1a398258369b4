"""atheris target: the gateway's SSE output filter on arbitrary upstream bytes.

The bytes are fed as one stream, split where the first bytes say; nothing may raise, and
a cut stream must still end with `data: [DONE]`.
"""

from __future__ import annotations

import itertools
import json
import sys

import atheris  # type: ignore[import-untyped]

# Only our own code: instrumenting sqlalchemy, pydantic... would cost a long startup.
with atheris.instrument_imports(include=["garrison"]):
    from garrison.gateway.guarding import ContentPolicy, GuardConfig
    from garrison.gateway.keys import ApiKey
    from garrison.gateway.stream_filter import StreamFilter
    from garrison.gateway.tool_policy import ToolPolicy, ToolRule

KEY = ApiKey(id="gk_fuzz", owner="fuzz")
FETCH = ToolRule(url_args=("url",), allowed_domains=("api.example.com",))
GUARDED = ContentPolicy(GuardConfig(output="block", stream_check_chars=32), ToolPolicy())
DONE = b"data: [DONE]\n\n"


def filters() -> list[StreamFilter]:
    return [
        GUARDED.stream_filter("chat", KEY),
        StreamFilter(
            lambda text: ("cut" in text, ()),
            ToolPolicy(rules={"fetch": FETCH}, mode="strip"),
            max_buffer_bytes=512,
        ),
    ]


def as_content(body: bytes) -> bytes:
    """The bytes as the text of a well-formed chunk, so the text guards read them too."""
    text = body.decode("utf-8", "replace")
    chunk = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
    return b"data: " + json.dumps(chunk).encode() + b"\n\n" + DONE


def TestOneInput(data: bytes) -> None:
    cuts, body = data[:4], data[4:]
    for stream in (body, b"data: " + body, as_content(body)):
        bounds = sorted({0, len(stream), *(c * len(stream) // 256 for c in cuts)})
        for f in filters():
            out = b"".join(f.feed(stream[a:b]) for a, b in itertools.pairwise(bounds))
            out += f.close()
            if f.cut and not out.endswith(DONE):
                raise AssertionError(out[-200:])


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
