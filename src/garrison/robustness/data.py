"""Evaluation data for model tests: arrays from .npz, CSV, or scikit-learn's bundled sets.

Nothing is downloaded: `sklearn:digits`, `sklearn:breast_cancer`, `sklearn:wine` and
`sklearn:iris` ship with scikit-learn. `.npz` files are read with allow_pickle=False.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from garrison.errors import UsageError
from garrison.robustness.target import Array

BUNDLED = ("digits", "breast_cancer", "wine", "iris")


@dataclass(frozen=True)
class EvalData:
    x: Array  # float32, scaled into `clip`
    y: Array  # int64 labels 0..n_classes-1
    n_classes: int
    image_shape: tuple[int, ...] | None = None  # (C, H, W) for image models
    name: str = ""

    def __post_init__(self) -> None:
        if len(self.x) != len(self.y):
            raise UsageError(f"{self.name}: {len(self.x)} inputs but {len(self.y)} labels")

    def subset(self, index: Array) -> EvalData:
        return EvalData(self.x[index], self.y[index], self.n_classes, self.image_shape, self.name)

    def split(self, fraction: float, seed: int = 0) -> tuple[EvalData, EvalData]:
        """A stratified split into (first, rest); `fraction` goes to the first part."""
        from sklearn.model_selection import train_test_split

        idx = np.arange(len(self.y))
        first, rest = train_test_split(idx, train_size=fraction, random_state=seed, stratify=self.y)
        return self.subset(first), self.subset(rest)


def load_bundled(name: str, images: bool = True) -> EvalData:
    """A scikit-learn bundled set scaled to [0, 1]; digits as (1, 8, 8) images when `images`."""
    from sklearn import datasets

    if name not in BUNDLED:
        raise UsageError(f"unknown bundled dataset {name!r}; use one of {', '.join(BUNDLED)}")
    bunch: Any = getattr(datasets, f"load_{name}")()
    x = np.asarray(bunch.data, np.float32)
    lo, hi = x.min(axis=0), x.max(axis=0)
    x = (x - lo) / np.where(hi > lo, hi - lo, 1.0)
    y = np.asarray(bunch.target, np.int64)
    shape = None
    if name == "digits" and images:
        x = x.reshape(-1, 1, 8, 8)
        shape = (1, 8, 8)
    return EvalData(x.astype(np.float32), y, int(y.max()) + 1, shape, f"sklearn:{name}")


def load_data(spec: str, label: str | None = None, max_rows: int = 1_000_000) -> EvalData:
    """`sklearn:NAME`, a `.npz` with arrays `x` and `y`, or a CSV with a label column."""
    if spec.startswith("sklearn:"):
        return load_bundled(spec.split(":", 1)[1])
    path = Path(spec)
    if not path.is_file():
        raise UsageError(f"no such data file: {path}")
    if path.suffix == ".npz":
        return _load_npz(path)
    if path.suffix == ".csv":
        return _load_csv(path, label, max_rows)
    raise UsageError(f"{path}: give a .npz (arrays x, y), a .csv with --label, or sklearn:NAME")


def _load_npz(path: Path) -> EvalData:
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "x" not in archive or "y" not in archive:
                raise UsageError(f"{path}: needs arrays named 'x' and 'y'")
            x = np.asarray(archive["x"], np.float32)
            y = np.asarray(archive["y"]).astype(np.int64)
    except (OSError, ValueError) as exc:
        # numpy's own message suggests allow_pickle=True, which would run the file's code.
        reason = (
            "pickled objects, or not an .npz at all"
            if "pickle" in str(exc)
            else str(exc).splitlines()[0]
        )
        raise UsageError(f"{path}: not a .npz of numeric arrays ({reason})") from None
    shape = tuple(x.shape[1:]) if x.ndim == 4 else None
    return EvalData(x, y, int(y.max()) + 1 if len(y) else 0, shape, str(path))


def _load_csv(path: Path, label: str | None, max_rows: int) -> EvalData:
    import csv

    if not label:
        raise UsageError(f"{path}: name the label column with --label")
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or label not in header:
            raise UsageError(f"{path}: no column {label!r} in the header")
        col = header.index(label)
        rows: list[list[float]] = []
        labels: list[str] = []
        for number, row in enumerate(reader, start=2):
            if len(rows) >= max_rows:
                raise UsageError(f"{path}: more than {max_rows} rows")
            if len(row) != len(header):
                raise UsageError(
                    f"{path}, line {number}: {len(row)} fields, expected {len(header)}"
                )
            try:
                rows.append([float(v) for i, v in enumerate(row) if i != col])
            except ValueError:
                raise UsageError(f"{path}, line {number}: a feature is not a number") from None
            labels.append(row[col])
    classes = sorted(set(labels))
    lookup = {c: i for i, c in enumerate(classes)}
    y = np.array([lookup[v] for v in labels], np.int64)
    return EvalData(np.array(rows, np.float32), y, len(classes), None, str(path))
