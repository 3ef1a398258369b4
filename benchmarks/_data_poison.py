"""Poisoning benchmark of `garrison data check`: BadNets triggers and flipped labels, against
cleanlab's Datalab on the same data in the same run.

1. BadNets on sklearn's digits (8x8, values 0..16): a 3x3 white patch (16) stamped in the
   bottom-right corner of 5% of the images, all taken from other classes and relabelled to
   one target class. Garrison's detect_backdoor (patch check, spectral signatures, activation
   clustering on a small CNN it fits) and find_label_issues run on the poisoned set.
2. 10% of labels flipped at random to another class in load_breast_cancer and load_wine,
   several seeds: find_label_issues's precision and recall.
3. Datalab(data={"X", "y"}, label_name="y").find_issues(features=X, pred_probs=out-of-fold
   logistic regression probabilities) on the same rows: its label issues (and, for BadNets,
   its outlier issues and any issue) scored the same way.
4. The label check's time on a generated 1,000,000 x 20 table (200,000 rows with --quick).

Scoring: recall is the share of injected rows flagged; the false-flag rate is the share of
untouched rows flagged; precision is the share of flagged rows that were injected.
`run(quick)` returns JSON-ready numbers; it asserts nothing.
"""

from __future__ import annotations

import sys
import time
import warnings
from typing import Any

import numpy as np

PATCH = 3
TARGET_CLASSES = (0, 3, 7, 1, 9)  # one BadNets target per seed


def _scores(flagged: Any, injected: Any, n: int) -> dict[str, float]:
    flag = np.zeros(n, dtype=bool)
    flag[np.asarray(list(flagged), dtype=np.int64)] = True
    truth = np.zeros(n, dtype=bool)
    truth[np.asarray(list(injected), dtype=np.int64)] = True
    hits = int((flag & truth).sum())
    return {
        "flagged": int(flag.sum()),
        "recall": hits / max(int(truth.sum()), 1),
        "precision": hits / max(int(flag.sum()), 1),
        "false_flag_rate": int((flag & ~truth).sum()) / max(int((~truth).sum()), 1),
    }


def _mean(runs: list[dict[str, float]]) -> dict[str, float]:
    keys = ("recall", "precision", "false_flag_rate")
    out = {k: float(np.mean([r[k] for r in runs])) for k in keys}
    out.update({f"min_{k}": float(np.min([r[k] for r in runs])) for k in keys})
    return out


