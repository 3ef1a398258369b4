"""Drift against a trusted reference: per-column PSI and KS / chi-squared, label shift, outliers.

One streaming pass per table. Numeric columns are binned at the reference's deciles (PSI,
with the reference shares estimated from its row sample) and compared with a two-sample KS
test on uniform row samples of at most `sample_size` values each. Categorical columns use
exact counts and a chi-squared test. Because with many rows every difference is
"significant", a test only counts as drift when its effect is large too: KS D >= 0.05 or a
total-variation distance between categories >= 0.05. Row outliers: a robust z-score fitted
on the reference sample (or on the data's own sample) scores every row; rows above the
reference's (1 - outlier_fraction) score quantile are reported, highest first. It finds values
far out in any one column and rare categories, not unusual combinations of ordinary values.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from garrison.assets import Asset
from garrison.data.read import TableSource, column_values, import_pyarrow
from garrison.data.rules import DRIFT, LABEL_SHIFT, ROW_OUTLIER
from garrison.data.schema import summary
from garrison.findings import Finding, Location
from garrison.policy import Policy

MIN_EFFECT = 0.05
MAX_CATEGORIES = 1000  # above this a column is treated as an identifier and not tested
PSI_FLOOR = 1e-4


@dataclass(slots=True)
class Profile:
    """Counts and a uniform row sample (bottom-k of random row keys); `merge` combines two."""

    numeric: dict[str, np.ndarray] = field(default_factory=dict)  # bin counts per column
    categories: dict[str, Counter[str] | None] = field(default_factory=dict)  # None: too many
    edges: dict[str, np.ndarray] = field(default_factory=dict)
    sample: dict[str, np.ndarray] = field(default_factory=dict)
    keys: np.ndarray = field(default_factory=lambda: np.empty(0))
    rows: int = 0
    sample_size: int = 50_000

    def add(self, batch: Any, columns: list[str], rng: np.random.Generator) -> None:
        n = batch.num_rows
        values = {c: column_values(batch.column(c)) for c in columns}
        for name, vals in values.items():
            if vals.dtype != object:
                if name in self.edges:
                    bins = np.searchsorted(self.edges[name], vals[~np.isnan(vals)], side="right")
                    counts = np.bincount(bins, minlength=len(self.edges[name]) + 1)
                    self.numeric[name] = self.numeric.get(name, 0) + counts
                continue
            seen = self.categories.setdefault(name, Counter())
            if seen is not None:
                texts, counts = np.unique(vals[vals != None].astype(str), return_counts=True)  # noqa: E711
                seen.update(dict(zip(texts.tolist(), counts.tolist(), strict=True)))
                if len(seen) > MAX_CATEGORIES:
                    self.categories[name] = None
        keys = rng.random(n)
        self._keep(keys, values)
        self.rows += n

    def _keep(self, keys: np.ndarray, values: dict[str, np.ndarray]) -> None:
        all_keys = np.concatenate([self.keys, keys])
        merged = {
            c: np.concatenate([self.sample[c], v]) if c in self.sample else v
            for c, v in values.items()
        }
        if len(all_keys) > self.sample_size:
            keep = np.argpartition(all_keys, self.sample_size)[: self.sample_size]
            all_keys = all_keys[keep]
            merged = {c: v[keep] for c, v in merged.items()}
        self.keys, self.sample = all_keys, merged

    def merge(self, other: Profile) -> Profile:
        out = Profile(edges=dict(self.edges), sample_size=self.sample_size)
        out.rows = self.rows + other.rows
        for name in set(self.numeric) | set(other.numeric):
            out.numeric[name] = np.add(self.numeric.get(name, 0), other.numeric.get(name, 0))
        for name in set(self.categories) | set(other.categories):
            mine, theirs = (
                self.categories.get(name, Counter()),
                other.categories.get(name, Counter()),
            )
            out.categories[name] = None if mine is None or theirs is None else mine + theirs
        out.keys, out.sample = self.keys, dict(self.sample)
        out._keep(other.keys, other.sample)
        return out

    def shares(self, name: str) -> np.ndarray:
        """Bin shares of a numeric column: exact counts if binned, else from the sample."""
        counts = self.numeric.get(name)
        if counts is None:
            vals = self.sample[name]
            vals = vals[~np.isnan(vals)]
            counts = np.bincount(
                np.searchsorted(self.edges[name], vals, side="right"),
                minlength=len(self.edges[name]) + 1,
            )
        total = max(float(np.sum(counts)), 1.0)
        return np.asarray(counts, dtype=np.float64) / total


def column_profile(
    source: TableSource,
    columns: list[str] | None = None,
    max_rows: int | None = None,
    edges: dict[str, np.ndarray] | None = None,
    sample_size: int = 50_000,
    seed: int = 0,
) -> Profile:
    """Profile in one pass. Without `edges` (a reference), edges are the sample's deciles."""
    names = columns or source.column_names
    profile = Profile(edges=dict(edges or {}), sample_size=sample_size)
    rng = np.random.default_rng(seed)
    for _, batch in source.batches():
        if max_rows is not None and profile.rows >= max_rows:
            break
        profile.add(
            batch.slice(0, None if max_rows is None else max_rows - profile.rows), names, rng
        )
    if edges is None:
        for name in names:
            vals = profile.sample.get(name)
            if vals is not None and vals.dtype != object:
                finite = vals[~np.isnan(vals)]
                qs = np.quantile(finite, np.linspace(0.1, 0.9, 9)) if len(finite) else []
                profile.edges[name] = np.unique(np.asarray(qs, dtype=np.float64))
    return profile


