"""Extraction and inversion numbers for the model-testing benchmark.

Extraction: a random forest trained on half of scikit-learn's digits is the target; the
attacker queries a disjoint pool (stretched with synthetic mixes beyond its size) and we
report the fidelity curve and the query count where fidelity first reaches 90 %.
Inversion: the digits small CNN, inverted class by class; mean similarity to the class means
and how many classes are identifiable. Everything trains on CPU in seconds; nothing is
downloaded. `run(quick)` returns JSON-ready numbers.
"""

from __future__ import annotations

import time
from typing import Any

FIDELITY = 0.9


def run(quick: bool) -> dict[str, Any]:
    return {"extraction": _extraction(quick), "inversion": _inversion(quick)}


def _extraction(quick: bool) -> dict[str, Any]:
    from sklearn.ensemble import RandomForestClassifier

    from garrison.robustness.data import load_bundled
    from garrison.robustness.extraction import extraction_curve
    from garrison.robustness.target import SklearnClassifier

    data = load_bundled("digits", images=False)
    train, rest = data.split(0.5, seed=0)
    pool, test = rest.split(0.6, seed=0)
    started = time.perf_counter()
    forest = RandomForestClassifier(n_estimators=100, random_state=0).fit(train.x, train.y)
    target = SklearnClassifier(forest, data.n_classes)
    budgets = (25, 50, 100, 200, 500) if quick else (25, 50, 100, 200, 500, 1000, 2000, 5000)
    result = extraction_curve(
        target,
        pool,
        test,
        budgets=budgets,
        query_strategy="random" if quick else "synthetic",
        fidelity_target=FIDELITY,
    )
    return {
        "target": "RandomForestClassifier(100) on sklearn digits (898 training images)",
        "pool_size": len(pool.x),
        "test_size": len(test.x),
        "target_accuracy": round(result.target_accuracy, 4),
        "curve": [p.to_dict() for p in result.points],
        "fidelity_target": FIDELITY,
        "queries_to_fidelity": result.budget_at(FIDELITY),
        "best_fidelity": round(result.best_fidelity, 4),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _inversion(quick: bool) -> dict[str, Any]:
    from garrison.robustness.data import load_bundled
    from garrison.robustness.inversion import invert_classes
    from garrison.robustness.models import fit, small_cnn
    from garrison.robustness.target import accuracy, import_torch

    torch = import_torch()
    data = load_bundled("digits")
    train, test = data.split(0.7, seed=0)
    started = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny CNN: thread hand-offs cost more than they save
    try:
        target = fit(small_cnn(data.n_classes), train, epochs=5 if quick else 15, batch_size=32)
        result = invert_classes(target, train, steps=100 if quick else 200)
    finally:
        torch.set_num_threads(threads)
    return {
        "target": "garrison small_cnn on sklearn digits 8x8",
        "target_accuracy": round(accuracy(target, test.x, test.y), 4),
        "mean_similarity": round(result.mean_similarity, 4),
        "mean_other_similarity": round(
            sum(c.mean_other_similarity for c in result.classes) / len(result.classes), 4
        ),
        "identifiable": result.identifiable,
        "classes": len(result.classes),
        "per_class": [c.to_dict() for c in result.classes],
        "seconds": round(time.perf_counter() - started, 2),
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run("--quick" in sys.argv), indent=2))