def badnets(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.copy()
    labels = digits.target.copy()
    target = TARGET_CLASSES[seed % len(TARGET_CLASSES)]
    rng = np.random.default_rng(seed)
    sources = np.flatnonzero(labels != target)
    poisoned = np.sort(rng.choice(sources, round(0.05 * len(labels)), replace=False))
    images[poisoned, -PATCH:, -PATCH:] = 16.0
    labels[poisoned] = target
    return images, labels, poisoned


def flipped(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from sklearn import datasets

    x, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    rng = np.random.default_rng(seed)
    n_classes = int(y.max()) + 1
    rows = np.sort(rng.choice(len(y), round(0.1 * len(y)), replace=False))
    y = y.copy()
    y[rows] = (y[rows] + rng.integers(1, n_classes, len(rows))) % n_classes
    return x, y, rows


def logistic_oof(x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    probs: np.ndarray = cross_val_predict(model, x, y, cv=folds, method="predict_proba")
    return probs


def datalab_issues(x: np.ndarray, y: np.ndarray, seed: int) -> dict[str, Any]:
    from _data_text import _datalab  # installs Hugging Face datasets for Datalab if needed

    datalab = _datalab()
    probs = logistic_oof(x, y, seed)
    started = time.perf_counter()
    lab = datalab(data={"X": list(range(len(y))), "y": y}, label_name="y", verbosity=0)
    lab.find_issues(features=x, pred_probs=probs)
    seconds = time.perf_counter() - started
    issues = lab.get_issues()
    columns = [c for c in issues.columns if c.startswith("is_") and c.endswith("_issue")]
    rows = {c[3:-6]: np.flatnonzero(issues[c].to_numpy()) for c in columns}
    rows["any"] = np.flatnonzero(issues[columns].to_numpy().any(axis=1))
    return {"rows": rows, "seconds": seconds}


def run_badnets(seeds: list[int]) -> dict[str, Any]:
    from garrison.data.backdoor import detect_backdoor
    from garrison.data.labels import find_label_issues

    ours: dict[str, list[dict[str, float]]] = {"backdoor": [], "labels": [], "all_checks": []}
    signals: dict[str, list[dict[str, float]]] = {"patch": [], "spectral": [], "clusters": []}
    theirs: dict[str, list[dict[str, float]]] = {"label": [], "outlier": [], "any": []}
    seconds: dict[str, list[float]] = {"garrison": [], "datalab": []}
    for seed in seeds:
        images, labels, poisoned = badnets(seed)
        n = len(labels)
        flat = images.reshape(n, -1)
        started = time.perf_counter()
        backdoor = detect_backdoor(images, labels, seed=seed)
        label_check = find_label_issues(flat, labels, seed=seed)
        seconds["garrison"].append(time.perf_counter() - started)
        found = np.union1d(backdoor.rows, label_check.issue_rows)
        ours["backdoor"].append(_scores(backdoor.rows, poisoned, n))
        ours["labels"].append(_scores(label_check.issue_rows, poisoned, n))
        ours["all_checks"].append(_scores(found, poisoned, n))
        signals["patch"].append(_scores(backdoor.patch.rows if backdoor.patch else [], poisoned, n))
        signals["spectral"].append(_scores(backdoor.spectral.rows, poisoned, n))
        signals["clusters"].append(_scores(backdoor.clusters.rows, poisoned, n))
        peer = datalab_issues(flat, labels, seed)
        seconds["datalab"].append(peer["seconds"])
        for issue in theirs:
            theirs[issue].append(_scores(peer["rows"].get(issue, []), poisoned, n))
    return {
        "rows": 1797,
        "poisoned_rows": round(0.05 * 1797),
        "seeds": seeds,
        "garrison": {k: _mean(v) for k, v in ours.items()},
        "garrison_signals": {k: _mean(v) for k, v in signals.items()},
        "datalab": {k: _mean(v) for k, v in theirs.items()},
        "seconds_mean": {k: float(np.mean(v)) for k, v in seconds.items()},
    }


def run_flips(name: str, seeds: list[int]) -> dict[str, Any]:
    from garrison.data.labels import find_label_issues

    ours, theirs, seconds = [], [], []
    for seed in seeds:
        x, y, rows = flipped(name, seed)
        started = time.perf_counter()
        result = find_label_issues(x, y, seed=seed)
        seconds.append(time.perf_counter() - started)
        ours.append(_scores(result.issue_rows, rows, len(y)))
        peer = datalab_issues(x, y, seed)
        theirs.append(_scores(peer["rows"]["label"], rows, len(y)))
    return {
        "rows": len(y),
        "flipped_rows": len(rows),
        "seeds": seeds,
        "garrison": _mean(ours),
        "datalab_label": _mean(theirs),
        "garrison_seconds_mean": float(np.mean(seconds)),
    }


def label_check_scale(n: int, seed: int = 0) -> dict[str, Any]:
    """find_label_issues on an n x 20 table with 1% of labels flipped."""
    from garrison.data.labels import find_label_issues

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 20)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] - 0.5 * x[:, 2] ** 2 > -0.5).astype(np.int64)
    rows = rng.choice(n, n // 100, replace=False)
    y[rows] = 1 - y[rows]
    started = time.perf_counter()
    result = find_label_issues(x, y, seed=seed)
    return {
        "rows": n,
        "columns": 20,
        "seconds": time.perf_counter() - started,
        "model": result.model,
        "flips": _scores(result.issue_rows, rows, n),
    }


def run(quick: bool) -> dict[str, Any]:
    warnings.filterwarnings("ignore")
    from _data_text import _datalab

    _datalab()  # before cleanlab is imported: cleanlab decides then whether Datalab works
    import cleanlab

    badnet_seeds = [0] if quick else [0, 1, 2, 3, 4]
    flip_seeds = list(range(3 if quick else 10))
    result: dict[str, Any] = {
        "cleanlab": cleanlab.__version__,
        "badnets_digits": run_badnets(badnet_seeds),
        "flips": {name: run_flips(name, flip_seeds) for name in ("breast_cancer", "wine")},
        "label_check_scale": label_check_scale(200_000 if quick else 1_000_000),
    }
    bad = result["badnets_digits"]
    result["claims"] = {
        "badnets_recall_at_least_90pct": bad["garrison"]["all_checks"]["recall"] >= 0.9,
        "badnets_clean_flagged_at_most_5pct": bad["garrison"]["all_checks"]["false_flag_rate"]
        <= 0.05,
        "badnets_garrison_finds_at_least_datalab": bad["garrison"]["all_checks"]["recall"]
        >= bad["datalab"]["any"]["recall"],
        **{
            f"flips_{name}_precision_and_recall_at_least_80pct": flips["garrison"]["precision"]
            >= 0.8
            and flips["garrison"]["recall"] >= 0.8
            for name, flips in result["flips"].items()
        },
        **{
            f"flips_{name}_garrison_finds_at_least_datalab": flips["garrison"]["recall"]
            >= flips["datalab_label"]["recall"]
            for name, flips in result["flips"].items()
        },
    }
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run("--quick" in sys.argv), indent=2))