@dataclass(frozen=True, slots=True)
class ColumnDrift:
    column: str
    test: str  # "ks", "chi2", or "skipped"
    psi: float
    statistic: float  # KS D, or the total-variation distance of categories
    p_value: float
    drifted: bool
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "test": self.test,
            "psi": round(self.psi, 6),
            "statistic": round(self.statistic, 6),
            "p_value": self.p_value,
            "drifted": self.drifted,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class DriftResult:
    columns: tuple[ColumnDrift, ...]
    label: str | None
    label_distance: float | None  # total-variation distance of the label shares
    label_shares: dict[str, tuple[float, float]]  # class -> (reference, current)
    outlier_rows: np.ndarray  # rows over the threshold, highest score first (capped)
    outlier_scores: np.ndarray
    outlier_count: int
    outlier_threshold: float
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "columns": [c.to_dict() for c in self.columns],
            "drifted": [c.column for c in self.columns if c.drifted],
            "label": self.label,
            "label_distance": self.label_distance,
            "label_shares": {k: list(v) for k, v in list(self.label_shares.items())[:100]},
            "outliers": {
                "count": self.outlier_count,
                "threshold": self.outlier_threshold,
                "rows": self.outlier_rows[:100].tolist(),
            },
        }

    def findings(self, asset: Asset, path: Path, policy: Policy) -> list[Finding]:
        where = str(path)
        out = [
            DRIFT.finding(asset, Location(path=where, column=c.column), _evidence(c))
            for c in self.columns
            if c.drifted
        ]
        if self.label_distance is not None and self.label_distance > policy.data.label_shift:
            moved = ", ".join(f"{k}: {a:.1%} -> {b:.1%}" for k, (a, b) in self.label_shares.items())
            evidence = f"total-variation distance {self.label_distance:.3f}; {moved}"
            out.append(
                LABEL_SHIFT.finding(asset, Location(path=where, column=self.label), evidence)
            )
        cap = policy.data.max_rows_per_finding_kind
        for row, score in zip(self.outlier_rows[:cap], self.outlier_scores[:cap], strict=True):
            evidence = f"outlier score {score:.3f} > {self.outlier_threshold:.3f}"
            out.append(ROW_OUTLIER.finding(asset, Location(path=where, row=int(row)), evidence))
        return out + summary(
            ROW_OUTLIER, asset, where, self.outlier_count - min(cap, len(self.outlier_rows))
        )


def _evidence(c: ColumnDrift) -> str:
    name = "KS D" if c.test == "ks" else "TV distance"
    extra = f"; {c.note}" if c.note else ""
    return f"PSI {c.psi:.3f}, {name} {c.statistic:.3f}, p={c.p_value:.2g}{extra}"


