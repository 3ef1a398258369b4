"""The zip container's structure: end records (ZIP64 too), central directory, local headers.

Our own bounded parser rather than `zipfile`, so that the scanner sees what every reader
might see: `zipfile` refuses members whose "encrypted" flag is set while PyTorch's miniz
reader ignores the flag (a published scanner bypass), and it hides duplicate names, data
before the first member and headers that disagree. Nothing here judges; zip_scan does.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from garrison.errors import LimitExceeded, ParseError
from garrison.supplychain import formats

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

_EOCD = struct.Struct("<4sHHHHIIH")
_EOCD64_LOCATOR = struct.Struct("<4sIQI")
_EOCD64 = struct.Struct("<4sQHHIIQQQQ")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
LOCAL_HEADER_SIZE = _LOCAL.size
EOCD_SIG = b"PK\x05\x06"
LOCAL_SIG = b"PK\x03\x04"
CENTRAL_SIG = b"PK\x01\x02"
MAX_EOCD_CANDIDATES = 16


@dataclass(frozen=True, slots=True)
class CentralEntry:
    index: int
    name: str
    raw_name: bytes
    flags: int
    method: int
    csize: int
    usize: int
    header_offset: int  # absolute position in the stream


@dataclass(frozen=True, slots=True)
class ZipDirectory:
    entries: tuple[CentralEntry, ...]
    cd_start: int
    cd_end: int
    eocd_pos: int
    end: int  # first byte after the end record and its comment
    declared_count: int
    zip64: bool
    truncated: bool = False  # more entries than the member limit allowed reading

    @property
    def start(self) -> int:
        """Where the archive's first member (or its directory, when empty) begins."""
        return min((e.header_offset for e in self.entries), default=self.cd_start)


@dataclass(frozen=True, slots=True)
class LocalHeader:
    raw_name: bytes
    flags: int
    method: int
    data_offset: int


def read_directory(
    stream: BinaryIO, size: int, max_entries: int, max_directory_bytes: int
) -> ZipDirectory:
    """Locate the end record (allowing data before the zip, comments and ZIP64) and parse
    the central directory. Raises ParseError when there is no valid directory."""
    start = max(0, size - formats.TAIL_BYTES)
    stream.seek(start)
    tail = stream.read(size - start)
    error: ParseError | None = None
    for pos in _candidates(tail):
        try:
            return _directory_at(stream, size, start + pos, max_entries, max_directory_bytes)
        except ParseError as exc:
            error = error or exc
    raise error or ParseError("no zip end-of-central-directory record")


def _candidates(tail: bytes) -> Iterator[int]:
    pos = len(tail)
    for _ in range(MAX_EOCD_CANDIDATES):
        pos = tail.rfind(EOCD_SIG, 0, pos)
        if pos < 0:
            return
        yield pos


def _directory_at(
    stream: BinaryIO, size: int, eocd_pos: int, max_entries: int, max_bytes: int
) -> ZipDirectory:
    record = _read_exact(stream, eocd_pos, _EOCD.size, "end of central directory")
    _, disk, cd_disk, _, count, cd_size, cd_offset, comment_len = _EOCD.unpack(record)
    end = min(size, eocd_pos + _EOCD.size + comment_len)
    cd_end = eocd_pos
    zip64 = _read_zip64(stream, eocd_pos)
    if zip64 is not None:
        cd_end, count, cd_size, cd_offset = zip64
    elif disk != 0 or cd_disk != 0:
        raise ParseError("multi-disk zip archives are not supported")
    cd_start = cd_end - cd_size
    if cd_start < 0 or cd_start < cd_offset:
        raise ParseError("central directory does not fit before its end record")
    if cd_size > max_bytes:
        raise LimitExceeded("zip central directory bytes", cd_size, max_bytes)
    base = cd_start - cd_offset  # bytes prepended to the archive
    data = _read_exact(stream, cd_start, cd_size, "central directory")
    entries, truncated = _parse_entries(data, base, max_entries)
    return ZipDirectory(
        entries, cd_start, cd_end, eocd_pos, end, count, zip64 is not None, truncated
    )


