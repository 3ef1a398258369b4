"""NumPy .npy files (and, through the zip scanner, the members of .npz archives).

The header is a Python dict literal, read with `ast.literal_eval` on a bounded string (it
evaluates literals only). An object dtype means `np.load(allow_pickle=True)` unpickles the
rest of the file, so that part is handed to the pickle analyser.
"""

from __future__ import annotations

import ast
import io
import math
import re
import struct
from dataclasses import dataclass
from typing import BinaryIO

from garrison.errors import LimitExceeded, ParseError
from garrison.findings import Severity
from garrison.rules import Rule
from garrison.supplychain.context import ScanContext

_REFS = ("OWASP-LLM03:2025", "OWASP-ML06:2023", "ATLAS-AML.T0011", "NIST-AI-RMF-MAP-4.1")

OBJECT_ARRAY = Rule(
    "GA-NPY-001",
    "NumPy array of Python objects (loading it unpickles data)",
    Severity.LOW,
    "The array's dtype holds Python objects, stored as a pickle that np.load runs only with "
    "allow_pickle=True. The pickle is analysed separately (its dangerous calls are reported "
    "by the pickle rules); this finding says the file needs that unsafe flag at all.",
    "Store numeric arrays (or safetensors) instead of object arrays.",
    _REFS,
)
SIZE_MISMATCH = Rule(
    "GA-NPY-002",
    "NumPy data length does not match its header",
    Severity.MEDIUM,
    "The bytes after the header are fewer (truncated) or more (hidden trailing data) than "
    "shape × item size. NumPy never writes such files.",
    "Re-save the array with numpy, or obtain the file from a trusted source.",
    _REFS,
)
RULES: tuple[Rule, ...] = (OBJECT_ARRAY, SIZE_MISMATCH)

MAGIC = b"\x93NUMPY"
MAX_HEADER_BYTES = 1024 * 1024  # numpy itself refuses more than 10,000 without allow_pickle
MAX_DESCR_DEPTH = 32
MAX_DIMS = 64  # numpy's own limit
_KEYS = {"descr", "fortran_order", "shape"}
_TYPESTR = re.compile(r"^[<>|=]?([a-zA-Z])(\d*)(\[\w+\])?$")
_FIXED_SIZES = {"b": 1, "B": 1, "?": 1, "h": 2, "H": 2, "i": 4, "I": 4, "l": 8, "L": 8}
_FIXED_SIZES |= {"q": 8, "Q": 8, "e": 2, "f": 4, "d": 8, "g": 16, "F": 8, "D": 16, "G": 32}
_FIXED_SIZES |= {"O": 8, "M": 8, "m": 8}
_SIZED_KINDS = {"i": 1, "u": 1, "f": 1, "c": 1, "b": 1, "S": 1, "a": 1, "V": 1, "U": 4}


@dataclass(frozen=True, slots=True)
class NpyHeader:
    version: tuple[int, int]
    descr: object
    fortran_order: bool
    shape: tuple[int, ...]
    data_offset: int

    @property
    def count(self) -> int:
        return math.prod(self.shape)


def read_header(stream: BinaryIO) -> NpyHeader:
    """Parse the magic, version, header length and header dict. Raises ParseError."""
    prefix = stream.read(len(MAGIC) + 2)
    if len(prefix) < len(MAGIC) + 2 or not prefix.startswith(MAGIC):
        raise ParseError("not a .npy file (bad magic)")
    version = (prefix[6], prefix[7])
    if version == (1, 0):
        length_format, encoding = "<H", "latin1"
    elif version in ((2, 0), (3, 0)):
        length_format, encoding = "<I", "latin1" if version == (2, 0) else "utf8"
    else:
        raise ParseError(f"unknown .npy format version {version[0]}.{version[1]}")
    raw_length = stream.read(struct.calcsize(length_format))
    if len(raw_length) != struct.calcsize(length_format):
        raise ParseError(".npy header length truncated")
    (length,) = struct.unpack(length_format, raw_length)
    if length > MAX_HEADER_BYTES:
        raise LimitExceeded(".npy header bytes", length, MAX_HEADER_BYTES)
    text = stream.read(length)
    if len(text) != length:
        raise ParseError(".npy header truncated")
    descr, fortran_order, shape = _parse_dict(text, encoding)
    data_offset = len(prefix) + len(raw_length) + length
    return NpyHeader(version, descr, fortran_order, shape, data_offset)


