"""Write the benchmark's scale inputs: large checkpoints, many small pickles, a mixed corpus.

Everything heavy (torch, numpy, scikit-learn) runs in a child process of the project's venv,
so the benchmark process itself stays small and never holds model objects.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

GIB = 1 << 30

_TORCH_CHECKPOINT = """
import sys, torch
path, total, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = total // count // 4 // 1024
state = {f"model.layers.{i}.mlp.weight": torch.zeros(rows, 1024) for i in range(count)}
torch.save(state, path)
"""

_SMALL_PICKLES = """
import pickle, sys
from pathlib import Path
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
out, count = Path(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
x, y = rng.normal(size=(40, 4)), np.arange(40) % 2
models = [LogisticRegression(max_iter=50).fit(x, y), StandardScaler().fit(x)]
for i in range(count):
    kind = i % 3
    if kind == 0:
        obj = {"step": i, "lr": 0.001, "betas": [0.9, 0.999], "name": f"run-{i}"}
    elif kind == 1:
        obj = {"mean": rng.normal(size=16).astype("float32"), "count": np.int64(i)}
    else:
        obj = models[i % 2]
    (out / f"state_{i:04d}.pkl").write_bytes(pickle.dumps(obj, protocol=4 + i % 2))
"""


def safetensors_file(path: Path, total: int, count: int = 256) -> Path:
    """A sparse safetensors file with `count` F32 tensors filling `total` bytes."""
    if path.exists() and path.stat().st_size >= total:
        return path
    each = total // count
    rows = each // 4 // 1024
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    for i in range(count):
        start = i * rows * 1024 * 4
        header[f"model.layers.{i}.mlp.weight"] = {
            "dtype": "F32",
            "shape": [rows, 1024],
            "data_offsets": [start, start + rows * 1024 * 4],
        }
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # the format pads the header to 8 bytes
    with path.open("wb") as handle:
        handle.write(struct.pack("<Q", len(raw)) + raw)
        # The tensor bytes are a hole: a scanner that reads them still pays for 2 GB.
        handle.truncate(8 + len(raw) + count * rows * 1024 * 4)
    return path


def torch_checkpoint(python: Path, path: Path, total: int, count: int = 64) -> Path:
    """A real `torch.save` zip checkpoint of `count` zero tensors totalling `total` bytes."""
    if not (path.exists() and path.stat().st_size >= total):
        _child(python, _TORCH_CHECKPOINT, str(path), str(total), str(count))
    return path


def small_pickles(python: Path, folder: Path, count: int) -> Path:
    """`count` small benign pickles: optimizer-style dicts, numpy arrays, sklearn estimators."""
    if folder.is_dir() and len(list(folder.glob("*.pkl"))) == count:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    _child(python, _SMALL_PICKLES, str(folder), str(count))
    return folder


def mixed_corpus(entries: list[Path], folder: Path, minimum: int) -> Path:
    """Copy every corpus entry into one folder, then repeat files until it holds `minimum`."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for i, src in enumerate(entries):
        dest = folder / f"{i:04d}_{src.name}"
        # Directory entries (a Hugging Face repo, a SavedModel) keep their layout.
        if src.is_dir():
            shutil.copytree(src, dest)
        else:
            shutil.copy2(src, dest)
    files = [f for src in entries for f in _files(src)]
    extra = 0
    while files and len(files) + extra < minimum:
        src = files[extra % len(files)]
        shutil.copy2(src, folder / f"copy{extra:04d}_{src.name}")
        extra += 1
    return folder


def count_files(folder: Path) -> int:
    return sum(1 for _ in _files(folder))


def total_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in _files(path))


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file())


def _child(python: Path, code: str, *args: str) -> None:
    done = subprocess.run(
        [str(python), "-c", code, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"writing a scale input failed:\n{done.stderr[-2000:]}")
