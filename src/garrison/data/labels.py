"""Label issues and label flips: confident learning on out-of-fold class probabilities.

Garrison fits quick models itself (logistic regression with k-nearest neighbours on small
sets, logistic regression with a few boosting rounds on large ones), or uses probabilities
the user supplies, and passes them to cleanlab. A second, model-free signal flags rows that
sit much nearer another class's robust centre than their own.
"""

from __future__ import annotations

import importlib
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from garrison.assets import Asset
from garrison.data.rules import CLASS_OUTLIER, LABEL_ISSUE
from garrison.errors import MissingExtraError, UsageError
from garrison.findings import Finding, Location
from garrison.policy import Policy
from garrison.rules import Rule

Array = np.ndarray[Any, Any]

# Below this many rows the k-nearest-neighbour model joins the ensemble; above it kNN is slow.
KNN_MAX_ROWS = 20_000
# Each fold's models train on at most this many rows; predictions still cover every row.
FIT_MAX_ROWS = 50_000
# A row whose ensemble probability for its own label is below this, while another class gets
# at least this much more, is a label issue even when cleanlab's per-class noise estimate
# spares it (tuned on flipped bundled sets; the margin keeps noise-only labels quiet).
SELF_CONFIDENCE_FLOOR = 0.3
SELF_CONFIDENCE_MARGIN = 0.3
# A row this many times nearer another class's robust centre than its own is a class outlier.
CENTRE_RATIO = 2.0
TO_DICT_ROWS = 1000
# Out-of-fold models on fewer rows than this disagree with most labels of any small set.
MIN_ROWS = 50
MAX_CLASSES = 1000  # more distinct labels than this is an id column, not classes


@dataclass(frozen=True)
class LabelResult:
    issue_rows: Array  # sorted row indices flagged as likely mislabelled
    label_quality: Array  # (N,) probability of the given label; NaN for rows not analysed
    class_outlier_rows: Array  # sorted rows far nearer another class's centre than their own
    pred_probs: Array  # (analysed rows, classes) out-of-fold probabilities
    predicted: Array  # (N,) index into `classes` the models prefer; -1 if not analysed
    nearest_other: Array  # (N,) index of the nearest other class centre; -1 if not analysed
    classes: Array  # original label values, in the column order of pred_probs
    centre_ratio: Array  # (N,) own-centre distance over nearest other centre; NaN if not analysed
    model: str
    seconds: float
    rows: int
    analysed_rows: int
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "analysed_rows": self.analysed_rows,
            "classes": len(self.classes),
            "model": self.model,
            "seconds": round(self.seconds, 3),
            "label_issues": len(self.issue_rows),
            "class_outliers": len(self.class_outlier_rows),
            "issue_rows": [int(r) for r in self.issue_rows[:TO_DICT_ROWS]],
            "class_outlier_rows": [int(r) for r in self.class_outlier_rows[:TO_DICT_ROWS]],
            "note": self.note,
        }

    def findings(self, asset: Asset, path: Path | str, policy: Policy) -> list[Finding]:
        cap = policy.data.max_rows_per_finding_kind
        worst_first = self.issue_rows[np.argsort(self.label_quality[self.issue_rows])]
        out = row_findings(LABEL_ISSUE, asset, path, worst_first, self._issue_evidence, cap)
        farthest = self.class_outlier_rows[np.argsort(-self.centre_ratio[self.class_outlier_rows])]
        out += row_findings(CLASS_OUTLIER, asset, path, farthest, self._outlier_evidence, cap)
        return out

    def _issue_evidence(self, row: int) -> str:
        return (
            f"its label gets probability {self.label_quality[row]:.2f} from {self.model} "
            f"(out of fold); most likely class {_name(self.classes[self.predicted[row]])}"
        )

    def _outlier_evidence(self, row: int) -> str:
        return (
            f"{self.centre_ratio[row]:.1f}x farther from its own class's robust centre than "
            f"from class {_name(self.classes[self.nearest_other[row]])}'s"
        )


def _name(value: Any) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def row_findings(
    rule: Rule,
    asset: Asset,
    path: Path | str,
    rows: Sequence[int] | Array,
    evidence: Callable[[int], str] | str,
    cap: int,
) -> list[Finding]:
    """One finding per row up to `cap`, then one summary finding counting the rest."""
    rows = np.asarray(rows, np.int64)

    def say(row: int) -> str:
        return evidence if isinstance(evidence, str) else evidence(row)

    out = [
        rule.finding(asset, Location(path=str(path), row=int(r)), say(int(r))) for r in rows[:cap]
    ]
    if len(rows) > cap:
        rest = len(rows) - cap
        out.append(
            rule.finding(
                asset,
                Location(path=str(path)),
                f"{rest} more rows flagged by {rule.id}; listing capped at {cap} by "
                "policy.data.max_rows_per_finding_kind",
            )
        )
    return out


