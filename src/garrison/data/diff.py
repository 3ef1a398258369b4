"""Which rows a new version of a dataset added, removed or changed, by row hash.

Rows are compared as multisets: a row duplicated once more than before is one added row
(duplication is a poisoning technique too). With a key column, the k-th row of a key in OLD
is paired with the k-th row of that key in NEW; a pair whose contents differ is "changed".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from garrison.data.fingerprint import (
    Fingerprint,
    RowHashes,
    RowTrace,
    fingerprint_dataset,
    is_manifest,
    load_fingerprint,
    trace_rows,
)
from garrison.errors import UsageError
from garrison.store.audit import append_in, default_actor
from garrison.store.db import Store

Indices = np.ndarray[Any, np.dtype[np.int64]]
SHOWN = 1000  # row indices listed per kind in to_dict()


@dataclass(frozen=True, slots=True, eq=False)
class DataDiff:
    old: Fingerprint
    new: Fingerprint
    key: str | None
    added: Indices  # row indices in NEW
    removed: Indices  # row indices in OLD
    changed: Indices  # shape (n, 2): (row in OLD, row in NEW), same key, other content
    unchanged: int
    trace: RowTrace | None = field(default=None)  # where added/changed rows first appeared

    def __bool__(self) -> bool:
        return bool(len(self.added) or len(self.removed) or len(self.changed))

    @property
    def columns_added(self) -> list[str]:
        return sorted({n for n, _ in self.new.columns} - {n for n, _ in self.old.columns})

    @property
    def columns_removed(self) -> list[str]:
        return sorted({n for n, _ in self.old.columns} - {n for n, _ in self.new.columns})

    def first_seen(self, new_row: int) -> int | None:
        """Id of the earliest recorded fingerprint holding NEW's row, if traced."""
        if self.trace is None:
            return None
        stored = self.trace.first_seen.get(_hex(self.new.row_hashes[new_row]))
        return None if stored is None else stored.id

    def to_dict(self, shown: int = SHOWN) -> dict[str, Any]:
        """JSON-ready and bounded: counts, plus the first `shown` row indices of each kind."""
        out: dict[str, Any] = {
            "old": {"root": self.old.root, "path": self.old.path, "rows": self.old.rows},
            "new": {"root": self.new.root, "path": self.new.path, "rows": self.new.rows},
            "key": self.key,
            "counts": {
                "added": len(self.added),
                "removed": len(self.removed),
                "changed": len(self.changed),
                "unchanged": self.unchanged,
            },
            "columns_added": self.columns_added,
            "columns_removed": self.columns_removed,
            "added": self.added[:shown].tolist(),
            "removed": self.removed[:shown].tolist(),
            "changed": [{"old": int(o), "new": int(n)} for o, n in self.changed[:shown]],
            "truncated": max(len(self.added), len(self.removed), len(self.changed)) > shown,
        }
        if self.trace is not None:
            out["first_seen"] = {
                str(row): self.first_seen(int(row)) for row in self.added[:shown].tolist()
            }
            out["fingerprints"] = {
                str(fp.id): fp.to_dict()
                for fp in {s.id: s for s in self.trace.first_seen.values()}.values()
            }
            out["unreadable_fingerprints"] = list(self.trace.unreadable)
        return out


def diff_datasets(
    old: Fingerprint | Path,
    new: Fingerprint | Path,
    key: str | None = None,
    store: Store | None = None,
) -> DataDiff:
    """Compare two datasets or fingerprints (a Path may be a dataset or a manifest JSON).

    With `store`, each added row is traced to the earliest recorded fingerprint holding it.
    """
    old_fp, new_fp = _fingerprint(old, key), _fingerprint(new, key)
    if key is None and old_fp.key is not None and old_fp.key == new_fp.key:
        key = old_fp.key
    if key is None:
        match = _match(old_fp.row_hashes, new_fp.row_hashes)
        added, removed = match.new_surplus, match.old_surplus
        changed = np.empty((0, 2), dtype=np.int64)
    else:
        added, removed, changed = _keyed(old_fp, new_fp, key)
    unchanged = new_fp.rows - len(added) - len(changed)
    trace = None
    if store is not None:
        new_rows = np.concatenate([added, changed[:, 1]])
        trace = trace_rows(store, new_fp.row_hashes[new_rows])
    return DataDiff(old_fp, new_fp, key, added, removed, changed, unchanged, trace)