def _parse_dict(raw: bytes, encoding: str) -> tuple[object, bool, tuple[int, ...]]:
    try:
        value = ast.literal_eval(raw.decode(encoding))
    except (ValueError, SyntaxError, TypeError, UnicodeDecodeError, RecursionError, MemoryError):
        raise ParseError(".npy header is not a Python literal") from None
    if not isinstance(value, dict) or set(value) != _KEYS:
        raise ParseError(".npy header must be a dict with descr, fortran_order and shape")
    shape = value["shape"]
    if (
        not isinstance(shape, tuple)
        or len(shape) > MAX_DIMS
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
    ):
        raise ParseError(f".npy shape is not a tuple of sizes: {shape!r:.80}")
    fortran_order = value["fortran_order"]
    if not isinstance(fortran_order, bool):
        raise ParseError(".npy fortran_order is not a bool")
    return value["descr"], fortran_order, shape


def has_objects(descr: object, depth: int = 0) -> bool:
    """True when the dtype description holds Python objects anywhere (structured too)."""
    if depth > MAX_DESCR_DEPTH:
        raise ParseError(".npy dtype nested too deeply")
    if isinstance(descr, str):
        return any(_is_object_typestr(part.strip()) for part in descr.split(","))
    if isinstance(descr, tuple) and descr:
        return has_objects(descr[0], depth + 1)
    if isinstance(descr, list):
        return any(_field_has_objects(field, depth + 1) for field in descr)
    raise ParseError(f".npy descr of unexpected type {type(descr).__name__}")


def _field_has_objects(field: object, depth: int) -> bool:
    if not isinstance(field, tuple) or len(field) not in (2, 3):
        raise ParseError(".npy structured dtype field is not (name, type[, shape])")
    return has_objects(field[1], depth)


def _is_object_typestr(typestr: str) -> bool:
    stripped = typestr.lstrip("<>|=")
    return stripped.startswith("O") or stripped.startswith("object")


def itemsize(descr: object, depth: int = 0) -> int | None:
    """Bytes per element, or None when the description is beyond this simple model."""
    if depth > MAX_DESCR_DEPTH:
        return None
    if isinstance(descr, str):
        return _typestr_size(descr)
    if isinstance(descr, list):
        total = 0
        for field in descr:
            if not isinstance(field, tuple) or len(field) not in (2, 3):
                return None
            size = itemsize(field[1], depth + 1)
            shape = field[2] if len(field) == 3 else ()
            if size is None or not _is_shape(shape):
                return None
            total += size * math.prod(shape if isinstance(shape, tuple) else (shape,))
        return total
    return None


def _is_shape(shape: object) -> bool:
    if isinstance(shape, int) and not isinstance(shape, bool):
        return shape >= 0
    return isinstance(shape, tuple) and all(isinstance(n, int) and n >= 0 for n in shape)


def _typestr_size(typestr: str) -> int | None:
    match = _TYPESTR.match(typestr)
    if match is None:
        return None
    kind, digits = match.group(1), match.group(2)
    if digits:
        return int(digits) * _SIZED_KINDS.get(kind, 1)
    return _FIXED_SIZES.get(kind)


def scan_npy(stream: BinaryIO, ctx: ScanContext) -> None:
    """Handler for .npy files."""
    header = read_header(stream)
    size = stream.seek(0, io.SEEK_END)
    if has_objects(header.descr):
        _scan_object_array(stream, ctx, header)
        return
    _check_length(ctx, header, size)


def _scan_object_array(stream: BinaryIO, ctx: ScanContext, header: NpyHeader) -> None:
    from garrison.supplychain.pickle_scan import scan_pickle_from

    ctx.add(
        OBJECT_ARRAY,
        f"dtype {header.descr!r:.120}, shape {header.shape!r:.60}: np.load needs allow_pickle=True",
        offset=header.data_offset,
    )
    stream.seek(header.data_offset)
    scan_pickle_from(stream, ctx, header.data_offset)


def _check_length(ctx: ScanContext, header: NpyHeader, size: int) -> None:
    per_item = itemsize(header.descr)
    if per_item is None:
        return
    expected = header.count * per_item
    actual = size - header.data_offset
    if actual != expected:
        state = "truncated" if actual < expected else "followed by unexplained bytes"
        ctx.add(
            SIZE_MISMATCH,
            f"shape {header.shape!r:.60} × {per_item} bytes needs {expected} bytes of data, "
            f"file has {actual} ({state})",
            offset=header.data_offset,
        )
