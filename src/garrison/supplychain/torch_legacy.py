"""Legacy (pre-1.6, non-zip) torch.save files: five pickles, then raw storage bytes.

Layout: pickle(magic number), pickle(protocol version), pickle(sys_info), the main pickle,
pickle(sorted storage keys), then for each key an 8-byte little-endian element count and that
many elements of the storage's dtype. The raw bytes are skipped, never parsed as pickle.
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

from garrison.errors import ParseError
from garrison.findings import Severity
from garrison.rules import Rule
from garrison.supplychain.context import ScanContext
from garrison.supplychain.pickle_vm import (
    Const,
    Container,
    GlobalRef,
    Persistent,
    Program,
    Value,
    VMLimits,
    analyse,
)
from garrison.supplychain.rules import CODE_EXECUTION_REFS

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

LEGACY_STRUCTURE = Rule(
    "GA-TORCH-101",
    "Legacy torch file has an inconsistent layout",
    Severity.MEDIUM,
    "The storage table of this legacy torch.save file does not match its pickles or its size, "
    "so part of the file was not analysed; torch.load may read it differently.",
    "Re-save the model with a current torch (zip format) or as safetensors.",
    CODE_EXECUTION_REFS,
)
LEGACY_TRAILING = Rule(
    "GA-TORCH-102",
    "Data after the storages of a legacy torch file",
    Severity.MEDIUM,
    "Bytes follow the last storage. torch.load ignores them, but they can carry a payload for "
    "another loader; they were scanned as an embedded file.",
    "Re-save the model from a trusted source.",
    CODE_EXECUTION_REFS,
)
LEGACY_VERSION = Rule(
    "GA-TORCH-103",
    "Legacy torch file with an unexpected protocol version",
    Severity.LOW,
    "The file starts like a legacy torch.save file but names another protocol version.",
    "Re-save the model with a current torch.",
    CODE_EXECUTION_REFS,
)

RULES: tuple[Rule, ...] = (LEGACY_STRUCTURE, LEGACY_TRAILING, LEGACY_VERSION)

_ELEMENT_SIZES = {
    "Double": 8, "Float": 4, "Half": 2, "BFloat16": 2, "Long": 8, "Int": 4, "Short": 2,
    "Char": 1, "Byte": 1, "Bool": 1, "ComplexDouble": 16, "ComplexFloat": 8, "QUInt8": 1,
    "QInt8": 1, "QInt32": 4, "QUInt4x2": 1, "QUInt2x4": 1, "Untyped": 1,
}  # fmt: skip
_HEAD = 64
_MAGIC_BYTES = MAGIC_NUMBER.to_bytes(10, "little")
_MAGIC_DIGITS = str(MAGIC_NUMBER).encode()


def is_legacy_torch(stream: BinaryIO) -> bool:
    """True when the first pickle in the stream is the legacy torch magic number."""
    stream.seek(0)
    head = stream.read(_HEAD)
    stream.seek(0)
    # The magic constant appears literally whichever opcode wrote it (LONG1/LONG4 bytes, or
    # INT/LONG digits): without it, skip the VM run that every pickle file would pay.
    if _MAGIC_BYTES not in head and _MAGIC_DIGITS not in head:
        return False
    program = analyse(io.BytesIO(head), 0, VMLimits(_HEAD, 16, _ignore, joblib=False))
    result = program.result
    return program.complete and isinstance(result, Const) and result.value == MAGIC_NUMBER


def _ignore(_: int) -> None:
    return None


def scan_legacy_torch(stream: BinaryIO, ctx: ScanContext) -> None:
    from garrison.supplychain.pickle_scan import scan_one_pickle

    magic = scan_one_pickle(stream, ctx, 0)
    version = scan_one_pickle(stream, ctx, magic.end)
    if not (isinstance(version.result, Const) and version.result.value == PROTOCOL_VERSION):
        ctx.add(LEGACY_VERSION, f"protocol version {_literal(version.result)}",
                offset=magic.end)  # fmt: skip
    sys_info = scan_one_pickle(stream, ctx, version.end)
    main = scan_one_pickle(stream, ctx, sys_info.end)
    keys = scan_one_pickle(stream, ctx, main.end)
    _skip_storages(stream, ctx, main, keys)


def _skip_storages(stream: BinaryIO, ctx: ScanContext, main: Program, keys: Program) -> None:
    sizes = _storage_element_sizes(main)
    key_list = _key_list(keys.result)
    if key_list is None:
        ctx.add(LEGACY_STRUCTURE, "the storage key pickle is not a list of strings",
                offset=keys.start)  # fmt: skip
        return
    stream.seek(0, 2)
    size = stream.tell()
    position = keys.end
    for key in key_list:
        if key not in sizes:
            ctx.add(LEGACY_STRUCTURE, f"storage key {key!r} is not used by the main pickle",
                    offset=position)  # fmt: skip
            return
        ctx.budget.spend_members(1)
        stream.seek(position)
        header = stream.read(8)
        if len(header) < 8:
            raise ParseError(f"legacy torch storage {key!r} truncated at byte {position}")
        (count,) = struct.unpack("<q", header)
        end = position + 8 + count * sizes[key]
        if count < 0 or end > size:
            raise ParseError(f"legacy torch storage {key!r} runs past the end of the file")
        position = end
    if position < size:
        _scan_trailing(stream, ctx, position, size)


def _scan_trailing(stream: BinaryIO, ctx: ScanContext, position: int, size: int) -> None:
    from garrison.supplychain import dispatch

    ctx.add(LEGACY_TRAILING, f"{size - position} bytes after the last storage", offset=position)
    length = min(size - position, ctx.limits.max_nested_bytes)
    stream.seek(position)
    data = stream.read(length)
    dispatch.scan_nested_bytes(data, ctx, f"trailing@{position}")


def _storage_element_sizes(main: Program) -> dict[str, int]:
    """Storage key -> element size, from the main pickle's persistent ids."""
    sizes: dict[str, int] = {}
    for value in _persistent_ids(main):
        items = value.items if isinstance(value, Container) else []
        if len(items) < 3 or not (isinstance(items[0], Const) and items[0].value == "storage"):
            continue
        key = items[2].value if isinstance(items[2], Const) else None
        storage_type = items[1]
        if isinstance(key, str) and isinstance(storage_type, GlobalRef):
            kind = storage_type.name.removesuffix("Storage")
            sizes[key] = _ELEMENT_SIZES.get(kind, 1)
    return sizes


def _persistent_ids(main: Program) -> list[Value]:
    found: list[Value] = []
    seen: set[int] = set()
    stack: list[Value] = [main.result] if main.result is not None else []
    for record in main.calls:
        stack.extend((record.args, record.func))
    budget = 1_000_000  # values visited; checkpoints have far fewer tensors
    while stack and budget:
        budget -= 1
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, Persistent):
            found.append(value.pid)
        elif isinstance(value, Container):
            stack.extend(value.items)
    return found


def _key_list(result: Value | None) -> list[str] | None:
    if not isinstance(result, Container) or result.kind != "list":
        return None
    keys = [item.value for item in result.items if isinstance(item, Const)]
    if len(keys) != len(result.items) or not all(isinstance(k, str) for k in keys):
        return None
    return [str(k) for k in keys]


def _literal(value: Value | None) -> str:
    return repr(value.value) if isinstance(value, Const) else "a non-literal"