def record_diff(store: Store, diff: DataDiff, actor: str | None = None) -> None:
    """Write the diff's verdict (counts and roots) to the audit log as `data.diff`."""
    summary = diff.to_dict(shown=20)
    details = {k: summary[k] for k in ("old", "new", "key", "counts", "truncated")}
    details["added"] = summary["added"]
    with store.locked_transaction() as conn:
        append_in(conn, "data.diff", diff.new.name, details, actor or default_actor())


def _fingerprint(source: Fingerprint | Path, key: str | None) -> Fingerprint:
    if isinstance(source, Fingerprint):
        _check_key(source, key)
        return source
    if is_manifest(source):
        loaded = load_fingerprint(source)
        _check_key(loaded, key)
        return loaded
    return fingerprint_dataset(source, key=key)


def _check_key(fp: Fingerprint, key: str | None) -> None:
    if key is not None and fp.key != key:
        made = f"with key {fp.key!r}" if fp.key else "without a key"
        raise UsageError(
            f"fingerprint {fp.root[:12]} was made {made}; fingerprint again with --key {key}"
        )


@dataclass(frozen=True, slots=True)
class _Match:
    """Multiset matching of two hash arrays: surplus rows on each side, and pairs."""

    old_surplus: Indices
    new_surplus: Indices
    pairs: Indices  # shape (n, 2): (index in old, index in new)


def _match(old: RowHashes, new: RowHashes) -> _Match:
    """The k-th occurrence of a value in NEW pairs with its k-th occurrence in OLD; the rest
    are surplus. One stable sort of both arrays together does it all."""
    both = np.concatenate([old, new])
    order = np.argsort(both, kind="stable").astype(np.int64)
    ordered = both[order]
    index = np.arange(len(both), dtype=np.int64)
    starts = np.ones(len(both), dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    first = np.maximum.accumulate(np.where(starts, index, 0))
    group = np.cumsum(starts) - 1
    from_old = order < len(old)
    n_old = np.bincount(group, weights=from_old).astype(np.int64)[group]
    n_new = np.bincount(group, weights=~from_old).astype(np.int64)[group]
    # Stable sort within a group: OLD's rows come first, each side in row order.
    position = index - first
    rank = np.where(from_old, position, position - n_old)
    old_extra = from_old & (rank >= n_new)
    new_extra = ~from_old & (rank >= n_old)
    paired_new = ~from_old & (rank < n_old)
    pairs = np.stack([order[first[paired_new] + rank[paired_new]], order[paired_new] - len(old)])
    return _Match(
        np.sort(order[old_extra]),
        np.sort(order[new_extra] - len(old)),
        pairs.T[np.argsort(pairs[1], kind="stable")],
    )


def _hex(value: bytes) -> str:
    return bytes(value).ljust(16, b"\x00").hex()


def _keyed(old: Fingerprint, new: Fingerprint, key: str) -> tuple[Indices, Indices, Indices]:
    if old.key_hashes is None or new.key_hashes is None:
        raise UsageError(f"both fingerprints need key hashes for {key!r}")
    match = _match(old.key_hashes, new.key_hashes)
    old_rows, new_rows = match.pairs[:, 0], match.pairs[:, 1]
    differs = old.row_hashes[old_rows] != new.row_hashes[new_rows]
    return match.new_surplus, match.old_surplus, match.pairs[differs]
