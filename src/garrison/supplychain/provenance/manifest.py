"""A model's manifest: the SHA-256 of every file, in the OpenSSF model-signing "files" layout.

Files are hashed in a streaming pass with a fixed buffer, so memory does not grow with
the model; several files are hashed on a thread pool (hashlib releases the GIL).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from garrison.errors import LimitExceeded, UsageError

HASH_TYPE = "sha256"
BUFFER_BYTES = 1 << 20
# What model-signing ignores by default, plus where Garrison writes its own files.
GIT_PATHS = (".git", ".gitattributes", ".github", ".gitignore")
SIGNATURE_NAME = "model.sig"
ATTESTATION_NAME = "model.scan.sig"


@dataclass(frozen=True, slots=True)
class Resource:
    name: str  # POSIX path relative to the model root; the file name for a single file
    digest: str  # hex SHA-256
    size: int = 0


@dataclass(frozen=True, slots=True)
class Manifest:
    model_name: str
    resources: tuple[Resource, ...]
    ignore_paths: tuple[str, ...] = ()
    allow_symlinks: bool = False
    root_digest: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "resources", tuple(sorted(self.resources, key=lambda r: r.name)))
        object.__setattr__(self, "root_digest", root_digest(self.resources))

    @property
    def total_bytes(self) -> int:
        return sum(r.size for r in self.resources)

    def digests(self) -> dict[str, str]:
        return {r.name: r.digest for r in self.resources}

    def serialization(self) -> dict[str, Any]:
        args: dict[str, Any] = {
            "method": "files",
            "hash_type": HASH_TYPE,
            "allow_symlinks": self.allow_symlinks,
        }
        if self.ignore_paths:
            args["ignore_paths"] = list(self.ignore_paths)
        return args


def root_digest(resources: Iterable[Resource]) -> str:
    """SHA-256 over the raw digests in name order: model-signing's subject digest."""
    hasher = hashlib.sha256()
    for resource in sorted(resources, key=lambda r: r.name):
        hasher.update(bytes.fromhex(resource.digest))
    return hasher.hexdigest()


def hash_file(path: Path, buffer_bytes: int = BUFFER_BYTES) -> tuple[str, int]:
    """Stream one file through SHA-256; returns (hex digest, size)."""
    hasher = hashlib.sha256()
    buffer = bytearray(buffer_bytes)
    view = memoryview(buffer)
    size = 0
    try:
        with path.open("rb", buffering=0) as stream:
            while n := stream.readinto(buffer):
                hasher.update(view[:n])
                size += n
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    return hasher.hexdigest(), size


def default_ignores(model: Path) -> tuple[str, ...]:
    """Ignore git metadata and Garrison's own signature files inside a model directory."""
    if not model.is_dir():
        return ()
    return (*GIT_PATHS, ATTESTATION_NAME, SIGNATURE_NAME)


def model_files(
    model: Path,
    ignore_paths: Iterable[str] = (),
    allow_symlinks: bool = False,
    max_files: int = 1_000_000,
) -> Iterator[tuple[str, Path]]:
    """Yield (manifest name, path) for every file of a model, in a stable order."""
    if model.is_symlink() and not allow_symlinks:
        raise UsageError(f"{model} is a symbolic link; pass --allow-symlinks to follow it")
    if model.is_file():
        yield model.name, model
        return
    if not model.is_dir():
        raise UsageError(f"no such file or directory: {model}")
    ignored = {PurePosixPath(p).as_posix().rstrip("/") for p in ignore_paths}
    count = 0
    for dirpath, dirnames, filenames in os.walk(model, followlinks=allow_symlinks):
        base = Path(dirpath)
        rel_dir = base.relative_to(model).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(d for d in dirnames if not _ignored(prefix + d, ignored))
        for name in sorted(filenames):
            rel = prefix + name
            if _ignored(rel, ignored):
                continue
            path = base / name
            if path.is_symlink() and not allow_symlinks:
                raise UsageError(
                    f"{path} is a symbolic link; pass --allow-symlinks to hash its target"
                )
            count += 1
            if count > max_files:
                raise LimitExceeded("files in model", count, max_files)
            yield rel, path
        for d in list(dirnames):
            if (base / d).is_symlink() and not allow_symlinks:
                raise UsageError(
                    f"{base / d} is a symbolic link; pass --allow-symlinks to follow it"
                )


def _ignored(rel: str, ignored: set[str]) -> bool:
    return any(rel == p or rel.startswith(p + "/") for p in ignored)


def build_manifest(
    model: Path,
    ignore_paths: Iterable[str] | None = None,
    allow_symlinks: bool = False,
    jobs: int = 0,
    max_files: int = 1_000_000,
) -> Manifest:
    """Hash every file of `model` (a file or a directory) into a Manifest."""
    ignores = tuple(sorted(default_ignores(model) if ignore_paths is None else ignore_paths))
    files = list(model_files(model, ignores, allow_symlinks, max_files))
    workers = jobs or min(8, os.cpu_count() or 1)
    if workers <= 1 or len(files) <= 1:
        hashed = [hash_file(path) for _, path in files]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            hashed = list(pool.map(hash_file, (path for _, path in files)))
    resources = tuple(
        Resource(name, digest, size)
        for (name, _), (digest, size) in zip(files, hashed, strict=True)
    )
    return Manifest(_model_name(model), resources, ignores, allow_symlinks)


def _model_name(model: Path) -> str:
    return model.name or model.resolve().name


@dataclass(frozen=True, slots=True)
class ManifestDiff:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.renamed)

    def describe(self) -> str:
        """One line naming what changed, e.g. `changed: a.bin; added: b.bin`."""
        groups = (
            ("changed", list(self.changed)),
            ("added", list(self.added)),
            ("removed", list(self.removed)),
            ("renamed", [f"{old} -> {new}" for old, new in self.renamed]),
        )
        return "; ".join(f"{label}: {_shorten(names)}" for label, names in groups if names)


def _shorten(names: list[str], shown: int = 5) -> str:
    more = f" (+{len(names) - shown} more)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def diff_manifests(expected: Manifest, actual: Manifest) -> ManifestDiff:
    """What differs between a signed manifest and the files on disk. A removed and an
    added file with the same digest are reported as a rename."""
    want, have = expected.digests(), actual.digests()
    removed = sorted(set(want) - set(have))
    added = sorted(set(have) - set(want))
    changed = sorted(n for n in set(want) & set(have) if want[n] != have[n])
    added_by_digest = {have[n]: n for n in added}
    renamed = [(n, added_by_digest.pop(want[n])) for n in removed if want[n] in added_by_digest]
    moved = {old for old, _ in renamed} | {new for _, new in renamed}
    return ManifestDiff(
        added=tuple(n for n in added if n not in moved),
        removed=tuple(n for n in removed if n not in moved),
        changed=tuple(changed),
        renamed=tuple(renamed),
    )
