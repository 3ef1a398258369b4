"""A tiny pickle assembler for test payloads: writes opcodes, never imports or loads anything.

Payload generators describe a call graph with `Global` and `Call`; `assemble` turns it into
pickle bytes for a chosen protocol. Writing opcodes by hand (rather than `pickle.dumps` of an
object with `__reduce__`) means the target module is never imported, so gadgets in modules
that do not exist here (`distutils`, `idlelib.pyshell` without tkinter) can still be written.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Union

COMMAND = "echo garrison-test"
PY_PAYLOAD = f"__import__('os').system('{COMMAND}')"

Value = Union[
    None, bool, int, float, str, bytes, "Global", "Call", "Raw", tuple["Value", ...],
    list["Value"], dict[str, "Value"],
]  # fmt: skip


@dataclass(frozen=True)
class Global:
    """A global looked up by module and (possibly dotted) name."""

    module: str
    name: str


@dataclass(frozen=True)
class Call:
    """`func(*args)` through REDUCE."""

    func: Value
    args: tuple[Value, ...] = ()


@dataclass(frozen=True)
class Raw:
    """Opcodes inserted verbatim (for hand-built tricks)."""

    data: bytes


def assemble(value: Value, proto: int = 4) -> bytes:
    """Return a complete pickle (PROTO header when proto >= 2, then STOP)."""
    head = bytes([0x80, proto]) if proto >= 2 else b""
    return head + emit(value, proto) + b"."


def call(module: str, name: str, *args: Value, proto: int = 4) -> bytes:
    """A whole pickle that calls `module.name(*args)`."""
    return assemble(Call(Global(module, name), args), proto)


def emit(value: Value, proto: int) -> bytes:
    """Opcodes that push `value` on the unpickler's stack."""
    if isinstance(value, Raw):
        return value.data
    if isinstance(value, Global):
        return _global(value, proto)
    if isinstance(value, Call):
        return emit(value.func, proto) + _tuple(value.args, proto) + b"R"
    if isinstance(value, tuple):
        return _tuple(value, proto)
    if isinstance(value, list):
        items = b"".join(emit(v, proto) for v in value)
        return b"](" + items + b"e" if proto >= 1 else b"(" + items + b"l"
    if isinstance(value, dict):
        items = b"".join(emit(k, proto) + emit(v, proto) for k, v in value.items())
        return b"}(" + items + b"u" if proto >= 1 else b"(" + items + b"d"
    return _scalar(value, proto)


def _global(value: Global, proto: int) -> bytes:
    if proto >= 4:
        return _str(value.module, proto) + _str(value.name, proto) + b"\x93"
    return b"c" + value.module.encode() + b"\n" + value.name.encode() + b"\n"


def _tuple(items: tuple[Value, ...], proto: int) -> bytes:
    body = b"".join(emit(v, proto) for v in items)
    if proto >= 2 and len(items) <= 3:
        return body + (b")", b"\x85", b"\x86", b"\x87")[len(items)]
    return b"(" + body + b"t"


def _scalar(value: bool | int | float | str | bytes | None, proto: int) -> bytes:
    if value is None:
        return b"N"
    if isinstance(value, bool):
        if proto >= 2:
            return b"\x88" if value else b"\x89"
        return b"I01\n" if value else b"I00\n"
    if isinstance(value, int):
        if proto >= 1 and -(2**31) <= value < 2**31:
            return b"J" + struct.pack("<i", value)
        return b"I" + str(value).encode() + b"\n"
    if isinstance(value, float):
        return (
            b"G" + struct.pack(">d", value) if proto >= 1 else b"F" + repr(value).encode() + b"\n"
        )
    if isinstance(value, str):
        return _str(value, proto)
    return _bytes(value, proto)


def _str(value: str, proto: int) -> bytes:
    data = value.encode("utf-8")
    if proto >= 4 and len(data) < 256:
        return b"\x8c" + bytes([len(data)]) + data
    if proto >= 1:
        return b"X" + struct.pack("<I", len(data)) + data
    return b"V" + value.encode("raw-unicode-escape") + b"\n"


def _bytes(value: bytes, proto: int) -> bytes:
    if proto >= 3:
        if len(value) < 256:
            return b"C" + bytes([len(value)]) + value
        return b"B" + struct.pack("<I", len(value)) + value
    # Protocols 0-2 have no bytes type; codecs.encode(latin-1 text) is how pickle itself does it.
    text = value.decode("latin-1")
    return emit(Call(Global("_codecs", "encode"), (text, "latin1")), proto)


def inject_after_proto(original: bytes, payload: Value) -> bytes:
    """Insert `payload` (then POP) right after the PROTO/FRAME header of an existing pickle.

    This is fickling's injection: the original object is still returned, so the host
    application keeps working while the payload runs first.
    """
    proto = original[1] if original[:1] == b"\x80" else 0
    start = 2 if original[:1] == b"\x80" else 0
    if original[start : start + 1] == b"\x95":  # FRAME: drop it, frames are optional
        start += 9
    return original[:start] + emit(payload, proto) + b"0" + original[start:]


def os_system() -> Call:
    """The canonical payload, spelled as pickle records it on POSIX."""
    return Call(Global("posix", "system"), (COMMAND,))
