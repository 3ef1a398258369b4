"""7-Zip archives: bound the listing, then scan each member through the dispatcher.

py7zr parses and decompresses; each member is written into a bounded spooled temporary
file (never into the filesystem tree) and scanned as soon as it is complete, so only one
member is held at a time. 7z wraps models to slip past scanners that skip it (nullifAI).
"""

from __future__ import annotations

import io
import logging
import posixpath
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from garrison.errors import GarrisonError, LimitExceeded, MissingExtraError, ParseError
from garrison.findings import Severity
from garrison.rules import Rule
from garrison.supplychain.compression import CHUNK, SPOOL_BYTES, bomb_floor
from garrison.supplychain.context import ScanContext
from garrison.supplychain.rules import MALFORMED, SUPPLY_CHAIN_REFS, UNSCANNED

if TYPE_CHECKING:
    from py7zr import FileInfo, SevenZipFile
    from py7zr.io import WriterFactory

log = logging.getLogger(__name__)


PATH_TRAVERSAL = Rule(
    "GA-SEVENZIP-001",
    "7z member name escapes the extraction directory",
    Severity.HIGH,
    "A member name is absolute, contains '..' or is otherwise refused by extractors. Tools "
    "that extract the archive write outside the target directory (7-Zip did before 16.x); "
    "the member's content is not scanned.",
    "Do not extract the archive; obtain it from a trusted source.",
    SUPPLY_CHAIN_REFS,
)
ENCRYPTED = Rule(
    "GA-SEVENZIP-002",
    "7z archive is encrypted",
    Severity.MEDIUM,
    "The archive's members (or its whole listing) are AES-encrypted, so their content cannot "
    "be inspected. Password-protected archives are a common way to carry a payload past "
    "scanners; the password usually travels next to the file.",
    "Decrypt the archive yourself and scan its content before loading anything from it.",
    SUPPLY_CHAIN_REFS,
)
BOMB = Rule(
    "GA-SEVENZIP-003",
    "7z bomb: members inflate beyond the compression-ratio limit",
    Severity.HIGH,
    "The members declare or produce more than the policy's max_compression_ratio times the "
    "archive's size and more than an eighth of the decompression budget (1 GiB by default). "
    "Such archives exhaust memory or disk in loaders and scanners.",
    "Do not extract the archive.",
    SUPPLY_CHAIN_REFS,
)
UNSUPPORTED_METHOD = Rule(
    "GA-SEVENZIP-004",
    "7z archive uses a compression method that could not be decompressed",
    Severity.MEDIUM,
    "py7zr cannot decompress a coder the archive uses (or a codec package is missing), so "
    "the members that follow were not scanned. 7-Zip itself reads them.",
    "Re-create the archive with LZMA2 or store the model in a format that carries no code.",
    SUPPLY_CHAIN_REFS,
)
LINK_ESCAPE = Rule(
    "GA-SEVENZIP-005",
    "7z symbolic link points outside the archive",
    Severity.HIGH,
    "A symlink member targets an absolute path or climbs out with '..'. After extraction, "
    "writes through the link, or loads of the file it stands for, reach anywhere on disk.",
    "Do not extract the archive; obtain it from a trusted source.",
    SUPPLY_CHAIN_REFS,
)
RULES: tuple[Rule, ...] = (PATH_TRAVERSAL, ENCRYPTED, BOMB, UNSUPPORTED_METHOD, LINK_ESCAPE)

_SIGNATURE = struct.Struct("<6sBBIQQI")  # magic, version, CRC, next header offset/size/CRC
MAX_LINK_BYTES = 4096


def scan_7z(stream: BinaryIO, ctx: ScanContext) -> None:
    """Handler for 7z archives."""
    try:
        _scan_7z(stream, ctx)
    except MissingExtraError as exc:
        # Not a scanner failure: the archive is known but this install cannot open it.
        ctx.add(
            UNSCANNED, f"7-Zip archive not scanned: {exc}", severity=ctx.policy.unscanned_severity
        )
        ctx.record("7z", "unscanned", None, str(exc))


