"""Zip archives (PyTorch checkpoints, TorchScript, Keras v3, .npz, skops, TorchServe .mar).

The structure comes from zip_format's bounded parser. Every member is checked against its
local header and handed, as a stream over the file (inflated on demand for deflate, bzip2
and lzma members), to the scanner for its own format.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import BinaryIO

from garrison.errors import LimitExceeded, ParseError
from garrison.findings import Severity
from garrison.rules import Rule
from garrison.supplychain import formats, torchscript
from garrison.supplychain.compression import (
    CHUNK,
    DEFLATE_MAX_RATIO,
    RATIO_FLOOR,
    DecompressedStream,
    bomb_floor,
)
from garrison.supplychain.context import ScanContext
from garrison.supplychain.rules import LIMIT_REACHED, MALFORMED, SUPPLY_CHAIN_REFS
from garrison.supplychain.zip_format import (
    EOCD_SIG,
    LOCAL_HEADER_SIZE,
    LOCAL_SIG,
    CentralEntry,
    LocalHeader,
    WindowStream,
    ZipDirectory,
    decode_name,
    read_directory,
    read_local_header,
)

# Re-exported: tar_scan and the fuzz targets read structures through this module.
__all__ = ["RULES", "WindowStream", "read_directory", "read_local_header", "scan_zip"]

log = logging.getLogger(__name__)


NAME_MISMATCH = Rule(
    "GA-ZIP-001",
    "Zip member's local header disagrees with the central directory",
    Severity.HIGH,
    "The name (or compression method) in a member's local header differs from its central "
    "directory entry. Loaders that trust different copies see different files; no zip "
    "writer produces this, tampering does.",
    "Do not load the archive; obtain the model from a trusted source.",
    SUPPLY_CHAIN_REFS,
)
ENCRYPTED_FLAG = Rule(
    "GA-ZIP-002",
    "Zip member flagged as encrypted",
    Severity.HIGH,
    "The member's 'encrypted' flag is set. Python's zipfile (and scanners built on it) "
    "refuse such members, while PyTorch's reader ignores the flag and loads the bytes: a "
    "published way to hide a pickle from scanners. Model writers never set it; outside a "
    "model archive it is reported at MEDIUM because its content cannot be verified.",
    "Do not load the archive; obtain the model from a trusted source.",
    SUPPLY_CHAIN_REFS,
)
UNUSUAL_FLAGS = Rule(
    "GA-ZIP-003",
    "Zip member has unusual or inconsistent flag bits",
    Severity.HIGH,
    "The member sets general-purpose flag bits no model writer uses (strong encryption, "
    "patched data, masked headers, reserved bits), or its local and central flags differ. "
    "Readers interpret these differently, which is how content is shown to one tool and "
    "hidden from another.",
    "Do not load the archive; re-create it with the library that wrote the model.",
    SUPPLY_CHAIN_REFS,
)
DUPLICATE_NAME = Rule(
    "GA-ZIP-004",
    "Duplicate member names in zip archive",
    Severity.HIGH,
    "Two members share a name. Readers disagree on which copy they load (first, last, or "
    "by binary search), so a scanner may inspect the harmless copy while the loader runs "
    "the other.",
    "Do not load the archive; obtain the model from a trusted source.",
    SUPPLY_CHAIN_REFS,
)
UNSUPPORTED_METHOD = Rule(
    "GA-ZIP-005",
    "Zip member uses a compression method that was not scanned",
    Severity.MEDIUM,
    "Stored, deflated, bzip2 and lzma members are scanned (Python's zipfile reads all four). "
    "Other methods (zstd, deflate64, PPMd...) are read by some tools, so the member's "
    "content is unknown.",
    "Re-create the archive with stored or deflated members, or review it by hand.",
    SUPPLY_CHAIN_REFS,
)
PATH_TRAVERSAL = Rule(
    "GA-ZIP-006",
    "Zip member name escapes the extraction directory",
    Severity.HIGH,
    "A member name is absolute or contains '..' (zip-slip). Tools that extract the archive "
    "write outside the target directory, e.g. over shell start-up files or site-packages.",
    "Do not extract the archive; obtain it from a trusted source.",
    SUPPLY_CHAIN_REFS,
)
ZIP_BOMB = Rule(
    "GA-ZIP-007",
    "Zip bomb: member inflates beyond the compression-ratio limit",
    Severity.HIGH,
    "A member declares or produces more than the policy's max_compression_ratio times its "
    "compressed size and more than an eighth of the decompression budget (1 GiB by "
    "default), or members overlap (the non-recursive zip bomb layout). Such archives "
    "exhaust memory or disk in loaders and scanners. Zero-filled arrays reach ~1000:1 with "
    "deflate, so the ratio alone is not reported. bzip2 and lzma members, which no model "
    "writer produces and which reach ratios deflate cannot, are reported from 10 MB.",
    "Do not load the archive.",
    SUPPLY_CHAIN_REFS,
)
POLYGLOT = Rule(
    "GA-ZIP-008",
    "Zip archive appended to another file (polyglot)",
    Severity.HIGH,
    "The file starts as one format but ends with a zip directory. Loaders that read zips "
    "from their end (zipfile, miniz) see different content than those that read the head, "
    "so a file can pass as one thing and load as another. Executables that carry a zip "
    "(llamafile, self-extracting archives) are expected and reported as INFO.",
    "Treat the file as untrusted; split the parts and scan each, or obtain a clean copy.",
    SUPPLY_CHAIN_REFS,
)
INCONSISTENT = Rule(
    "GA-ZIP-009",
    "Zip central directory is inconsistent",
    Severity.HIGH,
    "The directory's record count, member offsets or layout do not add up (hidden data "
    "before the first member, members overlapping each other or the directory). Readers "
    "that trust different fields see different archives.",
    "Do not load the archive; obtain the model from a trusted source.",
    SUPPLY_CHAIN_REFS,
)
SKOPS_DANGEROUS = Rule(
    "GA-ZIP-010",
    "skops file references a dangerous type or function",
    Severity.CRITICAL,
    "The skops schema asks the loader to build objects from modules that run commands or "
    "code (os, subprocess, builtins.eval...) or from operator gadgets used in published "
    "skops bypasses. skops refuses untrusted types unless told to trust them; users often do.",
    "Do not load the file with trusted=True; obtain the model from a trusted source.",
    SUPPLY_CHAIN_REFS,
)
RULES: tuple[Rule, ...] = (
    NAME_MISMATCH,
    ENCRYPTED_FLAG,
    UNUSUAL_FLAGS,
    DUPLICATE_NAME,
    UNSUPPORTED_METHOD,
    PATH_TRAVERSAL,
    ZIP_BOMB,
    POLYGLOT,
    INCONSISTENT,
    SKOPS_DANGEROUS,
)


FLAG_ENCRYPTED = 0x0001
# Compression options (1, 2), data descriptor (3) and UTF-8 names (11) are normal.
_NORMAL_FLAGS = 0x0001 | 0x0002 | 0x0004 | 0x0008 | 0x0800
STORED, DEFLATED, BZIP2, LZMA = 0, 8, 12, 14
# Methods inflated on the fly, by compression codec name.
_CODECS = {DEFLATED: "deflate", BZIP2: "bz2", LZMA: "zip-lzma"}
LARGE_MEMBER = 64 * 1024 * 1024  # above this only the head is sniffed unless it needs more
_EXECUTABLE_HEADS = ("elf", "pe", "macho")
_IGNORED_HEADS = ("unknown", "text", "empty", "image")
MODEL_FLAVOURS = ("pytorch", "torchscript", "keras", "npz", "skops", "torchserve")


# --- scanning ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Archive:
    """What the member loop needs to know about the archive being scanned."""

    stream: BinaryIO
    directory: ZipDirectory
    flavour: str
    storages: int = 0
    storage_bytes: int = 0
    handler_files: list[str] = field(default_factory=list)


def scan_zip(stream: BinaryIO, ctx: ScanContext) -> None:
    """Handler for zip archives, and for other files that end with a zip directory."""
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    head = stream.read(formats.HEAD_BYTES)
    starts_as_zip = head[:4] in (LOCAL_SIG, EOCD_SIG)
    remaining = max(0, ctx.limits.max_archive_members - ctx.budget.members)
    try:
        directory = read_directory(stream, size, remaining, ctx.limits.max_header_bytes)
    except ParseError:
        if starts_as_zip:
            raise
        log.debug("%s: zip signature at the end but no valid directory", ctx.display_name)
        return
    if not starts_as_zip and _check_appended(stream, head, directory, ctx):
        return
    archive = _Archive(stream, directory, zip_flavour([e.name for e in directory.entries]))
    _check_directory(archive, head, ctx)
    ctx.budget.spend_members(len(directory.entries))
    for entry in directory.entries:
        _scan_entry(archive, entry, ctx)
    _report_archive(archive, ctx, size)
    if directory.truncated:
        limit = ctx.limits.max_archive_members
        raise LimitExceeded("archive members", limit + 1, limit)


def _report_archive(archive: _Archive, ctx: ScanContext, size: int) -> None:
    directory = archive.directory
    if archive.handler_files:
        names = ", ".join(archive.handler_files[:5])
        ctx.add(torchscript.HANDLER_CODE, f"{len(archive.handler_files)} Python file(s): {names}")
    if archive.storages:
        ctx.record(
            "tensor-data", "skipped", archive.storage_bytes,
            f"{archive.storages} raw tensor storages: heads sniffed for hidden pickles",
        )  # fmt: skip
    ctx.record(f"zip:{archive.flavour}", "scanned", size, f"{len(directory.entries)} members")


def zip_flavour(names: list[str]) -> str:
    """Which library wrote the archive, from its member names."""
    nameset = set(names)
    if "MAR-INF/MANIFEST.json" in nameset:
        return "torchserve"
    prefixes = {n.rsplit("/", 1)[0] for n in names if n.endswith("/data.pkl")}
    if any(f"{p}/constants.pkl" in nameset for p in prefixes) and any(
        torchscript.is_code_member(n) for n in names
    ):
        return "torchscript"
    if any(f"{p}/version" in nameset or f"{p}/.data/version" in nameset for p in prefixes):
        return "pytorch"
    if {"config.json", "metadata.json", "model.weights.h5"} <= nameset:
        return "keras"
    if "schema.json" in nameset:
        return "skops"
    if names and all(n.endswith(".npy") for n in names):
        return "npz"
    return "generic"


def _check_appended(
    stream: BinaryIO, head: bytes, directory: ZipDirectory, ctx: ScanContext
) -> bool:
    """The file does not start as a zip. Returns True when the zip is not ours to scan."""
    if _inside_tar_member(stream, directory):
        return True  # a zip stored as the tar's last member: the tar scanner covers it
    head_format = formats.detect_head(head)
    evidence = (
        f"starts as {head_format} but has a zip directory at its end "
        f"({len(directory.entries)} members from offset {directory.start})"
    )
    severity = Severity.INFO if head_format in _EXECUTABLE_HEADS else None
    ctx.add(POLYGLOT, evidence, severity=severity, offset=directory.start)
    return False


def _inside_tar_member(stream: BinaryIO, directory: ZipDirectory) -> bool:
    start = directory.start
    if start < 512 or start % 512:
        return False
    stream.seek(start - 512)
    block = stream.read(512)
    if len(block) != 512 or block[257:262] != b"ustar":
        return False
    try:
        member_size = int(block[124:136].strip(b"\x00 ") or b"0", 8)
    except ValueError:
        return False
    return directory.end <= start + member_size


def _check_directory(archive: _Archive, head: bytes, ctx: ScanContext) -> None:
    directory = archive.directory
    if head[:4] == LOCAL_SIG and directory.start > 0:
        ctx.add(
            INCONSISTENT,
            f"{directory.start} bytes before the first member the directory lists "
            "(a second archive or a hidden member)",
            offset=0,
        )
    # Old writers store the count modulo 65536 when they lack ZIP64.
    if not directory.truncated and directory.declared_count not in (
        len(directory.entries),
        len(directory.entries) % 0x10000,
    ):
        ctx.add(
            INCONSISTENT,
            f"end record declares {directory.declared_count} members, directory holds "
            f"{len(directory.entries)}",
            offset=directory.eocd_pos,
        )
    counts = Counter(e.raw_name for e in directory.entries)
    for raw, n in counts.items():
        if n > 1:
            ctx.add(DUPLICATE_NAME, f"{decode_name(raw, 0x800)!r} appears {n} times")
    overlaps = _overlaps(directory.entries)
    if overlaps:
        ctx.add(ZIP_BOMB, f"{overlaps} members overlap another member's data")


def _overlaps(entries: tuple[CentralEntry, ...]) -> int:
    """Members whose data runs into the next member (the non-recursive zip bomb layout).

    The data end is estimated without the local extra field, so it is never overstated.
    """
    ordered = sorted(entries, key=lambda e: e.header_offset)
    count = 0
    for current, following in itertools.pairwise(ordered):
        end = current.header_offset + LOCAL_HEADER_SIZE + len(current.raw_name) + current.csize
        if end > following.header_offset:
            count += 1
    return count


def _scan_entry(archive: _Archive, entry: CentralEntry, ctx: ScanContext) -> None:
    if _escapes(entry.name):
        _member_finding(ctx, entry, PATH_TRAVERSAL, f"member name {entry.name!r}")
    try:
        local = read_local_header(archive.stream, entry, archive.directory.cd_start)
    except ParseError as exc:
        _member_finding(ctx, entry, MALFORMED, f"zip member: {exc}")
        return
    if not _check_headers(archive, entry, local, ctx):
        return
    if entry.name.endswith("/") and entry.usize == 0:
        return  # a directory
    if entry.method != STORED and entry.method not in _CODECS:
        evidence = f"compression method {entry.method}; member not scanned"
        _member_finding(ctx, entry, UNSUPPORTED_METHOD, evidence)
        return
    if _declares_bomb(entry, ctx):
        return
    if ctx.budget.decompressed >= ctx.limits.max_decompressed_bytes:
        raise LimitExceeded(
            "decompressed bytes", ctx.budget.decompressed, ctx.limits.max_decompressed_bytes
        )
    _scan_member_data(archive, entry, local, ctx)


def _escapes(name: str) -> bool:
    path = name.replace("\\", "/")
    if path.startswith("/") or (len(path) >= 2 and path[1] == ":" and path[0].isalpha()):
        return True
    return ".." in path.split("/") or "\x00" in path


def _check_headers(
    archive: _Archive, entry: CentralEntry, local: LocalHeader, ctx: ScanContext
) -> bool:
    """Compare the local header with the directory; False when the member cannot be read."""
    if local.raw_name != entry.raw_name:
        local_name = decode_name(local.raw_name, local.flags)
        evidence = f"central name {entry.name!r}, local header name {local_name!r}"
        _member_finding(ctx, entry, NAME_MISMATCH, evidence)
    if local.method != entry.method:
        evidence = f"central method {entry.method}, local header method {local.method}"
        _member_finding(ctx, entry, NAME_MISMATCH, evidence)
    flags = entry.flags | local.flags
    if flags & FLAG_ENCRYPTED:
        severity = Severity.MEDIUM if archive.flavour not in MODEL_FLAVOURS else None
        evidence = f"'encrypted' flag set on {entry.name!r} in a {archive.flavour} archive"
        _member_finding(ctx, entry, ENCRYPTED_FLAG, evidence, severity=severity)
    unusual = flags & ~_NORMAL_FLAGS
    if unusual or (entry.flags ^ local.flags) & FLAG_ENCRYPTED:
        evidence = f"flag bits central={entry.flags:#06x} local={local.flags:#06x}"
        _member_finding(ctx, entry, UNUSUAL_FLAGS, evidence)
    end = local.data_offset + entry.csize
    if end > archive.directory.cd_start:
        evidence = f"member data ends at {end}, past the central directory at "
        _member_finding(ctx, entry, INCONSISTENT, evidence + str(archive.directory.cd_start))
        return False
    return True


def member_bomb_floor(method: int, ctx: ScanContext) -> int:
    """Inflated size from which a member over the ratio limit is a bomb.

    Deflate tops out near 1000:1, the ratio of benign zero-filled arrays, so deflated
    members need the budget-based floor. bzip2 and lzma reach 10^5:1 and beyond, and model
    writers never use them: from 10 MB at such a ratio the member is built to inflate.
    """
    if method in (BZIP2, LZMA):
        return RATIO_FLOOR
    return bomb_floor(ctx.limits)


def _declares_bomb(entry: CentralEntry, ctx: ScanContext) -> bool:
    """Sizes in the directory that make a bomb, or that no compressor could produce."""
    ratio = ctx.limits.max_compression_ratio
    floor = member_bomb_floor(entry.method, ctx)
    if entry.usize > floor and entry.usize > ratio * max(entry.csize, 1):
        evidence = f"declares {entry.usize} bytes from {entry.csize} compressed (limit ×{ratio})"
        _member_finding(ctx, entry, ZIP_BOMB, evidence)
        return True
    possible = entry.csize if entry.method == STORED else DEFLATE_MAX_RATIO * entry.csize + 64
    if entry.method in (STORED, DEFLATED) and entry.usize > possible:
        evidence = f"declares {entry.usize} bytes from {entry.csize}: impossible for method "
        _member_finding(ctx, entry, INCONSISTENT, evidence + str(entry.method))
    return False


def _member_finding(
    ctx: ScanContext,
    entry: CentralEntry,
    rule: Rule,
    evidence: str,
    severity: Severity | None = None,
) -> None:
    """Report at the member (location member chain + local header offset in the archive)."""
    at_member = replace(ctx, members=(*ctx.members, entry.name))
    at_member.add(rule, evidence, severity=severity, offset=entry.header_offset)


def _open_member(
    archive: _Archive, entry: CentralEntry, data_offset: int, ctx: ScanContext
) -> tuple[BinaryIO, DecompressedStream | None]:
    if entry.method == STORED:
        raw: io.RawIOBase = WindowStream(archive.stream, data_offset, entry.csize)
        return io.BufferedReader(raw, buffer_size=CHUNK), None
    inflated = DecompressedStream(
        archive.stream, data_offset, entry.csize, _CODECS[entry.method], ctx,
        declared_size=entry.usize, cap=True, floor=member_bomb_floor(entry.method, ctx),
    )  # fmt: skip
    return io.BufferedReader(inflated, buffer_size=CHUNK), inflated


def _scan_member_data(
    archive: _Archive, entry: CentralEntry, local: LocalHeader, ctx: ScanContext
) -> None:
    reader, inflated = _open_member(archive, entry, local.data_offset, ctx)
    with reader:
        if archive.flavour in ("pytorch", "torchscript") and torchscript.is_tensor_storage(
            entry.name
        ):
            _sniff_storage(archive, entry, reader, ctx)
        elif archive.flavour == "torchscript" and torchscript.is_code_member(entry.name):
            _scan_source(entry, reader, ctx, torchscript.scan_code)
        elif archive.flavour == "torchserve" and entry.name.endswith(".py"):
            archive.handler_files.append(entry.name)
            _scan_source(entry, reader, ctx, torchscript.scan_handler_code)
            _nested(reader, ctx, entry, inflated)
        elif entry.usize > LARGE_MEMBER:
            _scan_large(reader, ctx, entry, inflated)
        else:
            if archive.flavour == "skops" and entry.name == "schema.json":
                _check_skops_schema(reader, ctx, entry)
            _nested(reader, ctx, entry, inflated)
        if inflated is not None:
            _report_inflation(inflated, entry, ctx)


def _nested(
    reader: BinaryIO,
    ctx: ScanContext,
    entry: CentralEntry,
    inflated: DecompressedStream | None,
    speculative: bool = False,
) -> None:
    from garrison.supplychain.dispatch import scan_nested_stream

    reader.seek(0)
    # A deflated member's size is passed only when it is small: the tail check that a
    # known size triggers would otherwise inflate all of it.
    size: int | None = entry.usize if inflated is None or entry.usize <= LARGE_MEMBER else None
    scan_nested_stream(reader, ctx, entry.name, size, speculative=speculative)


def _sniff_storage(
    archive: _Archive, entry: CentralEntry, reader: BinaryIO, ctx: ScanContext
) -> None:
    """Raw tensor bytes: read only the head; scan it as a pickle if it looks like one."""
    archive.storages += 1
    archive.storage_bytes += entry.usize
    from garrison.supplychain.pickle_vm import looks_like_pickle

    # Only the pickle test, not full format detection: checkpoints hold hundreds of these.
    if looks_like_pickle(reader.read(formats.HEAD_BYTES)):
        _nested(reader, ctx, entry, None, speculative=True)


def _scan_large(
    reader: BinaryIO, ctx: ScanContext, entry: CentralEntry, inflated: DecompressedStream | None
) -> None:
    head = reader.read(formats.HEAD_BYTES)
    if formats.detect_head(head, entry.name) in _IGNORED_HEADS:
        ctx.child(entry.name).record("unknown", "skipped", entry.usize, "large member: head only")
        return
    _nested(reader, ctx, entry, inflated)


def _scan_source(
    entry: CentralEntry,
    reader: BinaryIO,
    ctx: ScanContext,
    check: torchscript.SourceCheck,
) -> None:
    try:
        child = ctx.child(entry.name)
    except LimitExceeded as exc:
        ctx.add(LIMIT_REACHED, f"{entry.name}: {exc}")
        return
    try:
        check(reader, child, entry.usize)
    except LimitExceeded as exc:
        child.add(LIMIT_REACHED, str(exc))
        child.record("python", "partial", entry.usize, str(exc))
        return
    child.record("python", "scanned", entry.usize)


def _report_inflation(inflated: DecompressedStream, entry: CentralEntry, ctx: ScanContext) -> None:
    if inflated.bomb:
        evidence = f"inflated {inflated.produced} bytes from {inflated.consumed}; stopped there"
        _member_finding(ctx, entry, ZIP_BOMB, evidence)
    elif isinstance(inflated.failure, LimitExceeded):
        raise inflated.failure
    elif inflated.failure is not None:
        _member_finding(ctx, entry, MALFORMED, f"zip member {entry.name!r}: {inflated.failure}")
    elif inflated.overflow:
        evidence = f"member {entry.name!r} inflates past its declared size {entry.usize}"
        _member_finding(ctx, entry, INCONSISTENT, evidence)


# --- skops ---------------------------------------------------------------------------------

_SKOPS_DANGEROUS_MODULES = frozenset(
    {"os", "posix", "nt", "subprocess", "pty", "sys", "importlib", "runpy", "ctypes", "socket"}
    | {"shutil", "pickle", "marshal", "code", "codeop", "webbrowser", "commands", "popen2"}
)
_SKOPS_DANGEROUS_NAMES = frozenset(
    {"builtins.eval", "builtins.exec", "builtins.compile", "builtins.open", "builtins.getattr"}
    | {"builtins.__import__", "builtins.breakpoint", "builtins.input", "builtins.setattr"}
    | {"operator.methodcaller", "operator.attrgetter", "operator.call", "functools.partial"}
)
MAX_SCHEMA_NODES = 1_000_000


def _check_skops_schema(reader: BinaryIO, ctx: ScanContext, entry: CentralEntry) -> None:
    limit = ctx.limits.max_header_bytes
    data = reader.read(limit + 1)
    reader.seek(0)
    if len(data) > limit:
        return  # the json scanner reports the oversized member
    try:
        schema = json.loads(data)
    except (ValueError, RecursionError):
        return  # reported by the json scanner
    dangerous = sorted(
        name
        for name in _skops_types(schema)
        if name.split(".")[0] in _SKOPS_DANGEROUS_MODULES or name in _SKOPS_DANGEROUS_NAMES
    )
    if dangerous:
        listed = ", ".join(dangerous[:8])
        _member_finding(ctx, entry, SKOPS_DANGEROUS, f"schema.json references {listed}")


def _skops_types(schema: object) -> set[str]:
    found: set[str] = set()
    stack = [schema]
    visited = 0
    while stack and visited < MAX_SCHEMA_NODES:
        node = stack.pop()
        visited += 1
        if isinstance(node, dict):
            module, name = node.get("__module__"), node.get("__class__")
            if isinstance(module, str) and isinstance(name, str):
                found.add(f"{module}.{name}")
            content = node.get("content")
            if isinstance(content, dict):
                # A FunctionNode names the function it imports inside "content".
                path, func = content.get("module_path"), content.get("function")
                if isinstance(path, str) and isinstance(func, str):
                    found.add(f"{path}.{func}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found
