"""Membership inference: attacks that work on an over-fit model, chance on a blind one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from garrison.assets import Asset  # noqa: E402
from garrison.errors import UsageError  # noqa: E402
from garrison.policy import Policy, RobustnessPolicy  # noqa: E402
from garrison.robustness.data import EvalData  # noqa: E402
from garrison.robustness.models import fit, mlp  # noqa: E402
from garrison.robustness.privacy import (  # noqa: E402
    PrivacyResult,
    membership_inference,
    roc_png,
    score_attack,
    tpr_at_fpr,
)
from garrison.robustness.target import FunctionClassifier, TorchClassifier  # noqa: E402

N_FEATURES, N_CLASSES = 40, 5
ASSET = Asset.from_path(Path("model.pt"), kind="file")


@pytest.fixture(scope="module")
def splits() -> tuple[EvalData, EvalData, EvalData]:
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=900,
        n_features=N_FEATURES,
        n_informative=10,
        n_redundant=0,
        n_classes=N_CLASSES,
        n_clusters_per_class=1,
        flip_y=0.05,
        random_state=0,
    )
    x = (x - x.min(axis=0)) / (x.max(axis=0) - x.min(axis=0))
    data = EvalData(x.astype(np.float32), y.astype(np.int64), N_CLASSES)
    train, rest = data.split(150 / 900, seed=0)
    test, shadow = rest.split(300 / 750, seed=0)
    return train, test, shadow


def recipe(data: EvalData) -> TorchClassifier:
    return fit(mlp(N_FEATURES, N_CLASSES, hidden=64), data, epochs=80, batch_size=32, lr=3e-3)


@pytest.fixture(scope="module")
def overfit(splits: tuple[EvalData, EvalData, EvalData]) -> PrivacyResult:
    train, test, shadow = splits
    return membership_inference(
        recipe(train),
        train,
        test,
        shadow_data=shadow.subset(np.arange(300)),
        shadow_factory=recipe,
        n_shadows=2,
    )


def test_attacks_separate_members_of_an_overfit_model(overfit: PrivacyResult) -> None:
    assert [a.name for a in overfit.attacks] == ["loss", "confidence", "shadow"]
    assert overfit.attack("loss").auc > 0.7
    assert overfit.attack("shadow").auc > 0.6
    assert overfit.best_auc == max(a.auc for a in overfit.attacks)
    assert overfit.train_accuracy > overfit.test_accuracy
    assert overfit.n_shadows == 2 and overfit.skipped == ()


def test_findings_follow_the_policy_threshold(overfit: PrivacyResult) -> None:
    strict = Policy(robustness=RobustnessPolicy(max_membership_auc=0.55))
    lenient = Policy(robustness=RobustnessPolicy(max_membership_auc=0.99))
    found = overfit.findings(strict, ASSET)
    assert [f.rule for f in found] == ["GA-ROB-002"]
    assert f"{overfit.best_auc:.3f}" in found[0].evidence
    assert overfit.findings(lenient, ASSET) == []


def test_to_dict_is_json_and_flags_unresolved_rates(overfit: PrivacyResult) -> None:
    out = json.loads(json.dumps(overfit.to_dict()))
    assert set(out["attacks"]) == {"loss", "confidence", "shadow"}
    assert out["n_non_members"] == 300
    assert out["fpr_resolution"] == pytest.approx(1 / 300)
    assert out["unresolved_fprs"] == [0.001]  # 300 non-members cannot measure 0.1 %
    assert all(a["tpr_at_0.1%_fpr"] == 0.0 for a in out["attacks"].values())


def test_a_blind_classifier_gives_chance(splits: tuple[EvalData, EvalData, EvalData]) -> None:
    train, test, _ = splits
    constant = FunctionClassifier(lambda x: np.full((len(x), N_CLASSES), 1 / N_CLASSES), N_CLASSES)
    result = membership_inference(constant, train, test)
    assert result.best_auc == pytest.approx(0.5)
    assert result.skipped == ("shadow: needs shadow data and a shadow model factory",)
    assert result.findings(Policy(), ASSET) == []
    rng = np.random.default_rng(1)
    noisy = FunctionClassifier(lambda x: rng.dirichlet(np.ones(N_CLASSES), len(x)), N_CLASSES)
    assert abs(membership_inference(noisy, train, test).best_auc - 0.5) < 0.08


def test_tpr_at_low_fpr_on_known_scores() -> None:
    non_members = np.arange(1000.0)  # 999 is the highest non-member score
    members = np.concatenate([np.full(30, 2000.0), np.full(20, 998.5), np.full(50, -1.0)])
    truth = np.concatenate([np.ones(100), np.zeros(1000)])
    attack = score_attack("hand", truth, np.concatenate([members, non_members]))
    assert attack.tpr_at_0_1_fpr == pytest.approx(0.5)  # threshold 998.5: one false positive
    assert attack.tpr_at_1_fpr == pytest.approx(0.5)
    assert len(attack.roc_fpr) == len(attack.roc_tpr) <= 210
    # Between two thresholds the rate is interpolated; below the resolution it is 0.
    assert tpr_at_fpr(np.array([0, 0.002, 1]), np.array([0.2, 0.6, 1]), 0.001, 1000) == (
        pytest.approx(0.4)
    )
    assert tpr_at_fpr(np.array([0, 0.01, 1]), np.array([0.3, 0.6, 1]), 0.001, 100) == 0.0


def test_roc_png(overfit: PrivacyResult) -> None:
    png = roc_png(overfit)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"attacks": ("gradient",)}, "unknown attack"),
        ({"n_shadows": 0}, "at least one shadow"),
    ],
)
def test_bad_requests_are_usage_errors(
    splits: tuple[EvalData, EvalData, EvalData], kwargs: dict[str, Any], message: str
) -> None:
    train, test, _ = splits
    constant = FunctionClassifier(lambda x: np.full((len(x), N_CLASSES), 0.2), N_CLASSES)
    with pytest.raises(UsageError, match=message):
        membership_inference(constant, train, test, **kwargs)


def test_shadow_only_without_a_factory_is_refused(
    splits: tuple[EvalData, EvalData, EvalData],
) -> None:
    train, test, _ = splits
    constant = FunctionClassifier(lambda x: np.full((len(x), N_CLASSES), 0.2), N_CLASSES)
    with pytest.raises(UsageError, match="no membership-inference attack could run"):
        membership_inference(constant, train, test, attacks=("shadow",))
    with pytest.raises(UsageError, match="at least one member"):
        membership_inference(constant, train.subset(np.arange(0)), test)