def _scan_7z(stream: BinaryIO, ctx: ScanContext) -> None:
    try:
        import py7zr
    except ImportError:
        raise MissingExtraError("py7zr", "archives") from None
    size = stream.seek(0, io.SEEK_END)
    packed = _check_signature(stream, size, ctx)
    try:
        archive = _open(py7zr, stream, ctx)
    except py7zr.PasswordRequired:
        ctx.add(ENCRYPTED, "7z listing is encrypted: member names and content are hidden")
        return
    except ParseError:
        _scan_packed_data(stream, ctx, packed)
        raise
    with _py7zr_errors("7z archive", ctx), archive:
        _scan_archive(archive, ctx, size)


def _check_signature(stream: BinaryIO, size: int, ctx: ScanContext) -> int:
    """Bound the header py7zr will read into memory before letting it read anything.

    Returns the size of the packed data between the signature header and the listing.
    """
    stream.seek(0)
    head = stream.read(_SIGNATURE.size)
    if len(head) < _SIGNATURE.size:
        raise ParseError("7z signature header truncated")
    _, _, _, _, offset, header_size, _ = _SIGNATURE.unpack(head)
    if _SIGNATURE.size + offset + header_size > size:
        raise ParseError(f"7z header ({header_size} bytes at {offset}) lies past the file end")
    if header_size > ctx.limits.max_header_bytes:
        raise LimitExceeded("7z header bytes", header_size, ctx.limits.max_header_bytes)
    stream.seek(0)
    return int(offset)


def _scan_packed_data(stream: BinaryIO, ctx: ScanContext, length: int) -> None:
    """py7zr could not read the listing, but 7-Zip may (it accepts headers py7zr rejects,
    such as folders without substream info). Members stored with the Copy coder lie in
    the packed data as they are, so scan it as a payload that may or may not be one.
    """
    from garrison.supplychain.dispatch import scan_nested_stream
    from garrison.supplychain.zip_format import WindowStream

    if length <= 0:
        return
    window = io.BufferedReader(WindowStream(stream, _SIGNATURE.size, length), buffer_size=CHUNK)
    with window:
        scan_nested_stream(window, ctx, "<7z packed data>", length, speculative=True)


def _open(py7zr: Any, stream: BinaryIO, ctx: ScanContext) -> SevenZipFile:
    budget_left = max(0, ctx.limits.max_decompressed_bytes - ctx.budget.decompressed)
    if not isinstance(stream, io.IOBase):
        raise ParseError("7z scanning needs a file object")  # py7zr accepts no other
    with _py7zr_errors("unreadable 7z archive", ctx):
        # max_extract_size is py7zr's own cap, a backstop for data it inflates without
        # handing it to us (solid-block members before the ones we asked for).
        archive: SevenZipFile = py7zr.SevenZipFile(stream, "r", max_extract_size=budget_left)
        return archive


@contextmanager
def _py7zr_errors(what: str, ctx: ScanContext) -> Iterator[None]:
    """py7zr reports bad input with its own and builtin exceptions: make them ParseError.

    Our own errors pass through; so does PasswordRequired, which callers report.
    """
    import py7zr

    try:
        yield
    except (GarrisonError, py7zr.PasswordRequired):
        raise
    except py7zr.DecompressionBombError:
        limit = ctx.limits.max_decompressed_bytes
        raise LimitExceeded("decompressed bytes", limit + 1, limit) from None
    except (MemoryError, RecursionError):
        raise
    except Exception as exc:
        # A third-party parser of hostile bytes: any other failure is malformed input.
        raise ParseError(f"{what}: {type(exc).__name__}: {exc}") from None


# --- the member loop ---------------------------------------------------------------------


