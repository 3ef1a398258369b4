"""GGUF (llama.cpp) scanner: header, metadata and tensor table, bounded; chat templates analysed.

GGUF cannot carry Python code, but it carries `tokenizer.chat_template`, a Jinja2 program that
servers render with user input. We parse the header the way llama.cpp does (both byte
orders, versions 1-3), check every length and offset against the file, and never read
tensor data.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO

from garrison.errors import LimitExceeded, ParseError
from garrison.findings import Severity
from garrison.rules import Rule
from garrison.supplychain import jinja_template
from garrison.supplychain.context import ScanContext
from garrison.supplychain.rules import SUPPLY_CHAIN_REFS

OVERLAPPING_TENSORS = Rule(
    "GA-GGUF-001",
    "GGUF tensors overlap",
    Severity.HIGH,
    "Two tensors claim the same bytes. llama.cpp refuses such files but other readers map "
    "them, so one region is read as two tensors: a way to smuggle data or confuse tools.",
    "Re-convert the model from its original weights with llama.cpp's convert script.",
    SUPPLY_CHAIN_REFS,
)
DUPLICATE_ENTRY = Rule(
    "GA-GGUF-002",
    "GGUF metadata key or tensor name appears twice",
    Severity.MEDIUM,
    "Readers disagree on which copy wins (llama.cpp rejects the file, others keep the first "
    "or the last), so a scanner and a loader can see different chat templates or weights.",
    "Re-convert the model from its original weights with llama.cpp's convert script.",
    SUPPLY_CHAIN_REFS,
)
UNREFERENCED_BYTES = Rule(
    "GA-GGUF-003",
    "GGUF file has bytes outside its tensors",
    Severity.LOW,
    "Bytes between tensors or after the last one belong to no tensor. Writers do not "
    "produce them; they can hide an appended payload.",
    "Re-convert the model, or check where the extra bytes come from.",
    SUPPLY_CHAIN_REFS,
)
INVALID_ENTRY = Rule(
    "GA-GGUF-004",
    "GGUF metadata or tensor entry is invalid",
    Severity.MEDIUM,
    "An entry breaks the GGUF rules (alignment, tensor type, tensor bounds, chat template "
    "type). Loaders disagree on such files, and tools may stop reading them early.",
    "Re-convert the model from its original weights with llama.cpp's convert script.",
    SUPPLY_CHAIN_REFS,
)

RULES: tuple[Rule, ...] = (
    OVERLAPPING_TENSORS,
    DUPLICATE_ENTRY,
    UNREFERENCED_BYTES,
    INVALID_ENTRY,
    *jinja_template.RULES,
)

_MAGIC = b"GGUF"
_DEFAULT_ALIGNMENT = 32
_MAX_DIMS = 8  # ggml has 4; leave room for future versions
_MAX_NAME_BYTES = 65_535
_MAX_ARRAY_NESTING = 8
_MAX_ENTRIES = 1_000_000  # metadata keys or tensors; real models have thousands at most
_CHUNK = 1 << 20

_UINT32, _STRING, _ARRAY = 4, 8, 9
# value type -> size in bytes, for the fixed-size GGUF value types
_FIXED_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

# ggml tensor type -> (elements per block, bytes per block); from ggml.h / gguf-py constants.
_TENSOR_TYPES: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 40), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176),
    14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98),
    19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1),
    25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2), 34: (256, 54),
    35: (256, 66), 39: (32, 17), 40: (64, 36), 41: (128, 18),
}  # fmt: skip


@dataclass(slots=True)
class _Header:
    """What the scan keeps from the metadata and tensor table."""

    alignment: int = _DEFAULT_ALIGNMENT
    keys: set[str] = field(default_factory=set)
    tensor_names: set[str] = field(default_factory=set)
    duplicates: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    tensors: list[_Tensor] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Tensor:
    name: str
    offset: int  # relative to the start of the data section
    nbytes: int | None  # None for a tensor type we do not know


class _Reader:
    """Bounded reads of the header: every length is checked against the file and the limit."""

    def __init__(self, stream: BinaryIO, size: int, limit: int, endian: str, wide: bool) -> None:
        self.stream = stream
        self.size = size
        self.limit = limit
        self.pos = 0
        self.buf = b""
        self.buf_start = 0
        self.u32 = struct.Struct(endian + "I")
        self.u64 = struct.Struct(endian + "Q")
        # GGUF v1 stored counts and lengths as 32-bit; v2 and later as 64-bit.
        self.length = self.u64 if wide else self.u32

    def _check(self, end: int, what: str) -> None:
        if end > self.size:
            raise ParseError(f"{what} at offset {self.pos} runs past the end of the file")
        if end > self.limit:
            raise LimitExceeded("GGUF header bytes", end, self.limit)

    def read(self, n: int, what: str) -> bytes:
        end = self.pos + n
        self._check(end, what)
        offset = self.pos - self.buf_start
        if offset < 0 or end - self.buf_start > len(self.buf):
            self.stream.seek(self.pos)
            self.buf = self.stream.read(min(max(n, _CHUNK), self.size - self.pos))
            self.buf_start, offset = self.pos, 0
            if len(self.buf) < n:
                raise ParseError(f"{what} at offset {self.pos} could not be read")
        self.pos = end
        return self.buf[offset : offset + n]

    def skip(self, n: int, what: str) -> None:
        self._check(self.pos + n, what)
        self.pos += n

    def uint32(self, what: str) -> int:
        value: int = self.u32.unpack(self.read(4, what))[0]
        return value

    def uint64(self, what: str) -> int:
        value: int = self.u64.unpack(self.read(8, what))[0]
        return value

    def count(self, what: str) -> int:
        value: int = self.length.unpack(self.read(self.length.size, what))[0]
        return value

    def string(self, what: str, max_bytes: int) -> bytes:
        n = self.count(what)
        if n > max_bytes:
            raise ParseError(f"{what} claims {n} bytes (at most {max_bytes} expected)")
        return self.read(n, what)

    def skip_strings(self, count: int, what: str) -> None:
        """Skip an array of strings; the hot loop of big vocabularies, so kept tight."""
        width = self.length.size
        unpack = self.length.unpack
        for _ in range(count):
            self.pos += width + unpack(self.read(width, what))[0]
            self._check(self.pos, what)

    def remaining(self) -> int:
        """Bytes left in the file: what claimed counts are checked against."""
        return self.size - self.pos


def scan_gguf(stream: BinaryIO, ctx: ScanContext) -> None:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    reader = _open(stream, size, ctx.limits.max_header_bytes)
    tensor_count = reader.count("tensor count")
    kv_count = reader.count("metadata count")
    _check_count(kv_count, 9, reader, "metadata entries")
    _check_count(tensor_count, 20, reader, "tensors")
    header = _Header()
    for _ in range(kv_count):
        _read_entry(reader, header, ctx)
    for _ in range(tensor_count):
        header.tensors.append(_read_tensor_info(reader, header))
    data_start = _align(reader.pos, header.alignment)
    _check_layout(header, data_start, size, ctx)
    _report_entries(header, ctx)


def _open(stream: BinaryIO, size: int, limit: int) -> _Reader:
    head = stream.read(8)
    if len(head) < 8 or head[:4] != _MAGIC:
        raise ParseError("not a GGUF file (bad magic or truncated header)")
    (version,) = struct.unpack("<I", head[4:8])
    endian = "<"
    if version & 0xFFFF == 0:
        # Written on a big-endian host: llama.cpp and gguf-py detect it the same way.
        (version,) = struct.unpack(">I", head[4:8])
        endian = ">"
    if version not in (1, 2, 3):
        raise ParseError(f"unsupported GGUF version {version}")
    reader = _Reader(stream, size, limit, endian, wide=version >= 2)
    reader.skip(8, "header")
    return reader


def _check_count(count: int, min_bytes: int, reader: _Reader, what: str) -> None:
    if count * min_bytes > reader.remaining():
        raise ParseError(f"header claims {count} {what}, more than the file can hold")
    if count > _MAX_ENTRIES:
        raise LimitExceeded(f"GGUF {what}", count, _MAX_ENTRIES)


def _read_entry(reader: _Reader, header: _Header, ctx: ScanContext) -> None:
    key = reader.string("metadata key", _MAX_NAME_BYTES).decode("utf-8", "replace")
    vtype = reader.uint32(f"type of '{key}'")
    if key in header.keys:
        header.duplicates.append(f"metadata key '{key}'")
    header.keys.add(key)
    if key == "general.alignment":
        _read_alignment(reader, header, vtype)
    elif key == "tokenizer.chat_template" or key.startswith("tokenizer.chat_template."):
        _read_template(reader, header, ctx, key, vtype)
    else:
        _skip_value(reader, vtype, key, 0)


def _read_alignment(reader: _Reader, header: _Header, vtype: int) -> None:
    if vtype != _UINT32:
        header.invalid.append(f"general.alignment has value type {vtype}, not uint32")
        _skip_value(reader, vtype, "general.alignment", 0)
        return
    value = reader.uint32("general.alignment")
    if value == 0 or value & (value - 1):
        header.invalid.append(f"general.alignment {value} is not a power of two")
    else:
        header.alignment = value


def _read_template(
    reader: _Reader, header: _Header, ctx: ScanContext, key: str, vtype: int
) -> None:
    if vtype != _STRING:
        header.invalid.append(f"'{key}' holds value type {vtype}, not a string")
        _skip_value(reader, vtype, key, 0)
        return
    offset = reader.pos
    max_bytes = 4 * jinja_template.MAX_TEMPLATE_CHARS
    length = reader.count(f"'{key}' length")
    where = f"GGUF metadata '{key}'"
    if length > max_bytes:
        reader.skip(length, f"'{key}'")
        what = f"{where}: template is {length} bytes; analysis limit {max_bytes}"
        ctx.add(jinja_template.TEMPLATE_UNPARSEABLE, what, offset=offset)
        return
    text = reader.read(length, f"'{key}'").decode("utf-8", "replace")
    jinja_template.report_template(ctx, text, where, offset=offset)


def _skip_value(reader: _Reader, vtype: int, key: str, depth: int) -> None:
    size = _FIXED_SIZES.get(vtype)
    if size is not None:
        reader.skip(size, f"value of '{key}'")
    elif vtype == _STRING:
        reader.skip(reader.count(f"'{key}' length"), f"value of '{key}'")
    elif vtype == _ARRAY:
        _skip_array(reader, key, depth)
    else:
        raise ParseError(f"metadata '{key}' has unknown value type {vtype}")


def _skip_array(reader: _Reader, key: str, depth: int) -> None:
    if depth >= _MAX_ARRAY_NESTING:
        raise LimitExceeded("GGUF array nesting", depth + 1, _MAX_ARRAY_NESTING)
    etype = reader.uint32(f"element type of '{key}'")
    n = reader.count(f"length of '{key}'")
    size = _FIXED_SIZES.get(etype)
    if size is not None:
        reader.skip(n * size, f"array '{key}'")
        return
    min_size = {_STRING: reader.length.size, _ARRAY: 4 + reader.length.size}.get(etype)
    if min_size is None:
        raise ParseError(f"array '{key}' has unknown element type {etype}")
    if n * min_size > reader.remaining():
        raise ParseError(f"array '{key}' claims {n} elements, more than the file can hold")
    if etype == _STRING:
        reader.skip_strings(n, f"array '{key}'")
        return
    for _ in range(n):
        _skip_array(reader, key, depth + 1)


def _read_tensor_info(reader: _Reader, header: _Header) -> _Tensor:
    name = reader.string("tensor name", _MAX_NAME_BYTES).decode("utf-8", "replace")
    n_dims = reader.uint32(f"dimensions of tensor '{name}'")
    if n_dims > _MAX_DIMS:
        raise ParseError(f"tensor '{name}' has {n_dims} dimensions (at most {_MAX_DIMS})")
    dims = [reader.count(f"shape of tensor '{name}'") for _ in range(n_dims)]
    ggml_type = reader.uint32(f"type of tensor '{name}'")
    offset = reader.uint64(f"offset of tensor '{name}'")
    if name in header.tensor_names:
        header.duplicates.append(f"tensor '{name}'")
    header.tensor_names.add(name)
    return _Tensor(name, offset, _tensor_bytes(name, dims, ggml_type, header))


def _tensor_bytes(name: str, dims: list[int], ggml_type: int, header: _Header) -> int | None:
    layout = _TENSOR_TYPES.get(ggml_type)
    if layout is None:
        header.invalid.append(f"tensor '{name}' has unknown type {ggml_type}")
        return None
    block, block_bytes = layout
    elements = 1
    for dim in dims:
        elements *= dim
    if dims and dims[0] % block:
        header.invalid.append(f"tensor '{name}' row of {dims[0]} is not a multiple of {block}")
    return elements // block * block_bytes


def _align(offset: int, alignment: int) -> int:
    return offset + (-offset % alignment)


def _check_layout(header: _Header, data_start: int, size: int, ctx: ScanContext) -> None:
    sized = sorted(
        (t for t in header.tensors if t.nbytes is not None),
        key=lambda t: (t.offset, t.nbytes or 0),
    )
    for tensor in header.tensors:
        if tensor.offset % header.alignment:
            header.invalid.append(f"tensor '{tensor.name}' offset {tensor.offset} is unaligned")
        end = data_start + tensor.offset + (tensor.nbytes or 0)
        if end > size:
            header.invalid.append(f"tensor '{tensor.name}' ends at byte {end}, past the file")
    overlaps: list[str] = []
    gaps = 0
    covered = 0  # end of the data claimed so far, relative to data_start
    previous = ""
    for tensor in sized:
        assert tensor.nbytes is not None
        if tensor.nbytes and tensor.offset < covered:
            overlaps.append(f"'{tensor.name}' overlaps '{previous}' at data offset {tensor.offset}")
        elif tensor.offset > _align(covered, header.alignment):
            gaps += tensor.offset - _align(covered, header.alignment)
        if tensor.offset + tensor.nbytes > covered:
            covered, previous = tensor.offset + tensor.nbytes, tensor.name
    if overlaps:
        more = f"; +{len(overlaps) - 3} more" if len(overlaps) > 3 else ""
        ctx.add(OVERLAPPING_TENSORS, "; ".join(overlaps[:3]) + more, offset=data_start)
    _report_unreferenced(header, data_start, covered, gaps, size, ctx)


def _report_unreferenced(
    header: _Header, data_start: int, covered: int, gaps: int, size: int, ctx: ScanContext
) -> None:
    if len(header.tensors) != sum(1 for t in header.tensors if t.nbytes is not None):
        return  # a tensor of unknown size: we cannot tell what is unreferenced
    trailing = size - data_start - _align(covered, header.alignment)
    if not header.tensors:
        trailing = size - data_start if size > data_start else 0
    parts = []
    if gaps:
        parts.append(f"{gaps} bytes between tensors")
    if trailing > 0:
        parts.append(f"{trailing} bytes after the last tensor")
    if parts:
        ctx.add(UNREFERENCED_BYTES, ", ".join(parts), offset=data_start)


def _report_entries(header: _Header, ctx: ScanContext) -> None:
    for rule, entries in ((DUPLICATE_ENTRY, header.duplicates), (INVALID_ENTRY, header.invalid)):
        if entries:
            more = f"; +{len(entries) - 5} more" if len(entries) > 5 else ""
            ctx.add(rule, "; ".join(entries[:5]) + more)