def find_label_issues(
    features: Array,
    labels: Array,
    pred_probs: Array | None = None,
    folds: int = 5,
    seed: int = 0,
    max_rows: int | None = None,
) -> LabelResult:
    """Rows whose label the data disagree with. `pred_probs` (N, classes, columns in sorted
    label order) replaces Garrison's own out-of-fold models; `max_rows` caps the rows looked
    at (a random sample; policy.data.sample_rows)."""
    started = time.perf_counter()
    x, y, classes = _prepare(features, labels, pred_probs)
    n = len(y)
    empty = _empty(n, classes, started)
    if len(classes) > MAX_CLASSES:
        return _replace_note(empty, f"{len(classes)} classes: more than a label column has")
    probs_in = None if pred_probs is None else _check_probs(pred_probs, n, len(classes))
    rows = _sample(n, max_rows, seed)
    # Out-of-fold models need two rows of a class; rarer classes are left out and noted.
    counts = np.bincount(y[rows], minlength=len(classes))
    kept = np.flatnonzero(counts >= 2)
    rows = rows[np.isin(y[rows], kept)]
    note = (
        ""
        if len(kept) == len(classes)
        else f"{len(classes) - len(kept)} classes with one row left out"
    )
    if len(kept) < 2:
        return _replace_note(empty, "fewer than two classes with enough rows; nothing to compare")
    if len(rows) < MIN_ROWS:
        return _replace_note(empty, f"{len(rows)} rows: too few to judge labels (needs {MIN_ROWS})")
    y_s = np.searchsorted(kept, y[rows])
    scaled = _standardise(x[rows] if len(rows) < n else x)
    if probs_in is None:
        probs, model = out_of_fold_probs(scaled, y_s, folds, seed)
    else:
        probs, model = _normalised(probs_in[np.ix_(rows, kept)]), "user pred_probs"
    flagged, quality, predicted = _confident_learning(y_s, probs)
    ratio, nearest = _centre_ratio(scaled, y_s, len(kept), seed)
    outliers = ratio > CENTRE_RATIO
    # Rows far nearer another class's centre are flipped labels as often as not: they join.
    flagged |= outliers

    def spread(values: Array, fill: float, dtype: Any = np.float64) -> Array:
        full = np.full(n, fill, dtype=dtype)
        full[rows] = values
        return full

    return LabelResult(
        issue_rows=np.sort(rows[flagged]),
        label_quality=spread(quality, np.nan),
        class_outlier_rows=np.sort(rows[outliers]),
        pred_probs=_widened(probs, kept, len(classes)),
        predicted=spread(kept[predicted], -1, np.int64),
        nearest_other=spread(kept[nearest], -1, np.int64),
        classes=classes,
        centre_ratio=spread(ratio, np.nan),
        model=model,
        seconds=time.perf_counter() - started,
        rows=n,
        analysed_rows=len(rows),
        note=note,
    )


def _prepare(
    features: Array, labels: Array, pred_probs: Array | None
) -> tuple[Array, Array, Array]:
    # float32 halves the memory of a million-row table; the models do not need more.
    x = np.asarray(features, dtype=np.float32)
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if x.ndim != 2:
        raise UsageError(f"features must be a 2-D array (rows, columns), not shape {x.shape}")
    raw = np.asarray(labels)
    if raw.ndim != 1 or len(raw) != len(x):
        raise UsageError(f"labels must be one per row: {len(x)} rows, labels shaped {raw.shape}")
    if raw.dtype.kind == "f" and not np.isfinite(raw).all():
        raise UsageError("labels contain missing values (NaN); drop or fill those rows first")
    classes, y = np.unique(raw, return_inverse=True)
    if x.shape[1] == 0 and pred_probs is None:
        raise UsageError("no feature columns to learn labels from")
    bad = ~np.isfinite(x)
    if bad.any():
        # Missing values would stop every model; the column median is a neutral stand-in.
        x = np.where(bad, np.nan, x)
        with np.errstate(all="ignore"):
            fill = np.nan_to_num(np.nanmedian(x, axis=0) if len(x) else np.zeros(x.shape[1]))
        x = np.where(bad, fill, x)
    return x, y.astype(np.int64), classes


def _sample(n: int, max_rows: int | None, seed: int) -> Array:
    if max_rows is None or n <= max_rows:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, max_rows, replace=False))


def _standardise(x: Array) -> Array:
    mean = x.mean(axis=0, dtype=np.float64).astype(x.dtype)
    std = x.std(axis=0, dtype=np.float64).astype(x.dtype)
    scaled: Array = x - mean
    scaled /= np.where(std > 0, std, 1.0)
    return scaled


def _check_probs(pred_probs: Array, n: int, n_classes: int) -> Array:
    probs = np.asarray(pred_probs, dtype=np.float64)
    if probs.shape != (n, n_classes):
        raise UsageError(
            f"pred_probs must be shaped ({n}, {n_classes}) (rows, classes), not {probs.shape}"
        )
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise UsageError("pred_probs must be finite and non-negative")
    return probs


