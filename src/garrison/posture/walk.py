"""A streaming walk of the given roots that reports what it cannot or will not enter.

Unlike the model scanner's walk (supplychain/walk.py), discovery must say why a path was
left out: an unreadable directory, a link leaving the roots, a link loop. Links are not
followed unless asked; a link to somewhere inside the roots is skipped silently, since its
target is walked anyway.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from garrison.errors import UsageError

UNREADABLE = "unreadable"
LINK_OUTSIDE = "link-outside"
LINK_LOOP = "link-loop"
LIMIT = "limit"


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str
    size: int


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    reason: str  # UNREADABLE, LINK_OUTSIDE, LINK_LOOP or LIMIT
    detail: str = ""


def walk(
    roots: Sequence[Path],
    *,
    follow_symlinks: bool = False,
    excluded_dirs: frozenset[str] = frozenset(),
    max_files: int = 1_000_000,
) -> Iterator[FileEntry | Skipped]:
    """Every regular file under `roots` (and the roots that are files), in a stable order."""
    for root in roots:
        if not root.exists() and not root.is_symlink():
            raise UsageError(f"no such file or directory: {root}")
    real_roots = [os.path.realpath(root) for root in roots]
    walker = _Walker(real_roots, follow_symlinks, excluded_dirs, max_files)
    for root in roots:
        if root.is_dir():
            yield from walker.directory(str(root))
        else:
            yield from walker.file(str(root))
        if walker.count > max_files:
            return


class _Walker:
    def __init__(
        self, real_roots: list[str], follow: bool, excluded: frozenset[str], max_files: int
    ) -> None:
        self.real_roots = real_roots
        self.follow = follow
        self.excluded = excluded
        self.max_files = max_files
        self.count = 0
        self.seen_dirs: set[tuple[int, int]] = set()

    def inside_roots(self, path: str) -> bool:
        real = os.path.realpath(path)
        return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in self.real_roots)

    def file(self, path: str) -> Iterator[FileEntry | Skipped]:
        try:
            st = os.stat(path)
        except OSError as exc:
            yield Skipped(path, UNREADABLE, exc.strerror or type(exc).__name__)
            return
        self.count += 1
        yield FileEntry(path, st.st_size)

    def directory(self, root: str) -> Iterator[FileEntry | Skipped]:
        stack = [root]
        while stack:
            directory = stack.pop()
            try:
                st = os.stat(directory)
                if (st.st_dev, st.st_ino) in self.seen_dirs:
                    yield Skipped(directory, LINK_LOOP, "directory already walked")
                    continue
                self.seen_dirs.add((st.st_dev, st.st_ino))
                with os.scandir(directory) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                reason = LINK_LOOP if exc.errno == 40 else UNREADABLE  # ELOOP
                yield Skipped(directory, reason, exc.strerror or type(exc).__name__)
                continue
            subdirs: list[str] = []
            for entry in entries:
                outcome = self._entry(entry, subdirs)
                if outcome is None:
                    continue
                yield outcome
                if isinstance(outcome, FileEntry) and self.count > self.max_files:
                    yield Skipped(directory, LIMIT, f"more than {self.max_files} files")
                    return
            stack.extend(reversed(subdirs))

    def _entry(self, entry: os.DirEntry[str], subdirs: list[str]) -> FileEntry | Skipped | None:
        try:
            is_link = entry.is_symlink()
            if is_link and not self.follow:
                if os.path.exists(entry.path) and not self.inside_roots(entry.path):
                    return Skipped(entry.path, LINK_OUTSIDE, f"-> {os.readlink(entry.path)}")
                return None  # broken, or its target is walked anyway
            if entry.is_dir(follow_symlinks=self.follow):
                if entry.name not in self.excluded:
                    subdirs.append(entry.path)
                return None
            if not entry.is_file(follow_symlinks=self.follow):
                return None  # sockets, devices, fifos: never opened
            size = entry.stat(follow_symlinks=self.follow).st_size
        except OSError as exc:
            reason = LINK_LOOP if exc.errno == 40 else UNREADABLE
            return Skipped(entry.path, reason, exc.strerror or type(exc).__name__)
        self.count += 1
        return FileEntry(entry.path, size)