def compare(
    reference: Profile | TableSource | None,
    current: TableSource,
    label: str | None,
    policy: Policy,
    outliers: bool = True,
    sample_size: int = 50_000,
) -> DriftResult:
    """Drift of `current` from `reference`; with no reference, only outliers (fitted on itself)."""
    names = current.column_names
    if isinstance(reference, TableSource):
        reference = column_profile(reference, sample_size=sample_size)
    base = reference or column_profile(current, sample_size=sample_size)
    wanted = [c for c in names if c in base.sample]
    features = [c for c in wanted if c != label]
    model = _fit_outliers(base, features, policy) if outliers and features else None
    profile = Profile(edges=dict(base.edges), sample_size=sample_size)
    rng = np.random.default_rng(1)
    scores: list[np.ndarray] = []
    for _, batch in current.batches():
        profile.add(batch, wanted, rng)
        if model is not None:
            scores.append(model.score(batch))
    columns = (
        ()
        if reference is None
        else tuple(_column_drift(reference, profile, c, policy) for c in features)
    )
    label_distance: float | None = None
    shares: dict[str, tuple[float, float]] = {}
    if reference is not None and label is not None and label in wanted:
        label_distance, shares = _label_shift(reference, profile, label)
    rows, top, count, threshold = _top_outliers(scores, model, policy)
    return DriftResult(
        columns, label, label_distance, shares, rows, top, count, threshold, profile.rows
    )


def _mostly_distinct(counts: Counter[str], rows: int) -> bool:
    return rows >= 20 and len(counts) > 0.5 * rows


def _column_drift(ref: Profile, cur: Profile, name: str, policy: Policy) -> ColumnDrift:
    from scipy import stats

    if name in ref.edges:
        p, q = ref.shares(name), cur.shares(name)
        a, b = ref.sample[name], cur.sample[name]
        a, b = a[~np.isnan(a)], b[~np.isnan(b)]
        if not len(a) or not len(b):
            return ColumnDrift(name, "skipped", 0.0, 0.0, 1.0, False, "no values")
        test = stats.ks_2samp(a, b)
        d, pval = float(test.statistic), float(test.pvalue)
        psi = _psi(p, q)
        drifted = psi > policy.data.psi_threshold or (
            pval < policy.data.p_value and d >= MIN_EFFECT
        )
        note = f"median {np.median(a):.4g} -> {np.median(b):.4g}"
        return ColumnDrift(name, "ks", psi, d, pval, drifted, note)
    ref_counts, cur_counts = ref.categories.get(name), cur.categories.get(name)
    if ref_counts is None or cur_counts is None or _mostly_distinct(ref_counts, ref.rows):
        # identifiers and free text: every value is new, so category tests only measure that
        return ColumnDrift(name, "skipped", 0.0, 0.0, 1.0, False, "too many distinct values")
    keys = sorted(set(ref_counts) | set(cur_counts))
    p = np.array([ref_counts.get(k, 0) for k in keys], dtype=np.float64)
    q = np.array([cur_counts.get(k, 0) for k in keys], dtype=np.float64)
    if p.sum() == 0 or q.sum() == 0:
        return ColumnDrift(name, "skipped", 0.0, 0.0, 1.0, False, "no values")
    pval = 1.0
    if len(keys) > 1:
        pval = float(stats.chi2_contingency(np.vstack([p, q])).pvalue)
    p, q = p / p.sum(), q / q.sum()
    tv = float(0.5 * np.abs(p - q).sum())
    psi = _psi(p, q)
    new = [k for k in keys if k not in ref_counts][:5]
    drifted = psi > policy.data.psi_threshold or (pval < policy.data.p_value and tv >= MIN_EFFECT)
    note = f"new values: {', '.join(map(repr, new))}" if new else ""
    return ColumnDrift(name, "chi2", psi, tv, pval, drifted, note)


