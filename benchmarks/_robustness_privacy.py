"""Privacy benchmark: membership inference against a deliberately over-fit model, then against
the same architecture trained with DP-SGD (epsilon <= 3).

The data come from scikit-learn's make_classification (10 classes, 100 features of which 20
informative, 5 % of labels flipped), so nothing is downloaded. The over-fit target is an MLP
trained for many epochs without regularisation on 500 records; the DP model is the same MLP
trained through Opacus on the same records. Goals from the issue: best attack AUC >= 0.75 on
the over-fit model, <= 0.55 on the DP one. `run(quick)` returns the numbers; it asserts nothing.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

GOAL_OVERFIT_AUC = 0.75
GOAL_DP_AUC = 0.55
TARGET_EPSILON = 3.0
N_TRAIN = 500
N_TEST = 1000
N_SHADOW = 1000  # shadow pool; each shadow trains on a random half, the target's size
N_FEATURES = 100
N_CLASSES = 10
OVERFIT = {"epochs": 200, "batch_size": 64, "lr": 3e-3}
DP = {"epochs": 30, "batch_size": 64, "lr": 3e-3}


def run(quick: bool) -> dict[str, Any]:
    import torch

    from garrison.robustness.data import EvalData
    from garrison.robustness.harden_dp import dp_training
    from garrison.robustness.models import fit, mlp
    from garrison.robustness.privacy import membership_inference

    torch.set_num_threads(1)  # these models are tiny: threads only add contention
    train, test, shadow_pool = _data(EvalData)
    overfit = OVERFIT | ({"epochs": 100} if quick else {})
    dp = DP | ({"epochs": 10} if quick else {})

    def recipe(data: Any) -> Any:
        return fit(mlp(N_FEATURES, N_CLASSES), data, seed=1, **overfit)

    started = time.perf_counter()
    target = recipe(train)
    audit = membership_inference(
        target,
        train,
        test,
        shadow_data=shadow_pool,
        shadow_factory=recipe,
        n_shadows=2 if quick else 4,
    )
    overfit_seconds = time.perf_counter() - started
    hardened = dp_training(
        lambda: mlp(N_FEATURES, N_CLASSES), train, test, target_epsilon=TARGET_EPSILON, **dp
    )
    return {
        "quick": quick,
        "data": {
            "source": "sklearn.make_classification",
            "features": N_FEATURES,
            "classes": N_CLASSES,
            "train": N_TRAIN,
            "test": N_TEST,
            "shadow_pool": N_SHADOW,
        },
        "overfit": {
            "recipe": overfit,
            "membership": audit.to_dict(),
            "best_auc": round(audit.best_auc, 4),
            "goal_auc_at_least": GOAL_OVERFIT_AUC,
            "meets_goal": audit.best_auc >= GOAL_OVERFIT_AUC,
            "seconds": round(overfit_seconds, 2),
        },
        "dp": {
            "recipe": dp,
            "result": hardened.to_dict(),
            "epsilon": round(hardened.epsilon, 4),
            "best_auc": round(hardened.privacy_after.best_auc, 4),
            "test_accuracy": round(hardened.accuracy_after, 4),
            "goal_auc_at_most": GOAL_DP_AUC,
            "meets_goal": hardened.privacy_after.best_auc <= GOAL_DP_AUC
            and hardened.epsilon <= TARGET_EPSILON,
        },
        "seconds": round(time.perf_counter() - started, 2),
    }


def _data(eval_data: Any) -> tuple[Any, Any, Any]:
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=N_TRAIN + N_TEST + N_SHADOW,
        n_features=N_FEATURES,
        n_informative=20,
        n_redundant=0,
        n_classes=N_CLASSES,
        n_clusters_per_class=1,
        flip_y=0.05,
        random_state=0,
    )
    lo, hi = x.min(axis=0), x.max(axis=0)
    x = ((x - lo) / (hi - lo)).astype(np.float32)
    data = eval_data(x, y.astype(np.int64), N_CLASSES, name="make_classification")
    # Stratified, so that members and non-members share class proportions: otherwise even a
    # model that learnt nothing but the training set's label frequencies shows an AUC > 0.5.
    train, rest = data.split(N_TRAIN / len(y), seed=0)
    test, shadow = rest.split(N_TEST / len(rest.y), seed=0)
    return train, test, shadow


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run("--quick" in sys.argv), indent=2))