@dataclass(slots=True)
class _Plan:
    """Which members are extracted and what is known about them beforehand."""

    targets: list[str] = field(default_factory=list)
    symlinks: set[str] = field(default_factory=set)
    declared: int = 0
    truncated: bool = False


def _scan_archive(archive: SevenZipFile, ctx: ScanContext, size: int) -> None:
    members = archive.list()
    if archive.needs_password():
        names = ", ".join(m.filename for m in members[:5])
        ctx.add(ENCRYPTED, f"{len(members)} encrypted member(s), content hidden: {names}")
        return
    plan = _plan(members, ctx)
    if _declares_bomb(plan, size, ctx):
        return
    if plan.targets:
        _extract(archive, plan, ctx, size)
    ctx.record("7z", "scanned", size, f"{len(members)} members")
    if plan.truncated:
        limit = ctx.limits.max_archive_members
        raise LimitExceeded("archive members", limit + 1, limit)


def _plan(members: list[FileInfo], ctx: ScanContext) -> _Plan:
    plan = _Plan()
    remaining = max(0, ctx.limits.max_archive_members - ctx.budget.members)
    if len(members) > remaining:
        members, plan.truncated = members[:remaining], True
    ctx.budget.spend_members(len(members))
    for member in members:
        if member.is_directory:
            continue
        # Set-aside members count too: py7zr inflates them to reach later ones.
        plan.declared += max(0, member.uncompressed or 0)
        if not _extractable(member.filename):
            evidence = f"member name {member.filename!r}; content not scanned"
            _member_add(ctx, member.filename, PATH_TRAVERSAL, evidence)
            continue
        plan.targets.append(member.filename)
        if member.is_symlink:
            plan.symlinks.add(member.filename)
    return plan


def _extractable(name: str) -> bool:
    """Whether the name stays inside an extraction directory, and py7zr agrees to write it.

    py7zr refuses some names at extraction time and then stops the whole archive, which
    would hide every later member: such names are set aside and reported here instead.
    """
    path = name.replace("\\", "/")
    if path.startswith("/") or (len(path) >= 2 and path[1] == ":") or "\x00" in path:
        return False
    if ".." in path.split("/"):
        return False
    from py7zr.helpers import get_sanitized_output_path

    try:
        get_sanitized_output_path(name, None)
    except Exception:
        return False  # Bad7zFile mostly; OSError or ValueError for odd names
    return True


def _declares_bomb(plan: _Plan, size: int, ctx: ScanContext) -> bool:
    ratio = ctx.limits.max_compression_ratio
    if plan.declared > bomb_floor(ctx.limits) and plan.declared > ratio * max(size, 1):
        evidence = f"members declare {plan.declared} bytes from a {size}-byte archive"
        ctx.add(BOMB, f"{evidence} (limit ×{ratio}); not extracted")
        return True
    return False


def _extract(archive: SevenZipFile, plan: _Plan, ctx: ScanContext, size: int) -> None:
    import py7zr

    factory = _MemberFactory(ctx, size, plan.symlinks)
    try:
        with _py7zr_errors("7z member data", ctx):
            archive.extract(targets=plan.targets, factory=cast("WriterFactory", factory))
    except py7zr.PasswordRequired:
        ctx.add(ENCRYPTED, "7z member data is encrypted: content hidden")
    except ParseError as exc:
        # Whatever was decompressed before the failure is scanned: a loader that reads
        # the archive up to the damage runs it.
        factory.finish_partial()
        _report_extract_failure(exc, ctx)
    except LimitExceeded as exc:
        factory.finish_partial()
        if factory.bomb:
            ctx.add(BOMB, f"inflated {factory.produced} bytes from a {size}-byte archive")
            return
        raise exc from None
    finally:
        factory.close_all()