def _psi(p: np.ndarray, q: np.ndarray) -> float:
    p, q = np.maximum(p, PSI_FLOOR), np.maximum(q, PSI_FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


def _label_shift(
    ref: Profile, cur: Profile, label: str
) -> tuple[float, dict[str, tuple[float, float]]]:
    if label in ref.edges:  # numeric labels: compare the values as classes
        a, b = ref.sample[label], cur.sample[label]
        ref_counts = Counter(str(v) for v in a[~np.isnan(a)].tolist())
        cur_counts = Counter(str(v) for v in b[~np.isnan(b)].tolist())
    else:
        ref_counts = ref.categories.get(label) or Counter()
        cur_counts = cur.categories.get(label) or Counter()
    total_a, total_b = max(sum(ref_counts.values()), 1), max(sum(cur_counts.values()), 1)
    shares = {
        k: (ref_counts.get(k, 0) / total_a, cur_counts.get(k, 0) / total_b)
        for k in sorted(set(ref_counts) | set(cur_counts))
    }
    distance = 0.5 * sum(abs(a - b) for a, b in shares.values())
    return distance, shares


class _OutlierModel:
    """Robust z-score: the largest |value - median| / (1.4826 MAD) over the columns. A category
    scores as the |z| whose two-sided tail equals its reference frequency (unseen: 1/(n+1))."""

    def __init__(self, base: Profile, features: list[str]) -> None:
        from scipy.stats import norm

        self.features = features
        self.centre: dict[str, tuple[float, float]] = {}
        self.rarity: dict[str, tuple[Any, np.ndarray]] = {}
        pa = import_pyarrow()
        for name in features:
            vals = base.sample[name]
            if vals.dtype == object:
                present = vals[vals != None].astype(str)  # noqa: E711
                texts, counts = np.unique(present, return_counts=True)
                floor = 1.0 / (len(present) + 1)
                z = norm.isf(np.append(counts / max(len(present), 1), floor) / 2)
                self.rarity[name] = (pa.array(texts.tolist(), pa.string()), z)
                continue
            finite = vals[~np.isnan(vals)]
            median = float(np.median(finite)) if len(finite) else 0.0
            mad = float(np.median(np.abs(finite - median))) * 1.4826 if len(finite) else 0.0
            spread = mad or (float(np.std(finite)) if len(finite) else 0.0) or 1.0
            self.centre[name] = (median, spread)
        self.threshold = 0.0

    def score_values(self, values: dict[str, Any]) -> np.ndarray:
        pa = import_pyarrow()
        best: np.ndarray | None = None
        for name in self.features:
            if name in self.rarity:
                texts, z = self.rarity[name]
                col = values[name]
                col = pa.array(col.tolist(), pa.string()) if isinstance(col, np.ndarray) else col
                index = pa.compute.index_in(col.cast(pa.string()), value_set=texts)
                idx = np.asarray(index.fill_null(len(z) - 1).to_numpy(zero_copy_only=False))
                score = z[idx]
                score[np.asarray(col.is_null().to_numpy(zero_copy_only=False))] = 0.0
            else:
                median, spread = self.centre[name]
                vals = values[name]
                vals = vals if isinstance(vals, np.ndarray) else column_values(vals)
                score = np.nan_to_num(np.abs(vals - median) / spread, nan=0.0)
            best = score if best is None else np.maximum(best, score)
        return np.asarray(best, dtype=np.float32)

    def score(self, batch: Any) -> np.ndarray:
        return self.score_values({c: batch.column(c) for c in self.features})


def _fit_outliers(base: Profile, features: list[str], policy: Policy) -> _OutlierModel | None:
    if policy.data.outlier_fraction <= 0 or len(base.keys) < 10:
        return None
    model = _OutlierModel(base, features)
    reference_scores = model.score_values({c: base.sample[c] for c in features})
    model.threshold = float(np.quantile(reference_scores, 1 - policy.data.outlier_fraction))
    return model


def _top_outliers(
    scores: list[np.ndarray], model: _OutlierModel | None, policy: Policy
) -> tuple[np.ndarray, np.ndarray, int, float]:
    if model is None or not scores:
        return np.empty(0, np.int64), np.empty(0, np.float32), 0, 0.0
    all_scores = np.concatenate(scores)
    over = np.flatnonzero(all_scores > model.threshold)
    order = over[np.argsort(-all_scores[over], kind="stable")][
        : policy.data.max_rows_per_finding_kind
    ]
    return order.astype(np.int64), all_scores[order], len(over), model.threshold
