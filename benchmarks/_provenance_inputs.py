"""Write the provenance benchmark's inputs: one large file and a directory of many files.

Both are reused when a previous run left them with the same size or layout, so repeated
runs do not rewrite 2 GB.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

MIB = 1 << 20
GIB = 1 << 30
BLOCK = 64 * MIB  # one random block, repeated: SHA-256 speed does not depend on the bytes
LARGE_FILES = 2  # files of 1 MiB among the small ones, like a model's weights beside configs


def large_file(path: Path, size: int) -> Path:
    """A file of `size` random-looking bytes; kept when it already has that size."""
    if path.is_file() and path.stat().st_size == size:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    block = memoryview(os.urandom(min(BLOCK, size)))
    partial = path.with_name(path.name + ".part")
    with partial.open("wb") as out:
        left = size
        while left:
            n = min(left, len(block))
            out.write(block[:n])
            left -= n
    partial.replace(path)
    return path


def many_files(root: Path, count: int, seed: int = 0) -> Path:
    """`count` files of 1-64 KiB (two of 1 MiB) in folders of 100, the same for a seed."""
    spec = f"count={count} seed={seed}\n"
    stamp = root.with_name(root.name + ".done")  # outside the tree, so it is never hashed
    if root.is_dir() and stamp.is_file() and stamp.read_text(encoding="utf-8") == spec:
        return root
    shutil.rmtree(root, ignore_errors=True)
    stamp.unlink(missing_ok=True)
    rng = random.Random(seed)
    for i in range(count):
        size = MIB if i < LARGE_FILES else rng.randint(1024, 64 * 1024)
        path = root / f"shard_{i // 100:02d}" / f"file_{i:04d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(size))
    stamp.write_text(spec, encoding="utf-8")
    return root


def tree_size(root: Path) -> tuple[int, int]:
    """(files, bytes) under `root`."""
    sizes = [p.stat().st_size for p in root.rglob("*") if p.is_file()]
    return len(sizes), sum(sizes)