def _report_extract_failure(exc: ParseError, ctx: ScanContext) -> None:
    text = str(exc)
    if "UnsupportedCompressionMethodError" in text:
        ctx.add(UNSUPPORTED_METHOD, f"{text}; later members not scanned")
    else:
        ctx.add(MALFORMED, f"7z: {text}")


def _member_add(ctx: ScanContext, member: str, rule: Rule, evidence: str) -> None:
    replace(ctx, members=(*ctx.members, member)).add(rule, evidence)


# --- where members are written ------------------------------------------------------------


class _MemberFactory:
    """Hands py7zr one spooled file per member and scans each one when py7zr closes it.

    Duck-typed py7zr.io.WriterFactory (py7zr only calls `create`), so importing this
    module does not import py7zr.

    Counts every byte against the decompression budget and the ratio limit as it arrives,
    so a bomb stops inside py7zr's loop rather than after it.
    """

    def __init__(self, ctx: ScanContext, archive_size: int, symlinks: set[str]) -> None:
        self.ctx = ctx
        self.archive_size = archive_size
        self.symlinks = symlinks
        self.produced = 0
        self.bomb = False
        self.open: list[_MemberFile] = []

    def create(self, filename: str) -> _MemberFile:
        member = _MemberFile(filename, self)
        self.open.append(member)
        return member

    def spend(self, n: int) -> None:
        self.produced += n
        limits = self.ctx.limits
        ratio = limits.max_compression_ratio
        if self.produced > bomb_floor(limits) and self.produced > ratio * self.archive_size:
            self.bomb = True
            raise LimitExceeded("compression ratio", self.produced // self.archive_size, ratio)
        self.ctx.budget.spend_decompressed(n)

    def finished(self, member: _MemberFile) -> None:
        """py7zr completed a member: scan it, then drop its spooled data."""
        if member in self.open:
            self.open.remove(member)
        try:
            self._scan(member)
        finally:
            member.spool.close()

    def finish_partial(self) -> None:
        """Scan what an interrupted extraction had written of its current member."""
        for member in list(self.open):
            if member.written:
                self.finished(member)

    def close_all(self) -> None:
        for member in self.open:
            member.spool.close()
        self.open.clear()

    def _scan(self, member: _MemberFile) -> None:
        from garrison.supplychain.dispatch import scan_nested_stream

        member.spool.seek(0)
        if member.name in self.symlinks:
            _check_link(member, self.ctx)
            return
        if member.written:
            scan_nested_stream(member.reader(), self.ctx, member.name, member.written)


class _MemberFile:
    """One member's bytes, in memory up to SPOOL_BYTES and in an anonymous temp file beyond.

    Duck-typed py7zr.io.Py7zIO: py7zr calls close() when the member is complete.
    """

    def __init__(self, name: str, factory: _MemberFactory) -> None:
        self.name = name
        self.factory = factory
        # Closed by the factory once the member is scanned (or the extraction ends).
        self.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        self.written = 0

    def write(self, data: bytes | bytearray) -> int:
        self.factory.spend(len(data))
        self.written += len(data)
        return self.spool.write(data)

    def read(self, size: int | None = None) -> bytes:
        return self.spool.read(-1 if size is None else size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.spool.seek(offset, whence)

    def flush(self) -> None:
        self.spool.flush()

    def size(self) -> int:
        return self.written

    def close(self) -> None:
        if not self.spool.closed:
            self.factory.finished(self)

    def reader(self) -> BinaryIO:
        self.spool.seek(0)
        return self.spool  # type: ignore[return-value]


def _check_link(member: _MemberFile, ctx: ScanContext) -> None:
    target = member.spool.read(MAX_LINK_BYTES).decode("utf-8", "replace").replace("\\", "/")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(member.name), target))
    absolute = target.startswith("/") or (len(target) >= 2 and target[1] == ":")
    if absolute or resolved == ".." or resolved.startswith("../"):
        _member_add(ctx, member.name, LINK_ESCAPE, f"symlink {member.name!r} -> {target!r}")
