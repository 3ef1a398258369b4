"""Expand the paths a user gave into assets: files, and directories with their files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote_from_bytes

from garrison.assets import Asset
from garrison.errors import LimitExceeded, UsageError

SKIPPED_DIRS = (".git", "__pycache__")


def expand(
    paths: list[Path], follow_symlinks: bool, max_files: int, links: list[Path] | None = None
) -> Iterator[Asset]:
    """Yield a directory asset for each directory, then a file asset for every file in it.

    Symbolic links met inside a directory that are not followed go to `links`, so the
    caller can report them; a path given twice (or inside another one given) is scanned once.
    """
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise UsageError(f"no such file or directory: {path}")
    for path in _distinct(paths):
        if path.is_dir():
            yield Asset.from_path(path, kind="directory")
            yield from _files_under(path, follow_symlinks, max_files, links)
        else:
            yield Asset.from_path(path)


def _distinct(paths: list[Path]) -> list[Path]:
    """The paths less repeats and those inside a directory also given (first spelling kept)."""
    resolved = []
    for path in paths:
        try:
            resolved.append(path.resolve())
        except (OSError, RuntimeError):  # a symlink loop: kept, and reported when scanned
            resolved.append(path.absolute())
    dirs = [r for p, r in zip(paths, resolved, strict=True) if p.is_dir()]
    out: list[Path] = []
    seen: set[Path] = set()
    for path, real in zip(paths, resolved, strict=True):
        if real in seen or any(_walked_into(real, d) for d in dirs):
            continue
        seen.add(real)
        out.append(path)
    return out


def _walked_into(path: Path, directory: Path) -> bool:
    if path == directory or not path.is_relative_to(directory):
        return False
    return not set(path.relative_to(directory).parts) & set(SKIPPED_DIRS)


def _files_under(
    root: Path, follow_symlinks: bool, max_files: int, links: list[Path] | None
) -> Iterator[Asset]:
    count = 0
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            st = directory.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:  # symlink loop
            continue
        seen.add((st.st_dev, st.st_ino))
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            yield Asset.from_path(directory)  # the file check reports it unreadable
            continue
        base = Asset.from_path(directory).uri if os.sep == "/" else None
        folder = str(directory)
        subdirs = []
        for entry in entries:
            if entry.is_symlink() and not follow_symlinks:
                if links is not None:
                    links.append(Path(entry.path))
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=follow_symlinks)
            except OSError:  # a symlink loop: the file check reports it unreadable
                is_dir = False
            if is_dir:
                if entry.name not in SKIPPED_DIRS:
                    subdirs.append(Path(entry.path))
                continue
            count += 1
            if count > max_files:
                raise LimitExceeded("files in directory", count, max_files)
            yield _file_asset(folder, entry.name, base)
        stack.extend(reversed(subdirs))


def _file_asset(directory: str, name: str, base: str | None) -> Asset:
    """`Asset.from_path(Path(directory) / name)`, built from the folder's strings (POSIX)."""
    if base is None:
        return Asset.from_path(Path(directory) / name)
    uri = base + ("" if base.endswith("/") else "/") + quote_from_bytes(os.fsencode(name))
    # pathlib writes "./x" as "x" and never doubles the root's slash
    path = name if directory == "." else directory.rstrip("/") + "/" + name
    return Asset(uri=uri, path=path)
