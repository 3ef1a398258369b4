"""Backdoor (trigger) detection: stamped pixel patches, spectral signatures, activation clusters.

A BadNets-style attack stamps one small patch on images of other classes and relabels them
to a target class. Three signals look for it: the same patch shared by many samples of one
class and rare elsewhere, whose carriers look like other classes once the patch is hidden;
samples far along their class's top singular direction in a model's features (Tran et al.,
2018); and classes whose activations split into a large and a small cluster (Chen et al.,
2018).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from garrison.assets import Asset
from garrison.data.labels import one_thread, row_findings
from garrison.data.rules import ACTIVATION_CLUSTER, SPECTRAL, TRIGGER_PATCH
from garrison.errors import MissingExtraError, UsageError
from garrison.findings import Finding
from garrison.policy import Policy

Array = np.ndarray[Any, Any]
log = logging.getLogger(__name__)

LEVELS = 16  # pixel values are compared after quantising to this many levels
MIN_CLASS_RATE = 0.05  # a trigger is on at least this share of its target class
RATE_RATIO = 10.0  # ...and this many times more common there than in other classes
MIN_MISMATCH = 0.7  # with the patch hidden, most carriers look like other classes
MISMATCH_MARGIN = 0.4  # ...far more often than the class's other samples do
MAX_CANDIDATES = 8  # patch candidates verified with a model, strongest first
VERIFY_ROWS = 3000  # rows the verifying model trains on
SEARCH_ROWS = 20_000  # images the window search looks at
FIT_ROWS = 20_000  # rows models and clusterings are fitted on; every row is then scored
MAX_SMALL_CLUSTER = 0.35  # activation clustering: the small cluster's largest relative size
# Below this many samples a class's 2-means split of noise can pass both tests by chance
# (30 random images gave a "small cluster"); 40 still holds 2 carriers at a 5% poison rate.
MIN_CLUSTER_MEMBERS = 40
MIN_SILHOUETTE = 0.15  # ...and the separation that makes the split real:
MIN_SEPARATION = 4.0  # cluster means this many pooled deviations apart (one Gaussian: ~2.7)
TO_DICT_ROWS = 1000


@dataclass(frozen=True)
class Trigger:
    target: Any  # label value the carriers are labelled with
    box: tuple[int, int, int, int]  # top, left, height, width
    support: int  # samples of the target class carrying the patch
    class_rate: float
    other_rate: float
    mismatch: float  # share of carriers a model without the patch assigns to another class
    rows: Array

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": _plain(self.target),
            "box": list(self.box),
            "support": self.support,
            "class_rate": round(self.class_rate, 4),
            "other_rate": round(self.other_rate, 4),
            "mismatch": round(self.mismatch, 4),
        }


@dataclass(frozen=True)
class PatchResult:
    rows: Array  # sorted rows carrying an accepted trigger
    triggers: tuple[Trigger, ...] = ()
    candidates: int = 0  # windows that passed the frequency test, before verification

    @property
    def target(self) -> Any:
        return self.triggers[0].target if self.triggers else None

    @property
    def box(self) -> tuple[int, int, int, int] | None:
        return self.triggers[0].box if self.triggers else None

    @property
    def support(self) -> int:
        return self.triggers[0].support if self.triggers else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "flagged": len(self.rows),
            "candidates": self.candidates,
            "triggers": [t.to_dict() for t in self.triggers],
        }


@dataclass(frozen=True)
class SpectralResult:
    rows: Array  # per class, the top 1.5 * eps share of outlier scores
    scores: Array  # (N,) squared projection on the class's top singular direction

    def to_dict(self) -> dict[str, Any]:
        return {"flagged": len(self.rows)}


@dataclass(frozen=True)
class ClusterResult:
    rows: Array  # samples in a small, well separated cluster of their class
    classes: dict[str, dict[str, float]] = field(default_factory=dict)  # per class: size, sil.

    def to_dict(self) -> dict[str, Any]:
        return {"flagged": len(self.rows), "classes": self.classes}


@dataclass(frozen=True)
class BackdoorResult:
    rows: Array  # flagged: patch carriers, plus rows both spectral and clustering flag
    patch: PatchResult | None
    spectral: SpectralResult
    clusters: ClusterResult
    features_from: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "flagged": len(self.rows),
            "rows": [int(r) for r in self.rows[:TO_DICT_ROWS]],
            "rule": "patch carriers, or flagged by both spectral signature and clustering",
            "patch": self.patch.to_dict() if self.patch else None,
            "spectral": self.spectral.to_dict(),
            "activation_clustering": self.clusters.to_dict(),
            "features_from": self.features_from,
            "seconds": round(self.seconds, 3),
        }

    def findings(self, asset: Asset, path: Path | str, policy: Policy) -> list[Finding]:
        cap = policy.data.max_rows_per_finding_kind
        out: list[Finding] = []
        if self.patch is not None:
            for trigger in self.patch.triggers:
                evidence = _trigger_evidence(trigger)
                out += row_findings(TRIGGER_PATCH, asset, path, trigger.rows, evidence, cap)
        voted = np.setdiff1d(self.rows, self.patch.rows if self.patch else [])
        spectral = voted[np.argsort(-self.spectral.scores[voted])]
        out += row_findings(SPECTRAL, asset, path, spectral, self._spectral_evidence, cap)
        out += row_findings(
            ACTIVATION_CLUSTER,
            asset,
            path,
            voted,
            f"in a small activation cluster of its class ({self.features_from})",
            cap,
        )
        return out

    def _spectral_evidence(self, row: int) -> str:
        return (
            f"spectral score {self.spectral.scores[row]:.3g} in the features of "
            f"{self.features_from}; also in a small activation cluster"
        )


def _trigger_evidence(t: Trigger) -> str:
    top, left, height, width = t.box
    return (
        f"{height}x{width} patch at row {top}, column {left} shared by {t.support} samples "
        f"of class {_plain(t.target)!r} ({t.class_rate:.0%} of the class, {t.other_rate:.1%} "
        f"of others); with it hidden, {t.mismatch:.0%} of them look like other classes"
    )


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# --- trigger patches -------------------------------------------------------------------


def find_trigger_patches(
    images: Array,
    labels: Array,
    patch_sizes: tuple[int, ...] = (2, 3, 4),
    min_support: int | None = None,
    seed: int = 0,
) -> PatchResult:
    """Windows whose quantised pixels are identical on many samples of one class and rare
    elsewhere, kept when a model that never sees the window assigns most carriers to other
    classes (natural class features fail that test: their carriers look like their class)."""
    q = _quantised(images)
    y, classes = _encode(labels, len(q))
    n = len(q)
    if n < 10 or len(classes) < 2:
        return PatchResult(rows=np.zeros(0, np.int64))
    counts = np.bincount(y, minlength=len(classes))
    # The window search looks at a sample; carriers are then collected from every image.
    search = np.sort(np.random.default_rng(seed).permutation(n)[:SEARCH_ROWS])
    scale = len(search) / n
    support = min_support if min_support is not None else max(5, int(np.ceil(0.005 * n)))
    sample_counts = np.bincount(y[search], minlength=len(classes))
    candidates = _frequent_windows(
        q[search], y[search], sample_counts, patch_sizes, max(2, int(support * scale)), seed
    )
    # Strongest first; on a tie the larger window, which describes the whole patch.
    candidates.sort(key=lambda c: (-c[0], -c[1][2]))
    accepted: list[Trigger] = []
    taken = np.zeros(n, dtype=bool)
    verifier = _Verifier(q, y, seed)
    for _score, box, cls, found in candidates[:MAX_CANDIDATES]:
        same = _same_window(q, int(search[found[0]]), box)
        carriers = np.flatnonzero(same & (y == cls))
        if taken[carriers].mean() >= 0.5:
            continue  # a sub- or super-window of a trigger already accepted
        mismatch, baseline = verifier.mismatch(carriers, cls, box)
        if mismatch < MIN_MISMATCH or mismatch - baseline < MISMATCH_MARGIN:
            continue
        other = (np.count_nonzero(same) - len(carriers)) / max(n - counts[cls], 1)
        accepted.append(
            Trigger(
                classes[cls],
                box,
                len(carriers),
                float(len(carriers) / counts[cls]),
                float(other),
                mismatch,
                np.sort(carriers),
            )
        )
        taken[carriers] = True
    rows = np.flatnonzero(taken)
    return PatchResult(rows=rows, triggers=tuple(accepted), candidates=len(candidates))


def _channels_last(images: Array) -> Array:
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise UsageError(f"images must be shaped (N, H, W) or (N, H, W, C), not {x.shape}")
    if x.shape[1] in (1, 3, 4) and x.shape[-1] not in (1, 3, 4):
        x = np.moveaxis(x, 1, -1)  # channels first
    return x.astype(np.float32, copy=False)


def _quantised(images: Array) -> Array:
    x = _channels_last(images)
    if not np.isfinite(x).all():
        raise UsageError("images contain NaN or infinite pixel values")
    lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 1.0)
    scale = (LEVELS - 1e-3) / (hi - lo) if hi > lo else 0.0
    return ((x - lo) * scale).astype(np.uint8)


def _encode(labels: Array, n: int) -> tuple[Array, Array]:
    raw = np.asarray(labels)
    if raw.ndim != 1 or len(raw) != n:
        raise UsageError(f"labels must be one per sample: {n} samples, labels shaped {raw.shape}")
    if raw.dtype.kind == "f" and not np.isfinite(raw).all():
        raise UsageError("labels contain missing values (NaN); drop or fill those rows first")
    classes, y = np.unique(raw, return_inverse=True)
    return y.astype(np.int64), classes


def _frequent_windows(
    q: Array, y: Array, counts: Array, sizes: tuple[int, ...], support: int, seed: int
) -> list[tuple[float, tuple[int, int, int, int], int, Array]]:
    """(score, box, class, carrier rows) for windows passing the frequency test."""
    n, height, width, channels = q.shape
    n_classes = len(counts)
    weights = np.random.default_rng(seed).integers(1, 2**62, size=max(sizes) ** 2 * channels)
    found = []
    for s in sizes:
        if s > height or s > width:
            continue
        for top in range(height - s + 1):
            for left in range(width - s + 1):
                window = q[:, top : top + s, left : left + s, :].reshape(n, -1).astype(np.int64)
                hashes = window @ weights[: window.shape[1]]  # wraps on overflow: fine for a hash
                _, group, total = np.unique(hashes, return_inverse=True, return_counts=True)
                pairs, pair_count = np.unique(group * n_classes + y, return_counts=True)
                hit = pair_count >= support
                for pair, count in zip(pairs[hit], pair_count[hit], strict=True):
                    g, cls = divmod(int(pair), n_classes)
                    rate = count / counts[cls]
                    other = (total[g] - count) / max(n - counts[cls], 1)
                    if rate >= MIN_CLASS_RATE and rate >= RATE_RATIO * other:
                        carriers = np.flatnonzero((group == g) & (y == cls))
                        found.append((count * (rate - other), (top, left, s, s), cls, carriers))
    return found


def _same_window(q: Array, row: int, box: tuple[int, int, int, int]) -> Array:
    top, left, h, w = box
    patch = q[row, top : top + h, left : left + w]
    same: Array = (q[:, top : top + h, left : left + w] == patch).all(axis=(1, 2, 3))
    return same


class _Verifier:
    """Error of a model trained without the carriers and with the window's pixels hidden."""

    def __init__(self, q: Array, y: Array, seed: int) -> None:
        self.q = q
        self.y = y
        self.rng = np.random.default_rng(seed)

    def mismatch(
        self, carriers: Array, cls: int, box: tuple[int, int, int, int]
    ) -> tuple[float, float]:
        try:
            from sklearn.exceptions import ConvergenceWarning
            from sklearn.linear_model import LogisticRegression
        except ImportError:
            raise MissingExtraError("scikit-learn", "data") from None
        keep = np.ones(self.q.shape[1:], dtype=bool)
        top, left, h, w = box
        keep[top : top + h, left : left + w] = False
        others = np.setdiff1d(np.arange(len(self.y)), carriers)
        same_class = others[self.y[others] == cls]
        held = self.rng.permutation(same_class)[: len(same_class) // 5]
        train = np.setdiff1d(others, held)
        train = self.rng.permutation(train)[:VERIFY_ROWS]
        if len(np.unique(self.y[train])) < 2:
            return 0.0, 0.0

        def pixels(rows: Array) -> Array:
            hidden: Array = self.q[rows][:, keep].astype(np.float32) / LEVELS
            return hidden

        model = LogisticRegression(max_iter=100)
        with one_thread(), warnings.catch_warnings():
            # A rough fit is enough to tell carriers' classes; convergence is not needed.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(pixels(train), self.y[train])
        carrier_error = float((model.predict(pixels(carriers[:VERIFY_ROWS])) != cls).mean())
        if len(held) == 0:
            return carrier_error, 0.0
        class_error = float((model.predict(pixels(held[:VERIFY_ROWS])) != cls).mean())
        return carrier_error, class_error


# --- features of a model ---------------------------------------------------------------


def spectral_signatures(features: Array, labels: Array, eps: float = 0.05) -> SpectralResult:
    """Per class, score each sample by its squared projection on the top singular vector of
    the centred features, and flag the top 1.5 * eps of the class (Tran et al.)."""
    f = _features(features, labels)
    y, _ = _encode(labels, len(f))
    scores = np.zeros(len(f))
    flagged: list[Array] = []
    for cls in np.unique(y):
        members = np.flatnonzero(y == cls)
        if len(members) < 3:
            continue
        centred = f[members] - f[members].mean(axis=0)
        # The top right singular vector is the top eigenvector of the small d x d scatter.
        _, vectors = np.linalg.eigh((centred.T @ centred).astype(np.float64))
        scores[members] = (centred @ vectors[:, -1].astype(centred.dtype)) ** 2
        k = int(np.ceil(1.5 * eps * len(members)))
        flagged.append(members[np.argsort(-scores[members])[:k]])
    rows = np.sort(np.concatenate(flagged)) if flagged else np.zeros(0, np.int64)
    return SpectralResult(rows=rows.astype(np.int64), scores=scores)


def activation_clustering(
    features: Array, labels: Array, components: int = 10, seed: int = 0
) -> ClusterResult:
    """Per class, 2-means on PCA-reduced features; the smaller cluster is flagged when it is
    small and well separated (Chen et al.)."""
    try:
        from sklearn.cluster import KMeans
        from sklearn.decomposition import PCA
        from sklearn.metrics import silhouette_score
    except ImportError:
        raise MissingExtraError("scikit-learn", "data") from None
    f = _features(features, labels)
    y, classes = _encode(labels, len(f))
    flagged: list[Array] = []
    summary: dict[str, dict[str, float]] = {}
    rng = np.random.default_rng(seed)
    for cls in np.unique(y):
        members = np.flatnonzero(y == cls)
        dims = min(components, f.shape[1], len(members) - 1)
        if len(members) < MIN_CLUSTER_MEMBERS or dims < 1:
            continue
        fit = rng.permutation(members)[:FIT_ROWS]
        pca = PCA(dims, random_state=seed).fit(f[fit])
        reduced = pca.transform(f[members])
        kmeans = KMeans(2, n_init=3, random_state=seed).fit(pca.transform(f[fit]))
        assign = kmeans.predict(reduced)
        small = int(np.bincount(assign, minlength=2).argmin())
        size = float((assign == small).mean())
        if size == 0:
            continue
        sample = min(len(members), 2000)
        sil = float(silhouette_score(reduced, assign, sample_size=sample, random_state=seed))
        gap = _separation(reduced, assign)
        summary[str(_plain(classes[cls]))] = {
            "small_cluster": round(size, 4),
            "silhouette": round(sil, 4),
            "separation": round(gap, 3),
        }
        if size <= MAX_SMALL_CLUSTER and sil >= MIN_SILHOUETTE and gap >= MIN_SEPARATION:
            flagged.append(members[assign == small])
    rows = np.sort(np.concatenate(flagged)) if flagged else np.zeros(0, np.int64)
    return ClusterResult(rows=rows.astype(np.int64), classes=summary)


def _separation(points: Array, assign: Array) -> float:
    """Distance between the two cluster means along the line joining them, in pooled
    standard deviations along that line. 2-means cuts any single Gaussian at about 2.7."""
    first, second = points[assign == 0], points[assign == 1]
    direction = second.mean(axis=0) - first.mean(axis=0)
    length = float(np.linalg.norm(direction))
    if length == 0:
        return 0.0
    a, b = first @ direction / length, second @ direction / length
    pooled = np.sqrt((a.var() * len(a) + b.var() * len(b)) / (len(a) + len(b)))
    return float((b.mean() - a.mean()) / pooled) if pooled > 0 else float("inf")


def _filled(table: Array) -> Array:
    """A feature table with missing values replaced by the column median."""
    x = table.astype(np.float32)
    bad = ~np.isfinite(x)
    if bad.any():
        x[bad] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns become 0
            fill = np.nan_to_num(np.nanmedian(x, axis=0))
        x = np.where(bad, fill, x)
    return x


def _features(features: Array, labels: Array) -> Array:
    f = np.asarray(features, dtype=np.float32)  # a million rows of activations: keep it small
    f = f.reshape(len(f), -1)
    if not np.isfinite(f).all():
        raise UsageError("features contain NaN or infinite values")
    return f


def model_features(x: Array, labels: Array, model: Any = None, seed: int = 0) -> tuple[Array, str]:
    """Hidden activations of `model` on `x` (a torch module: the input of its last Linear
    layer; a fitted sklearn MLP: its last hidden layer), or of a small model fitted here.
    Returns the features and a description of where they came from."""
    x = np.asarray(x)
    if model is None:
        return _fitted_features(x, labels, seed)
    if hasattr(model, "coefs_") and hasattr(model, "intercepts_"):
        return _sklearn_hidden(model, x.reshape(len(x), -1)), type(model).__name__
    if hasattr(model, "modules") and callable(model):
        return _torch_penultimate(model, x), type(model).__name__
    raise UsageError("model must be a torch.nn.Module or a fitted sklearn MLPClassifier")


def _torch_penultimate(module: Any, x: Array) -> Array:
    from garrison.robustness.target import import_torch

    torch = import_torch()
    linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        raise UsageError("the torch model has no Linear layer to take features before")
    captured: list[Any] = []
    handle = linears[-1].register_forward_pre_hook(lambda _m, inputs: captured.append(inputs[0]))
    try:
        module.eval()
        with torch.no_grad():
            for start in range(0, len(x), 512):
                module(torch.as_tensor(np.asarray(x[start : start + 512], np.float32)))
    finally:
        handle.remove()
    return np.concatenate([c.reshape(len(c), -1).numpy() for c in captured])


def _sklearn_hidden(model: Any, x: Array) -> Array:
    acts: dict[str, Callable[[Array], Array]] = {
        "relu": lambda a: np.maximum(a, 0),
        "tanh": np.tanh,
        "logistic": lambda a: 1 / (1 + np.exp(-a)),
        "identity": lambda a: a,
    }
    act = acts.get(getattr(model, "activation", "relu"), acts["relu"])
    h = np.asarray(x, np.float32)
    for w, b in zip(model.coefs_[:-1], model.intercepts_[:-1], strict=True):
        h = act(h @ w.astype(np.float32) + b.astype(np.float32))
    out: Array = h
    return out


def _fitted_features(x: Array, labels: Array, seed: int) -> tuple[Array, str]:
    y, classes = _encode(labels, len(x))
    if x.ndim >= 3:
        images = np.moveaxis(_channels_last(x), -1, 1)
        side = images.shape[2]
        if images.shape[2] == images.shape[3] and side <= 64 and side % 2 == 0:
            return _cnn_features(images, y, len(classes), seed), "a small CNN fitted by Garrison"
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        raise MissingExtraError("scikit-learn", "data") from None
    flat = x.reshape(len(x), -1).astype(np.float32)
    flat = (flat - flat.mean(axis=0)) / np.where(flat.std(axis=0) > 0, flat.std(axis=0), 1.0)
    # Fewer rows than for the other fits: a feature table's MLP needs its many epochs.
    fit = np.random.default_rng(seed).permutation(len(y))[: FIT_ROWS // 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # features, not a final model
        mlp = MLPClassifier((64,), max_iter=200, random_state=seed).fit(flat[fit], y[fit])
    return _sklearn_hidden(mlp, flat), "an MLP fitted by Garrison"


def _cnn_features(images: Array, y: Array, n_classes: int, seed: int) -> Array:
    from garrison.robustness.data import EvalData
    from garrison.robustness.models import fit, small_cnn
    from garrison.robustness.target import import_torch

    lo, hi = float(images.min()), float(images.max())
    scaled = (images - lo) / (hi - lo if hi > lo else 1.0)
    torch = import_torch()
    module = small_cnn(n_classes, channels=scaled.shape[1], side=scaled.shape[2])
    fit_rows = np.random.default_rng(seed).permutation(len(y))[:FIT_ROWS]
    data = EvalData(
        scaled[fit_rows].astype(np.float32), y[fit_rows], n_classes, scaled.shape[1:], "train"
    )
    # Tiny batches gain nothing from threads, and lose a lot when other work shares the cores.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        fit(module, data, epochs=15, seed=seed)
        return _torch_penultimate(module, scaled)
    finally:
        torch.set_num_threads(threads)


# --- everything together ----------------------------------------------------------------


def detect_backdoor(
    data: Array, labels: Array, model: Any = None, eps: float = 0.05, seed: int = 0
) -> BackdoorResult:
    """Images (N, H, W[, C]) get the patch check; images and feature tables both get spectral
    signatures and activation clustering on a model's hidden features. A row is flagged when
    it carries a trigger patch, or when both feature signals flag it."""
    started = time.perf_counter()
    x = _filled(np.asarray(data)) if np.asarray(data).ndim == 2 else np.asarray(data)
    _encode(labels, len(x))
    if len(x) < 10 or len(np.unique(labels)) < 2:
        empty = np.zeros(0, np.int64)
        return BackdoorResult(
            empty,
            None,
            SpectralResult(empty, np.zeros(len(x))),
            ClusterResult(empty),
            "nothing: too few samples or classes",
            time.perf_counter() - started,
        )
    patch = find_trigger_patches(x, labels, seed=seed) if x.ndim >= 3 else None
    features, source = model_features(x, labels, model, seed)
    spectral = spectral_signatures(features, labels, eps)
    clusters = activation_clustering(features, labels, seed=seed)
    voted = np.intersect1d(spectral.rows, clusters.rows)
    rows = np.union1d(patch.rows, voted) if patch is not None else voted
    return BackdoorResult(
        rows.astype(np.int64), patch, spectral, clusters, source, time.perf_counter() - started
    )
