"""safetensors scanner: the JSON header and the byte layout it describes, never tensor data.

safetensors cannot carry code, so what matters is that every reader sees the same tensors:
duplicate keys, overlapping ranges and sizes that disagree with dtype and shape make
readers disagree, and bytes outside every tensor can hide a payload.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from garrison.errors import LimitExceeded, ParseError
from garrison.findings import Severity
from garrison.rules import Rule
from garrison.supplychain.context import ScanContext
from garrison.supplychain.rules import SUPPLY_CHAIN_REFS

OVERLAPPING_TENSORS = Rule(
    "GA-SAFET-001",
    "safetensors tensors overlap",
    Severity.HIGH,
    "Two tensors claim the same bytes, so they alias each other in memory. The reference "
    "loader rejects this but other readers and most scanners do not check it; overlapping "
    "ranges have been used to smuggle data and to confuse tools.",
    "Re-save the model with the safetensors library from trusted weights.",
    SUPPLY_CHAIN_REFS,
)
DUPLICATE_KEYS = Rule(
    "GA-SAFET-002",
    "safetensors header has duplicate JSON keys",
    Severity.HIGH,
    "JSON parsers disagree on which copy of a duplicated key wins (first, last, or error), "
    "so a scanner and a loader can see different tensors: a parser-differential attack.",
    "Re-save the model with the safetensors library from trusted weights.",
    SUPPLY_CHAIN_REFS,
)
INVALID_ENTRY = Rule(
    "GA-SAFET-003",
    "safetensors header entry is invalid",
    Severity.HIGH,
    "A tensor entry breaks the format (unknown dtype, bad shape, offsets out of range, size "
    "that disagrees with dtype and shape, extra fields, non-string metadata). The safetensors "
    "library never writes such an entry and refuses to load it; lenient loaders read it "
    "differently (out-of-bounds reads, aliased memory), which is what a crafted file exploits.",
    "Re-save the model with the safetensors library from trusted weights.",
    SUPPLY_CHAIN_REFS,
)
UNREFERENCED_BYTES = Rule(
    "GA-SAFET-004",
    "safetensors file has bytes outside its tensors",
    Severity.LOW,
    "Bytes between tensors or after the last one belong to no tensor. The safetensors "
    "library never writes them; they can hide an appended payload.",
    "Re-save the model with the safetensors library, or check where the bytes come from.",
    SUPPLY_CHAIN_REFS,
)

INVALID_HEADER = Rule(
    "GA-SAFET-005",
    "safetensors header is invalid",
    Severity.HIGH,
    "The header length or the header JSON breaks the format (length past the end of the file, "
    "JSON that is not an object of tensor entries). The safetensors library never writes and "
    "refuses to load such a file; its only use is against lenient or hand-written loaders.",
    "Re-save the model with the safetensors library from trusted weights.",
    SUPPLY_CHAIN_REFS,
)

RULES: tuple[Rule, ...] = (
    OVERLAPPING_TENSORS, DUPLICATE_KEYS, INVALID_ENTRY, UNREFERENCED_BYTES, INVALID_HEADER,
)  # fmt: skip

# dtype -> bits per element, as in the safetensors Rust crate's Dtype enum.
DTYPE_BITS: dict[str, int] = {
    "BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8,
    "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16, "U16": 16,
    "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64,
    "U64": 64,
}  # fmt: skip
_TENSOR_FIELDS = frozenset({"dtype", "shape", "data_offsets"})
_MAX_DIMS = 1024
_MAX_BYTES = 1 << 64
_HEADER_START = 8


@dataclass(frozen=True, slots=True)
class _Range:
    name: str
    begin: int
    end: int


@dataclass(slots=True)
class _Header:
    duplicates: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    ranges: list[_Range] = field(default_factory=list)


def scan_safetensors(stream: BinaryIO, ctx: ScanContext) -> None:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    prefix = stream.read(8)
    if len(prefix) < 8:
        raise ParseError("file is shorter than the 8-byte header length")
    (length,) = struct.unpack("<Q", prefix)
    if _HEADER_START + length > size:
        ctx.add(INVALID_HEADER, f"header length {length} runs past the end of the {size}-byte file")
        return
    if length > ctx.limits.max_header_bytes:
        raise LimitExceeded("safetensors header bytes", length, ctx.limits.max_header_bytes)
    header = _Header()
    try:
        document = _parse_json(stream.read(length), header)
    except ParseError as exc:
        if ctx.speculative:
            raise
        ctx.add(INVALID_HEADER, str(exc))
        return
    data_len = size - _HEADER_START - length
    for name, entry in document.items():
        _check_entry(name, entry, data_len, header)
    _check_layout(header, data_len, ctx)
    _report(ctx, DUPLICATE_KEYS, header.duplicates, "duplicated")
    _report(ctx, INVALID_ENTRY, header.invalid, "")


def _parse_json(raw: bytes, header: _Header) -> dict[str, Any]:
    if not raw.startswith(b"{"):
        raise ParseError("header does not start with '{'")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"header is not UTF-8 (byte {exc.start})") from None

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                header.duplicates.append(f"'{key}'")
            seen[key] = value
        return seen

    try:
        document = json.loads(text, object_pairs_hook=pairs, parse_constant=_reject_constant)
    except RecursionError:
        raise ParseError("header JSON is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and _reject_constant
        raise ParseError(f"header is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ParseError("header JSON is not an object")
    return document


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_entry(name: str, entry: Any, data_len: int, header: _Header) -> None:
    if name == "__metadata__":
        if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
            header.invalid.append("__metadata__ must map strings to strings")
        return
    if not isinstance(entry, dict):
        header.invalid.append(f"'{name}' is not an object")
        return
    extra = sorted(set(entry) - _TENSOR_FIELDS)
    missing = sorted(_TENSOR_FIELDS - set(entry))
    if extra or missing:
        header.invalid.append(f"'{name}' has fields {sorted(entry)[:6]}")
        if missing:
            return
    problem = _entry_problem(entry, data_len)
    if problem:
        header.invalid.append(f"'{name}' {problem}")
        return
    begin, end = entry["data_offsets"]
    header.ranges.append(_Range(name, begin, end))


def _entry_problem(entry: dict[str, Any], data_len: int) -> str | None:
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str) or dtype not in DTYPE_BITS:
        return f"has unknown dtype {str(dtype)[:40]!r}"
    if not isinstance(shape, list) or len(shape) > _MAX_DIMS or not all(map(_is_count, shape)):
        return "has a shape that is not a list of non-negative integers"
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(map(_is_count, offsets)):
        return "has data_offsets that are not two non-negative integers"
    begin, end = offsets
    if begin > end or end > data_len:
        return f"has data_offsets [{begin}, {end}] outside the {data_len}-byte data section"
    bits = DTYPE_BITS[dtype]
    for dim in shape:
        bits *= dim
        if bits > _MAX_BYTES * 8:
            return "has a shape too large for any file"
    if bits % 8:
        return f"has {bits} bits of {dtype}, not a whole number of bytes"
    if bits // 8 != end - begin:
        return f"needs {bits // 8} bytes for {dtype}{shape} but its range holds {end - begin}"
    return None


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _MAX_BYTES


def _check_layout(header: _Header, data_len: int, ctx: ScanContext) -> None:
    overlaps: list[str] = []
    gaps = 0
    covered = 0
    previous = ""
    for r in sorted(header.ranges, key=lambda r: (r.begin, r.end)):
        if r.end > r.begin and r.begin < covered:
            overlaps.append(f"'{r.name}' [{r.begin}, {r.end}] overlaps '{previous}'")
        elif r.begin > covered:
            gaps += r.begin - covered
        if r.end > covered:
            covered, previous = r.end, r.name
    if overlaps:
        more = f"; +{len(overlaps) - 3} more" if len(overlaps) > 3 else ""
        ctx.add(OVERLAPPING_TENSORS, "; ".join(overlaps[:3]) + more, offset=_HEADER_START)
    if header.invalid:
        return  # ranges of invalid entries are unknown: do not guess at unreferenced bytes
    parts = [f"{gaps} bytes between tensors"] if gaps else []
    if data_len > covered:
        parts.append(f"{data_len - covered} bytes after the last tensor")
    if parts:
        ctx.add(UNREFERENCED_BYTES, ", ".join(parts), offset=_HEADER_START)


def _report(ctx: ScanContext, rule: Rule, entries: list[str], suffix: str) -> None:
    if not entries:
        return
    more = f"; +{len(entries) - 5} more" if len(entries) > 5 else ""
    text = "; ".join(entries[:5]) + more
    ctx.add(rule, f"{text} {suffix}".strip(), offset=_HEADER_START)
