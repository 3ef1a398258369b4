"""Tar archives (plain; .tar.gz and friends arrive here through the compression scanner).

Members are never extracted: each regular member is scanned as a window over the archive
stream, and names and links that would escape an extraction directory are reported.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from collections.abc import Iterator
from typing import BinaryIO

from garrison.errors import ParseError
from garrison.findings import Severity
from garrison.rules import Rule
from garrison.supplychain.compression import CHUNK
from garrison.supplychain.context import ScanContext
from garrison.supplychain.rules import MALFORMED, SUPPLY_CHAIN_REFS
from garrison.supplychain.zip_scan import WindowStream

PATH_TRAVERSAL = Rule(
    "GA-TAR-001",
    "Tar member name escapes the extraction directory",
    Severity.HIGH,
    "A member name is absolute or contains '..'. Extracting the archive (tar, older Python "
    "tarfile without a filter, many model downloaders) writes outside the target directory.",
    "Do not extract the archive; obtain it from a trusted source.",
    SUPPLY_CHAIN_REFS,
)
LINK_ESCAPE = Rule(
    "GA-TAR-002",
    "Tar link points outside the archive",
    Severity.HIGH,
    "A symbolic or hard link targets an absolute path or climbs out of the archive with "
    "'..'. After extraction, writes through the link or later members land anywhere "
    "(CVE-2007-4559 and its many successors).",
    "Do not extract the archive; obtain it from a trusted source.",
    SUPPLY_CHAIN_REFS,
)
SPECIAL_MEMBER = Rule(
    "GA-TAR-003",
    "Tar member is a device, FIFO or set-user-ID file",
    Severity.MEDIUM,
    "Model archives hold regular files and directories. Device nodes, FIFOs and set-user-ID "
    "or set-group-ID files have no place in them and are dangerous when extracted as root.",
    "Extract only with tarfile's 'data' filter, or re-create the archive.",
    SUPPLY_CHAIN_REFS,
)
RULES: tuple[Rule, ...] = (PATH_TRAVERSAL, LINK_ESCAPE, SPECIAL_MEMBER)

_SETID = 0o6000
_TAR_ERRORS = (tarfile.TarError, EOFError, ValueError, UnicodeError, OSError)


def scan_tar(stream: BinaryIO, ctx: ScanContext) -> None:
    """Handler for tar archives: scan every regular member through the dispatcher.

    Members are scanned as their headers are read, so what precedes a member-count limit
    or a broken header is still scanned.
    """
    try:
        archive = tarfile.open(fileobj=stream, mode="r:")  # noqa: SIM115 (closed below)
    except _TAR_ERRORS as exc:
        raise ParseError(f"unreadable tar archive: {exc}") from None
    with archive:
        for member in _members(archive, ctx):
            _check_member(member, ctx)
            if member.isreg() and not member.issparse():
                _scan_member(stream, member, ctx)


def _members(archive: tarfile.TarFile, ctx: ScanContext) -> Iterator[tarfile.TarInfo]:
    """Member headers one by one, each counted against the member budget."""
    count = 0
    while True:
        try:
            member = archive.next()
        except _TAR_ERRORS as exc:
            if not count:
                raise ParseError(f"unreadable tar archive: {exc}") from None
            ctx.add(MALFORMED, f"tar archive breaks after {count} members: {exc}")
            return
        if member is None:
            return
        ctx.budget.spend_members(1)
        count += 1
        yield member


def _check_member(member: tarfile.TarInfo, ctx: ScanContext) -> None:
    name = member.name
    if _escapes(name):
        ctx.add(PATH_TRAVERSAL, f"member name {name!r}", offset=member.offset)
    if member.issym() or member.islnk():
        base = posixpath.dirname(name) if member.issym() else ""
        if _link_escapes(base, member.linkname):
            kind = "symlink" if member.issym() else "hard link"
            evidence = f"{kind} {name!r} -> {member.linkname!r}"
            ctx.add(LINK_ESCAPE, evidence, offset=member.offset)
    if member.ischr() or member.isblk() or member.isfifo():
        ctx.add(SPECIAL_MEMBER, f"{name!r} is a device or FIFO", offset=member.offset)
    elif member.isreg() and member.mode & _SETID:
        ctx.add(SPECIAL_MEMBER, f"{name!r} has mode {member.mode:o}", offset=member.offset)


def _escapes(name: str) -> bool:
    path = name.replace("\\", "/")
    if path.startswith("/") or (len(path) >= 2 and path[1] == ":" and path[0].isalpha()):
        return True
    return ".." in path.split("/")


def _link_escapes(base: str, target: str) -> bool:
    target = target.replace("\\", "/")
    if target.startswith("/") or (len(target) >= 2 and target[1] == ":"):
        return True
    resolved = posixpath.normpath(posixpath.join(base, target))
    return resolved == ".." or resolved.startswith("../")


def _scan_member(stream: BinaryIO, member: tarfile.TarInfo, ctx: ScanContext) -> None:
    from garrison.supplychain.dispatch import scan_nested_stream

    window = WindowStream(stream, member.offset_data, member.size)
    with io.BufferedReader(window, buffer_size=CHUNK) as reader:
        scan_nested_stream(reader, ctx, member.name, member.size)
