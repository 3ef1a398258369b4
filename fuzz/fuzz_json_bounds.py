"""atheris target: the gateway's request-body parser and its JSON depth bound.

Arbitrary bytes give a JSON object or a GatewayError (a 400), never another exception;
an object that passes is nested no deeper than the limit.
"""

from __future__ import annotations

import sys
from typing import Any

import atheris  # type: ignore[import-untyped]

# Only our own code: instrumenting sqlalchemy, pydantic... would cost a long startup.
with atheris.instrument_imports(include=["garrison"]):
    from garrison.gateway.bounds import parse_object
    from garrison.gateway.errors import GatewayError

LIMIT = 8


def depth(value: Any) -> int:
    # Iterative: what passed may still be deep if the bound is wrong.
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            level += 1
            deepest = max(deepest, level)
            stack.extend((v, level) for v in (node.values() if isinstance(node, dict) else node))
    return deepest


def TestOneInput(data: bytes) -> None:
    try:
        parsed = parse_object(data, LIMIT)
    except GatewayError as exc:
        if exc.status != 400:
            raise AssertionError(exc.status) from exc
        return
    if not isinstance(parsed, dict) or depth(parsed) > LIMIT:
        raise AssertionError(data[:200])


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
