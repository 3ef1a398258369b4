"""Compressed files (gzip, bz2, xz, .lzma, zlib; joblib's compressed dumps): inflate, then scan.

Decompression is streamed in bounded chunks into a spooled temporary file, counted against
the file's decompression budget and checked for bomb-like ratios, so a hostile stream can
neither exhaust memory nor hide behind a scanner that gives up early.
"""

from __future__ import annotations

import bz2
import io
import lzma
import tempfile
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO, Protocol

from garrison.errors import GarrisonError, LimitExceeded, ParseError
from garrison.findings import Severity
from garrison.policy import Limits
from garrison.rules import Rule
from garrison.supplychain.context import ScanContext
from garrison.supplychain.rules import SUPPLY_CHAIN_REFS

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


DECOMPRESSION_BOMB = Rule(
    "GA-CMP-001",
    "Decompression bomb",
    Severity.HIGH,
    "The data inflates past the policy's max_compression_ratio and keeps going beyond an "
    "eighth of the decompression budget (1 GiB by default). Such streams exhaust disk or "
    "memory in loaders and make scanners give up before reaching a payload. Smaller "
    "highly-compressible data (zero-filled arrays) is normal and not reported.",
    "Do not load the file; obtain the model from a trusted source.",
    SUPPLY_CHAIN_REFS,
)
TRAILING_DATA = Rule(
    "GA-CMP-002",
    "Data after the end of a compressed stream",
    Severity.MEDIUM,
    "Bytes follow the last complete compressed stream. Decompressors disagree on whether "
    "to ignore, reject or read them, which is how content is hidden from one tool and shown "
    "to another.",
    "Re-compress the content with a standard tool, or obtain it from a trusted source.",
    SUPPLY_CHAIN_REFS,
)
RULES: tuple[Rule, ...] = (DECOMPRESSION_BOMB, TRAILING_DATA)

CHUNK = 64 * 1024  # compressed bytes read per step
OUT_CHUNK = 1024 * 1024  # most bytes inflated per step, so one step cannot blow up memory
SPOOL_BYTES = 16 * 1024 * 1024  # inflated bytes kept in memory before spilling to disk
RATIO_FLOOR = 10 * 1024 * 1024  # the policy's ratio limit never applies below this size
DEFLATE_MAX_RATIO = 1032  # deflate cannot expand data more than this

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x5d\x00", "lzma"),  # joblib's prefix for the .lzma "alone" format
    (b"\x78", "zlib"),  # joblib writes zlib streams with the default 32 KiB window
)