def _read_zip64(stream: BinaryIO, eocd_pos: int) -> tuple[int, int, int, int] | None:
    """(record position, count, directory size, directory offset) from a ZIP64 end record."""
    if eocd_pos < _EOCD64_LOCATOR.size + _EOCD64.size:
        return None
    locator = _read_exact(stream, eocd_pos - _EOCD64_LOCATOR.size, _EOCD64_LOCATOR.size, "")
    if locator[:4] != b"PK\x06\x07":
        return None
    # Like zipfile, expect the ZIP64 record right before its locator (offsets in it are
    # relative to the archive start, unknown while data may be prepended).
    pos = eocd_pos - _EOCD64_LOCATOR.size - _EOCD64.size
    record = _read_exact(stream, pos, _EOCD64.size, "ZIP64 end record")
    sig, _, _, _, _, _, _, count, cd_size, cd_offset = _EOCD64.unpack(record)
    if sig != b"PK\x06\x06":
        raise ParseError("ZIP64 locator points to no ZIP64 end record")
    return pos, count, cd_size, cd_offset


def _parse_entries(
    data: bytes, base: int, max_entries: int
) -> tuple[tuple[CentralEntry, ...], bool]:
    """The directory's entries, at most `max_entries`; True when more were left unread."""
    entries: list[CentralEntry] = []
    offset = 0
    while offset < len(data):
        if len(entries) >= max_entries:
            return tuple(entries), True
        if len(data) - offset < _CENTRAL.size or data[offset : offset + 4] != CENTRAL_SIG:
            raise ParseError(f"bad central directory entry at directory byte {offset}")
        entry, offset = _parse_entry(data, offset, base, len(entries))
        entries.append(entry)
    return tuple(entries), False


def _parse_entry(data: bytes, offset: int, base: int, index: int) -> tuple[CentralEntry, int]:
    fields = _CENTRAL.unpack_from(data, offset)
    flags, method, csize, usize = fields[3], fields[4], fields[8], fields[9]
    name_len, extra_len, comment_len, header_offset = fields[10], fields[11], fields[12], fields[16]
    name_start = offset + _CENTRAL.size
    raw_name = data[name_start : name_start + name_len]
    extra = data[name_start + name_len : name_start + name_len + extra_len]
    if len(raw_name) != name_len or len(extra) != extra_len:
        raise ParseError("central directory entry runs past the directory")
    usize, csize, header_offset = _apply_zip64_extra(extra, usize, csize, header_offset)
    entry = CentralEntry(
        index, decode_name(raw_name, flags), raw_name, flags, method, csize, usize,
        header_offset + base,
    )  # fmt: skip
    return entry, name_start + name_len + extra_len + comment_len


def _apply_zip64_extra(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    """Replace 0xFFFFFFFF fields by their 64-bit values from the ZIP64 extra field."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + length]
        pos += 4 + length
        if tag != 0x0001:
            continue
        values = [v for (v,) in struct.iter_unpack("<Q", body[: len(body) // 8 * 8])]
        if usize == 0xFFFFFFFF and values:
            usize = values.pop(0)
        if csize == 0xFFFFFFFF and values:
            csize = values.pop(0)
        if offset == 0xFFFFFFFF and values:
            offset = values.pop(0)
    return usize, csize, offset


def decode_name(raw: bytes, flags: int) -> str:
    # zipfile's rule: UTF-8 when flag bit 11 is set, otherwise code page 437.
    return raw.decode("utf-8", "replace") if flags & 0x800 else raw.decode("cp437")


def read_local_header(stream: BinaryIO, entry: CentralEntry, limit: int) -> LocalHeader:
    if entry.header_offset < 0 or entry.header_offset + _LOCAL.size > limit:
        raise ParseError("local header offset outside the archive")
    fields = _LOCAL.unpack(_read_exact(stream, entry.header_offset, _LOCAL.size, "local header"))
    if fields[0] != LOCAL_SIG:
        raise ParseError("no local file header where the central directory points")
    name_len, extra_len = fields[9], fields[10]
    raw_name = _read_exact(stream, entry.header_offset + _LOCAL.size, name_len, "local name")
    data_offset = entry.header_offset + _LOCAL.size + name_len + extra_len
    return LocalHeader(raw_name, fields[2], fields[3], data_offset)


def _read_exact(stream: BinaryIO, offset: int, n: int, what: str) -> bytes:
    stream.seek(offset)
    data = stream.read(n)
    if len(data) != n:
        raise ParseError(f"{what} truncated" if what else "truncated zip structure")
    return data


class WindowStream(io.RawIOBase):
    """A read-only, seekable view of `length` bytes of `source` starting at `start`."""

    def __init__(self, source: BinaryIO, start: int, length: int) -> None:
        super().__init__()
        self._source = source
        self._start = start
        self._length = length
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        n = min(len(view), max(0, self._length - self._pos))
        if n == 0:
            return 0
        self._source.seek(self._start + self._pos)
        data = self._source.read(n)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)