def _widened(probs: Array, kept: Array, n_classes: int) -> Array:
    if len(kept) == n_classes:
        return probs
    wide = np.zeros((len(probs), n_classes), dtype=probs.dtype)
    wide[:, kept] = probs
    return wide


def _normalised(probs: Array) -> Array:
    total = probs.sum(axis=1, keepdims=True)
    normalised: Array = probs / np.where(total > 0, total, 1.0)
    return normalised


def out_of_fold_probs(x: Array, y: Array, folds: int = 5, seed: int = 0) -> tuple[Array, str]:
    """The mean of each quick model's held-out class probabilities, and the models' names."""
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.model_selection import StratifiedKFold
    except ImportError:
        raise MissingExtraError("scikit-learn", "data") from None
    n_classes = int(y.max()) + 1
    small = len(y) <= KNN_MAX_ROWS
    makers = [_logistic, _knn if small else _boosting]
    folds = max(2, min(folds if small else min(folds, 3), int(np.bincount(y).min())))
    probs = np.zeros((len(y), n_classes))
    rng = np.random.default_rng(seed)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    # One thread: OpenMP pools in boosting stall badly when other work shares the cores,
    # and these models are small enough that a second thread gains little.
    with one_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # quick models, by design
        for train, test in splitter.split(np.zeros(len(y)), y):
            if len(train) > FIT_MAX_ROWS:
                train = rng.choice(train, FIT_MAX_ROWS, replace=False)
            for make in makers:
                model = make(len(train), seed)
                model.fit(x[train], y[train])
                # A class missing from a training fold gets probability 0 for its held-out rows.
                probs[np.ix_(test, model.classes_)] += model.predict_proba(x[test])
    probs /= len(makers)
    names = "logistic regression + " + ("k-nearest neighbours" if small else "gradient boosting")
    return probs, names


def one_thread() -> Any:
    """A context in which BLAS and OpenMP pools use one thread (threadpoolctl, a dependency
    of scikit-learn)."""
    try:
        threadpoolctl = importlib.import_module("threadpoolctl")
    except ImportError:
        raise MissingExtraError("scikit-learn", "data") from None
    return threadpoolctl.threadpool_limits(1)


def _logistic(n_train: int, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=300, random_state=seed)


def _knn(n_train: int, seed: int) -> Any:
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=min(15, n_train), weights="distance")


def _boosting(n_train: int, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=15, max_leaf_nodes=15, early_stopping=False, random_state=seed
    )


def _confident_learning(y: Array, probs: Array) -> tuple[Array, Array, Array]:
    """Flag cleanlab's issues and rows whose own label gets very low probability."""
    try:
        from cleanlab.filter import find_label_issues as cleanlab_issues
    except ImportError:
        raise MissingExtraError("cleanlab", "data") from None
    quality = probs[np.arange(len(y)), y]
    flagged = cleanlab_issues(y, probs, filter_by="prune_by_noise_rate", n_jobs=1)
    best = probs.max(axis=1)
    unsure = (quality < SELF_CONFIDENCE_FLOOR) & (best - quality >= SELF_CONFIDENCE_MARGIN)
    return np.asarray(flagged, dtype=bool) | unsure, quality, probs.argmax(axis=1)


def _centre_ratio(x: Array, y: Array, n_classes: int, seed: int) -> tuple[Array, Array]:
    """Distance to the row's class median over distance to the nearest other class median,
    in units of the pooled median absolute deviation; and that nearest other class."""
    rng = np.random.default_rng(seed)
    fit = rng.choice(len(y), min(len(y), 200_000), replace=False)
    centres = np.stack([np.median(x[fit][y[fit] == c], axis=0) for c in range(n_classes)])
    spread = np.median(np.abs(x[fit] - centres[y[fit]]), axis=0) * 1.4826
    scale = np.where(spread > 1e-9, spread, 1.0)
    dist = np.empty((len(y), n_classes))
    for c in range(n_classes):
        dist[:, c] = np.sqrt((((x - centres[c]) / scale) ** 2).mean(axis=1))
    own = dist[np.arange(len(y)), y].copy()
    dist[np.arange(len(y)), y] = np.inf
    nearest = dist.argmin(axis=1)
    other = dist[np.arange(len(y)), nearest]
    ratio: Array = own / np.maximum(other, 1e-12)
    return ratio, nearest


def _empty(n: int, classes: Array, started: float) -> LabelResult:
    none = np.zeros(0, dtype=np.int64)
    return LabelResult(
        issue_rows=none,
        label_quality=np.full(n, np.nan),
        class_outlier_rows=none,
        pred_probs=np.zeros((0, len(classes))),
        predicted=np.full(n, -1, dtype=np.int64),
        nearest_other=np.full(n, -1, dtype=np.int64),
        classes=classes,
        centre_ratio=np.full(n, np.nan),
        model="none",
        seconds=time.perf_counter() - started,
        rows=n,
        analysed_rows=0,
    )


def _replace_note(result: LabelResult, note: str) -> LabelResult:
    from dataclasses import replace

    return replace(result, note=note)