class Codec(Protocol):
    """One decompressor, whichever library it comes from."""

    @property
    def wants_input(self) -> bool: ...
    @property
    def eof(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...
    def decompress(self, data: bytes, limit: int) -> bytes: ...


class _ZlibCodec:
    """zlib keeps unread input in `unconsumed_tail` when the output limit is hit."""

    def __init__(self, wbits: int) -> None:
        self._d = zlib.decompressobj(wbits)
        self._tail = b""

    @property
    def wants_input(self) -> bool:
        return not self._tail

    @property
    def eof(self) -> bool:
        return self._d.eof

    @property
    def unused_data(self) -> bytes:
        return self._d.unused_data

    def decompress(self, data: bytes, limit: int) -> bytes:
        try:
            out = self._d.decompress(self._tail + data, limit)
        except zlib.error as exc:
            raise ParseError(f"corrupt deflate data: {exc}") from None
        self._tail = self._d.unconsumed_tail
        return out


class _BufferedCodec:
    """bz2 and lzma keep unread input internally and say when they need more."""

    def __init__(self, d: bz2.BZ2Decompressor | lzma.LZMADecompressor) -> None:
        self._d = d

    @property
    def wants_input(self) -> bool:
        return self._d.needs_input

    @property
    def eof(self) -> bool:
        return self._d.eof

    @property
    def unused_data(self) -> bytes:
        return self._d.unused_data

    def decompress(self, data: bytes, limit: int) -> bytes:
        try:
            return self._d.decompress(data, limit)
        except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
            raise ParseError(f"corrupt compressed data: {exc}") from None


class _ZipLzmaCodec:
    """A zip member's lzma data (method 14): a small header, then a raw LZMA1 stream.

    The header is 2 bytes of encoder version, 2 bytes of properties size and the 5-byte
    LZMA properties (lc/lp/pb byte, dictionary size); the decoder is built once it is read.
    """

    _PROPS_SIZE = 5

    def __init__(self) -> None:
        self._head = b""
        self._d: _BufferedCodec | None = None

    @property
    def wants_input(self) -> bool:
        return self._d is None or self._d.wants_input

    @property
    def eof(self) -> bool:
        return self._d is not None and self._d.eof

    @property
    def unused_data(self) -> bytes:
        return b"" if self._d is None else self._d.unused_data

    def decompress(self, data: bytes, limit: int) -> bytes:
        if self._d is None:
            self._head += data
            need = 4 + self._PROPS_SIZE
            if len(self._head) < need:
                if not data:
                    raise ParseError("zip lzma header truncated")
                return b""
            self._d = _BufferedCodec(_raw_lzma1(self._head[:need]))
            data, self._head = self._head[need:], b""
        return self._d.decompress(data, limit)


def _raw_lzma1(header: bytes) -> lzma.LZMADecompressor:
    props_size = int.from_bytes(header[2:4], "little")
    if props_size != _ZipLzmaCodec._PROPS_SIZE:
        raise ParseError(f"zip lzma properties size {props_size}, expected 5")
    byte, dict_size = header[4], int.from_bytes(header[5:9], "little")
    if byte >= 9 * 5 * 5:
        raise ParseError(f"invalid lzma properties byte {byte:#x}")
    lc, lp, pb = byte % 9, (byte // 9) % 5, byte // 45
    lzma_filter = {"id": lzma.FILTER_LZMA1, "lc": lc, "lp": lp, "pb": pb, "dict_size": dict_size}
    try:
        return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[lzma_filter])
    except (lzma.LZMAError, ValueError) as exc:
        raise ParseError(f"unusable lzma properties: {exc}") from None


CODECS: dict[str, Callable[[], Codec]] = {
    "gzip": lambda: _ZlibCodec(31),
    "zlib": lambda: _ZlibCodec(15),
    "deflate": lambda: _ZlibCodec(-15),  # raw deflate, as in zip members
    "bz2": lambda: _BufferedCodec(bz2.BZ2Decompressor()),
    "xz": lambda: _BufferedCodec(lzma.LZMADecompressor(lzma.FORMAT_XZ)),
    "lzma": lambda: _BufferedCodec(lzma.LZMADecompressor(lzma.FORMAT_ALONE)),
    "zip-lzma": _ZipLzmaCodec,  # zip method 14
}


def bomb_floor(limits: Limits) -> int:
    """Inflated size from which a ratio over the policy's limit is reported as a bomb.

    Zero-filled arrays deflate about 1000:1 and xz/bz2 do far better, so ratio alone
    would condemn benign files (np.savez_compressed of a zero buffer). What makes a bomb
    is size at that ratio: an eighth of the file's decompression budget (1 GiB by
    default), and never less than 10 MB.
    """
    return max(RATIO_FLOOR, limits.max_decompressed_bytes // 8)


def detect_codec(head: bytes) -> str | None:
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


class DecompressedStream(io.RawIOBase):
    """A seekable view of compressed bytes, inflated on demand into a spooled file.

    It never raises for bad input while being read (a nested scanner would misreport it):
    corruption, the budget and the ratio limit end the data early and are kept in
    `failure` / `bomb` for the owner to report once the nested scan is done.
    """

    def __init__(
        self,
        source: BinaryIO,
        start: int,
        length: int | None,
        codec: str,
        ctx: ScanContext,
        *,
        multi_stream: bool = False,
        declared_size: int | None = None,
        cap: bool = False,
        floor: int | None = None,
    ) -> None:
        super().__init__()
        self._source = source
        self._src_pos = start
        self._src_end = None if length is None else start + length
        self._codec_name = codec
        self._factory = CODECS[codec]
        self._codec = self._factory()
        self._ctx = ctx
        self._multi = multi_stream
        self._declared = declared_size
        # Zip readers stop at the declared size: bytes beyond it are never loaded.
        self._cap = declared_size if cap else None
        # Inflated size from which the ratio limit applies (bomb_floor unless told).
        self._floor = bomb_floor(ctx.limits) if floor is None else floor
        self.overflow = False
        # Closed in close(): the stream owns its cache for its whole life.
        self._cache = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        self._pos = 0
        self.produced = 0
        self.consumed = 0
        self.done = False
        self.failure: GarrisonError | None = None
        self.bomb = False
        self.trailing: int = 0  # non-zero bytes after the last stream (multi-stream mode)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._pos + offset
        else:
            # The declared size answers "how long is it" without inflating everything.
            target = self._end() + offset
        self._pos = max(0, target)
        return self._pos

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        want = len(view)
        self._fill(self._pos + want)
        self._cache.seek(self._pos)
        data = self._cache.read(min(want, max(0, self.produced - self._pos)))
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def close(self) -> None:
        self._cache.close()
        super().close()

    def fill_all(self) -> None:
        """Inflate everything (up to the limits)."""
        self._fill(None)

    def _end(self) -> int:
        if self._declared is not None:
            return self._declared
        self.fill_all()
        return self.produced

    def _fill(self, target: int | None) -> None:
        while not self.done and (target is None or self.produced < target):
            try:
                out = self._step()
            except GarrisonError as exc:
                self.failure = exc
                self.done = True
                return
            if out:
                self._store(out)

    def _store(self, out: bytes) -> None:
        if self._cap is not None and self.produced + len(out) >= self._cap:
            self.overflow = self.produced + len(out) > self._cap
            out = out[: self._cap - self.produced]
            self.done = True
        self._cache.seek(self.produced)
        self._cache.write(out)
        self.produced += len(out)
        try:
            self._ctx.budget.spend_decompressed(len(out))
        except LimitExceeded as exc:
            self.failure = exc
            self.done = True
            return
        ratio_limit = self._ctx.limits.max_compression_ratio
        if self.produced > self._floor and self.produced > ratio_limit * max(self.consumed, 1):
            self.bomb = True
            self.failure = LimitExceeded(
                "compression ratio", self.produced // max(self.consumed, 1), ratio_limit
            )
            self.done = True

    def _step(self) -> bytes:
        """Inflate at most OUT_CHUNK bytes; sets `done` at the end of the data."""
        if self._codec.eof:
            self._next_stream()
            return b""
        data = b""
        if self._codec.wants_input:
            data = self._read_source()
            if not data:
                return self._drain()
        return self._codec.decompress(data, OUT_CHUNK)

    def _drain(self) -> bytes:
        # Input is exhausted: take what the codec still holds, then it must have ended.
        out = self._codec.decompress(b"", OUT_CHUNK)
        if not out and not self._codec.eof:
            raise ParseError(f"compressed stream truncated after {self.produced} bytes")
        return out

    def _read_source(self) -> bytes:
        size = CHUNK
        if self._src_end is not None:
            size = min(size, self._src_end - self._src_pos)
        if size <= 0:
            return b""
        self._source.seek(self._src_pos)
        data = self._source.read(size)
        self._src_pos += len(data)
        self.consumed += len(data)
        return data

    def _next_stream(self) -> None:
        """After one stream ends: start the next (gzip members, bz2/xz streams) or stop."""
        rest = self._codec.unused_data
        if not self._multi:
            self.done = True
            return
        while len(rest) < 16:
            more = self._read_source()
            if not more:
                break
            rest += more
        if not rest.strip(b"\x00"):
            self._skip_zero_padding()
            return
        if detect_codec(rest) != self._codec_name:
            self.trailing = len(rest)
            self.done = True
            return
        self._codec = self._factory()
        self._store(self._codec.decompress(rest, OUT_CHUNK))

    def _skip_zero_padding(self) -> None:
        # Tape-style zero padding after the last stream is accepted by gzip readers.
        while True:
            more = self._read_source()
            if not more:
                self.done = True
                return
            if more.strip(b"\x00"):
                self.trailing = len(more)
                self.done = True
                return


def scan_compressed(stream: BinaryIO, ctx: ScanContext) -> None:
    """Handler for gzip, bz2, xz, lzma and zlib streams."""
    from garrison.supplychain.dispatch import scan_nested_stream

    head = stream.read(16)
    codec = detect_codec(head)
    if codec is None:
        raise ParseError("not a recognised compressed stream")
    inflated = DecompressedStream(stream, 0, None, codec, ctx, multi_stream=True)
    with inflated:
        # Inflate first and scan what came out even when the stream breaks part-way:
        # a loader executes a payload that precedes the corruption.
        inflated.fill_all()
        reader = io.BufferedReader(inflated, buffer_size=CHUNK)
        if inflated.produced:
            scan_nested_stream(reader, ctx, f"<{codec}>", inflated.produced)
        report_stream_end(inflated, ctx, codec)


def report_stream_end(inflated: DecompressedStream, ctx: ScanContext, codec: str) -> None:
    """Turn how an inflated stream ended into findings or errors (after it was scanned)."""
    if inflated.bomb:
        ctx.add(
            DECOMPRESSION_BOMB,
            f"{codec}: inflated {inflated.produced} bytes from {inflated.consumed} "
            f"(ratio limit {ctx.limits.max_compression_ratio}); stopped there",
        )
        return
    if inflated.trailing:
        ctx.add(TRAILING_DATA, f"{codec}: non-zero bytes after the last compressed stream")
    if inflated.failure is not None:
        raise inflated.failure
