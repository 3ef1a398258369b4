"""A minimal, bounded protobuf wire-format reader for untrusted bytes and large files.

Messages are read field by field from bytes or a seekable stream; length-delimited
payloads are skipped by offset arithmetic, so a multi-GB tensor is never read. No schema
and no protobuf package are needed: scanners know the field numbers they care about.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

from garrison.errors import LimitExceeded, ParseError

VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5
MAX_FIELD_NUMBER = (1 << 29) - 1
MAX_DEPTH = 100  # protobuf's own default recursion limit
_CHUNK = 64 * 1024


class Field(NamedTuple):  # a tuple: built per field, so cheaper than a dataclass
    """One field of a message. For LEN fields `value` is the payload length."""

    number: int
    wire_type: int
    value: int
    start: int  # absolute offset of the payload (LEN) or of the value
    after: int  # absolute offset just past the field

    @property
    def end(self) -> int:
        """End of a LEN payload (the same as `after`)."""
        return self.after

    @property
    def signed(self) -> int:
        """The value of an int32/int64 field (two's complement of the varint)."""
        return self.value - (1 << 64) if self.value >= 1 << 63 else self.value


class Source:
    """Random access to bytes or to a seekable stream, through a small read-ahead buffer."""

    def __init__(self, data: bytes | BinaryIO, max_fields: int = 10_000_000) -> None:
        self._stream: BinaryIO | None
        if isinstance(data, (bytes, bytearray, memoryview)):
            self._stream = None
            self._buf = bytes(data)
            self.size = len(self._buf)
        else:
            self._stream = data
            self._buf = b""
            self.size = data.seek(0, 2)
        self._buf_start = 0
        self.fields_left = max_fields
        self._max_fields = max_fields

    def read(self, pos: int, n: int) -> bytes:
        """Exactly `n` bytes at `pos`, or ParseError when the source ends first."""
        if n < 0 or pos < 0 or pos + n > self.size:
            raise ParseError(f"protobuf truncated: {n} bytes wanted at offset {pos}")
        if n > _CHUNK and self._stream is not None:
            self._stream.seek(pos)
            data = self._stream.read(n)
            if len(data) != n:
                raise ParseError(f"protobuf truncated: {n} bytes wanted at offset {pos}")
            return data
        buf, rel = self._window(pos, n)
        return buf[rel : rel + n]

    def _window(self, pos: int, n: int) -> tuple[bytes, int]:
        """A buffer holding [pos, pos + n) and the index of `pos` in it (n <= _CHUNK)."""
        rel = pos - self._buf_start
        if rel >= 0 and rel + n <= len(self._buf):
            return self._buf, rel
        assert self._stream is not None  # a bytes source holds everything
        self._stream.seek(pos)
        self._buf = self._stream.read(max(_CHUNK, n))
        self._buf_start = pos
        if len(self._buf) < n:
            raise ParseError(f"protobuf truncated: {n} bytes wanted at offset {pos}")
        return self._buf, 0

    def varint(self, pos: int, end: int) -> tuple[int, int]:
        """Decode a varint at `pos` that must end before `end`; returns (value, next pos)."""
        avail = min(10, end - pos, self.size - pos)
        if avail <= 0:
            raise ParseError(f"protobuf truncated: varint expected at offset {pos}")
        buf, rel = self._window(pos, avail)
        byte = buf[rel]
        if byte < 0x80:  # the common case: tags and small values
            return byte, pos + 1
        result = 0
        for i in range(avail):
            byte = buf[rel + i]
            result |= (byte & 0x7F) << (7 * i)
            if byte < 0x80:
                if i == 9 and byte > 1:
                    raise ParseError(f"protobuf varint overflows 64 bits at offset {pos}")
                return result, pos + i + 1
        if avail < 10:
            raise ParseError(f"protobuf truncated: varint at offset {pos}")
        raise ParseError(f"protobuf varint longer than 10 bytes at offset {pos}")

    def spend_field(self) -> None:
        """Count one field against the limit (iter_fields does this inline, for speed)."""
        self.fields_left -= 1
        if self.fields_left < 0:
            raise LimitExceeded("protobuf fields", self._max_fields + 1, self._max_fields)


def iter_fields(
    src: Source, start: int = 0, end: int | None = None, depth: int = 0
) -> Iterator[Field]:
    """Yield the fields of the message stored in [start, end); groups are skipped."""
    end = src.size if end is None else end
    if depth > MAX_DEPTH:
        raise LimitExceeded("protobuf nesting depth", depth, MAX_DEPTH)
    if end > src.size:
        raise ParseError(f"protobuf message runs past the end of the data at offset {start}")
    pos = start
    while pos < end:
        src.fields_left -= 1
        if src.fields_left < 0:
            src.spend_field()  # raises
        field, pos = _read_field(src, pos, end, depth)
        if field is not None:
            yield field


def _read_field(src: Source, pos: int, end: int, depth: int) -> tuple[Field | None, int]:
    tag_pos = pos
    key, pos = src.varint(pos, end)
    number, wire_type = key >> 3, key & 7
    if number == 0 or number > MAX_FIELD_NUMBER:
        raise ParseError(f"protobuf field number {number} is invalid at offset {tag_pos}")
    if wire_type == VARINT:
        value, nxt = src.varint(pos, end)
        return Field(number, wire_type, value, pos, nxt), nxt
    if wire_type in (I64, I32):
        width = 8 if wire_type == I64 else 4
        if pos + width > end:
            raise ParseError(f"protobuf fixed{width * 8} truncated at offset {pos}")
        value = int.from_bytes(src.read(pos, width), "little")
        return Field(number, wire_type, value, pos, pos + width), pos + width
    if wire_type == LEN:
        length, payload = src.varint(pos, end)
        if payload + length > end:
            raise ParseError(
                f"protobuf field {number} claims {length} bytes at offset {payload}; "
                f"only {end - payload} remain"
            )
        return Field(number, wire_type, length, payload, payload + length), payload + length
    if wire_type == SGROUP:
        return None, _skip_group(src, number, pos, end, depth + 1)
    raise ParseError(f"protobuf wire type {wire_type} is invalid at offset {tag_pos}")


def _skip_group(src: Source, number: int, pos: int, end: int, depth: int) -> int:
    """Skip a (deprecated) group up to its matching end tag."""
    if depth > MAX_DEPTH:
        raise LimitExceeded("protobuf nesting depth", depth, MAX_DEPTH)
    while pos < end:
        src.spend_field()
        key, after = src.varint(pos, end)
        if key & 7 == EGROUP:
            if key >> 3 != number:
                raise ParseError(f"protobuf group {number} closed by {key >> 3} at {pos}")
            return after
        _, pos = _read_field(src, pos, end, depth)
    raise ParseError(f"protobuf group {number} is not closed")


def payload(src: Source, field: Field, limit: int) -> bytes:
    """The bytes of a LEN field, refusing payloads over `limit`."""
    if field.wire_type != LEN:
        raise ParseError(f"protobuf field {field.number} is not length-delimited")
    if field.value > limit:
        raise LimitExceeded(f"protobuf field {field.number} bytes", field.value, limit)
    return src.read(field.start, field.value)


def text(src: Source, field: Field, limit: int = 4096) -> str:
    """A string field, clipped to `limit` bytes; undecodable bytes are replaced."""
    if field.wire_type != LEN:
        raise ParseError(f"protobuf field {field.number} is not a string")
    return src.read(field.start, min(field.value, limit)).decode("utf-8", "replace")


def submessage(src: Source, field: Field, depth: int) -> Iterator[Field]:
    """The fields of an embedded message field."""
    if field.wire_type != LEN:
        raise ParseError(f"protobuf field {field.number} is not a message")
    return iter_fields(src, field.start, field.end, depth + 1)


def parse_map_entry(
    src: Source, field: Field, depth: int, limit: int = 4096
) -> tuple[str, Field | None]:
    """A map<string, V> entry: its key as text and its value field (None when absent)."""
    key = ""
    value: Field | None = None
    for sub in submessage(src, field, depth):
        if sub.number == 1 and sub.wire_type == LEN:
            key = text(src, sub, limit)
        elif sub.number == 2:
            value = sub
    return key, value


# -- writing: used by tests and fixtures to build messages without the protobuf package --


def encode_varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_field(number: int, value: int | bytes | str) -> bytes:
    """A varint field (int) or a length-delimited field (bytes/str)."""
    if isinstance(value, int):
        return encode_varint(number << 3 | VARINT) + encode_varint(value)
    data = value.encode("utf-8") if isinstance(value, str) else value
    return encode_varint(number << 3 | LEN) + encode_varint(len(data)) + data
