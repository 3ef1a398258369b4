"""A fake OpenAI upstream for the gateway benchmark: a raw ASGI app, no framework.

    python benchmarks/_gateway_upstream.py --port 18000 [--cpus 0]

Answers POST .../chat/completions with one fixed non-streaming completion (with usage) and
GET .../models with one model, so that what a proxy adds is not hidden by the upstream's own
cost: on uvicorn with httptools and uvloop a request costs it a few hundred microseconds.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MODEL = "bench-model"
COMPLETION = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "The three main risks are listed."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 48, "completion_tokens": 8, "total_tokens": 56},
    }
).encode()
MODELS = json.dumps(
    {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "bench"}]}
).encode()
NOT_FOUND = b'{"error": {"message": "not found", "type": "invalid_request_error"}}'


def _headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]


RESPONSES = {
    ("POST", "chat/completions"): (200, COMPLETION, _headers(COMPLETION)),
    ("GET", "models"): (200, MODELS, _headers(MODELS)),
}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:  # drain the request body; its content does not change the answer
        more = (await receive()).get("more_body", False)
    route = scope["path"].rstrip("/").removeprefix("/v1/").removeprefix("/")
    status, body, headers = RESPONSES.get(
        (scope["method"], route), (404, NOT_FOUND, _headers(NOT_FOUND))
    )
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cpus", default="", help="comma-separated CPUs to pin to")
    args = parser.parse_args()
    if args.cpus:
        os.sched_setaffinity(0, {int(c) for c in args.cpus.split(",")})
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        backlog=4096,
    )


if __name__ == "__main__":
    main()
