"""Values of Terraform expressions: UNKNOWN, Terraform's operators and functions, and JSON.

Whatever cannot be known without running Terraform (a variable without a value, `each.key` of
an unknown `for_each`, a provider-computed attribute) is UNKNOWN, and a string that contains
one is text with `${?}` (MARK) in its place. Every size is bounded: a value too large is UNKNOWN.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from garrison.posture.hcl_syntax import MAX_DEPTH

_MAX_STRING = 256 << 10
_MAX_ITEMS = 20_000  # nodes of a value turned into JSON or searched
MARK = "${?}"  # stands for an unknown part of a string


class _Unknown:
    """A value that cannot be known without running Terraform."""

    __slots__ = ()

    def __repr__(self) -> str:
        return MARK


UNKNOWN: Any = _Unknown()


def known(value: Any) -> bool:
    """Whether a value is fully known: not UNKNOWN and not a string with an unknown part."""
    return value is not UNKNOWN and not (isinstance(value, str) and MARK in value)


def parse_json(value: Any) -> Any:
    """A policy as data: a JSON string parsed, a value from jsonencode kept; else None."""
    if isinstance(value, (dict, list)):
        return value
    if not isinstance(value, str):
        return None
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return None


def to_json(value: Any) -> Any:
    """jsonencode: UNKNOWN parts written as MARK; UNKNOWN when the value is too large."""
    budget = [_MAX_ITEMS]

    def plain(item: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0 or depth > MAX_DEPTH:
            raise OverflowError
        if isinstance(item, dict):
            return {str(k): plain(v, depth + 1) for k, v in item.items()}
        if isinstance(item, list):
            return [plain(v, depth + 1) for v in item]
        return MARK if item is UNKNOWN else item

    try:
        return bounded(json.dumps(plain(value, 0)))
    except OverflowError:
        return UNKNOWN


def strings(value: Any) -> Iterator[str]:
    """Every string inside a value (bounded), for searches such as allUsers."""
    stack, count = [value], 0
    while stack and count < _MAX_ITEMS:
        item = stack.pop()
        count += 1
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return "" if value is None else MARK


def bounded(text: str) -> Any:
    return text if len(text) <= _MAX_STRING else UNKNOWN


def binary(operator: str, left: Any, right: Any) -> Any:
    if operator in ("==", "!="):
        if not (known(left) and known(right)):
            return UNKNOWN
        return (left == right) == (operator == "==")
    if operator in ("&&", "||"):
        if isinstance(left, bool) and isinstance(right, bool):
            return (left and right) if operator == "&&" else (left or right)
        if operator == "&&" and (left is False or right is False):
            return False
        if operator == "||" and (left is True or right is True):
            return True
        return UNKNOWN
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
    if not numbers:
        return UNKNOWN
    try:
        return _ARITHMETIC[operator](left, right)
    except (KeyError, ZeroDivisionError, OverflowError):
        return UNKNOWN


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b if abs(a) < 1e15 and abs(b) < 1e15 else UNKNOWN,
    "/": lambda a, b: a / b,
    "%": lambda a, b: a % b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def unary(operator: str, value: Any) -> Any:
    if operator == "!" and isinstance(value, bool):
        return not value
    if operator == "-" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return -value
    return UNKNOWN


def _format(spec: Any, *args: Any) -> Any:
    if not isinstance(spec, str):
        return UNKNOWN
    values = iter(args)

    def verb(m: re.Match[str]) -> str:
        return "%" if m.group() == "%%" else as_text(next(values, UNKNOWN))

    return bounded(re.sub(r"%%|%[-+# 0]*\d*(?:\.\d+)?[a-zA-Z]", verb, spec))


def _merge(*maps: Any) -> Any:
    out: dict[str, Any] = {}
    for item in maps:
        if not isinstance(item, dict):
            return UNKNOWN
        out.update(item)
    return out


def _concat(*lists: Any) -> Any:
    if not all(isinstance(item, list) for item in lists):
        return UNKNOWN
    return [v for item in lists for v in item][:_MAX_ITEMS]


def _join(separator: Any, *lists: Any) -> Any:
    items = [v for item in lists for v in (item if isinstance(item, list) else [UNKNOWN])]
    return bounded(as_text(separator).join(as_text(v) for v in items[:_MAX_ITEMS]))


def _replace(text: Any, old: Any, new: Any) -> Any:
    if not all(isinstance(v, str) and known(v) for v in (text, old, new)):
        return UNKNOWN
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):
        return UNKNOWN  # a regular expression in Terraform's syntax: not guessed at
    return bounded(text.replace(old, new)) if old else text


def _lookup(mapping: Any, key: Any, *default: Any) -> Any:
    if isinstance(mapping, dict) and isinstance(key, str):
        return mapping.get(key, default[0] if default else UNKNOWN)
    return UNKNOWN


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value is UNKNOWN:
            return UNKNOWN  # it might have been the non-empty one
        if value not in (None, ""):
            return value
    return UNKNOWN


def _try(*values: Any) -> Any:
    return next((v for v in values if v is not UNKNOWN), UNKNOWN)


def _string_function(function: Callable[[str], str]) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        return function(value) if isinstance(value, str) else UNKNOWN

    return apply


def _element_at(items: Any, index: Any) -> Any:
    if isinstance(items, list) and items and isinstance(index, int):
        return items[index % len(items)]
    return UNKNOWN


def _length(value: Any) -> Any:
    if isinstance(value, (list, dict)) or (isinstance(value, str) and known(value)):
        return len(value)
    return UNKNOWN


def _same(value: Any) -> Any:
    return value


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "jsonencode": to_json,
    "jsondecode": lambda text: parse_json(text) if isinstance(text, str) else UNKNOWN,
    "merge": _merge,
    "concat": _concat,
    "format": _format,
    "join": _join,
    "replace": _replace,
    "lookup": _lookup,
    "coalesce": _coalesce,
    "try": _try,
    "element": _element_at,
    "length": _length,
    "keys": lambda m: sorted(m) if isinstance(m, dict) else UNKNOWN,
    "values": lambda m: [m[k] for k in sorted(m)] if isinstance(m, dict) else UNKNOWN,
    "lower": _string_function(str.lower),
    "upper": _string_function(str.upper),
    "trimspace": _string_function(str.strip),
    "compact": lambda items: (
        [v for v in items if v not in (None, "")] if isinstance(items, list) else UNKNOWN
    ),
    "tostring": _same,
    "tolist": _same,
    "toset": _same,
    "tomap": _same,
    "tobool": _same,
    "tonumber": _same,
    "sensitive": _same,
    "nonsensitive": _same,
}
# Functions that still say something when an argument is unknown.
TOLERANT = frozenset({"jsonencode", "format", "join", "try", "coalesce"})
