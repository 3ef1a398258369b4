"""Evasion attacks on a digits CNN trained in seconds, and black-box attacks on scikit-learn."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("art")

from garrison.assets import Asset  # noqa: E402
from garrison.errors import UsageError  # noqa: E402
from garrison.policy import Policy  # noqa: E402
from garrison.robustness import evasion  # noqa: E402
from garrison.robustness.data import EvalData, load_bundled  # noqa: E402
from garrison.robustness.models import fit, mlp, small_cnn  # noqa: E402
from garrison.robustness.target import (  # noqa: E402
    FunctionClassifier,
    SklearnClassifier,
    TorchClassifier,
    accuracy,
)


@pytest.fixture(scope="module")
def digits() -> tuple[TorchClassifier, EvalData]:
    train, test = load_bundled("digits").split(0.7, seed=0)
    target = fit(small_cnn(10), train, epochs=8, seed=0)
    return target, test.subset(np.arange(150))


@pytest.fixture(scope="module")
def cancer() -> tuple[Any, EvalData]:
    from sklearn.linear_model import LogisticRegression

    train, test = load_bundled("breast_cancer").split(0.7, seed=0)
    model = LogisticRegression(max_iter=2000).fit(train.x, train.y)
    return model, test.subset(np.arange(60))


def test_pgd_lowers_accuracy_strongly(digits: tuple[TorchClassifier, EvalData]) -> None:
    target, test = digits
    clean = accuracy(target, test.x, test.y)
    assert clean > 0.85
    at_01 = accuracy(target, evasion.pgd(target, test.x, test.y, 0.1), test.y)
    at_02 = accuracy(target, evasion.pgd(target, test.x, test.y, 0.2), test.y)
    assert at_01 < clean - 0.25
    assert at_02 < 0.15


@pytest.mark.parametrize("norm", ["inf", "2"])
def test_perturbation_stays_within_eps_and_clip(
    digits: tuple[TorchClassifier, EvalData], norm: str
) -> None:
    target, test = digits
    eps = 0.1 if norm == "inf" else 1.0
    for adv in (
        evasion.pgd(target, test.x, test.y, eps, norm=norm, steps=10, batch_size=64),
        evasion.fgsm(target, test.x, test.y, eps, norm=norm),
    ):
        delta = (adv - test.x).reshape(len(adv), -1)
        size = np.abs(delta).max(axis=1) if norm == "inf" else np.linalg.norm(delta, axis=1)
        assert adv.shape == test.x.shape
        assert size.max() <= eps + 1e-5
        assert size.max() > eps / 2  # it moved
        assert adv.min() >= 0.0 and adv.max() <= 1.0


def test_fgsm_is_no_stronger_than_pgd(digits: tuple[TorchClassifier, EvalData]) -> None:
    target, test = digits
    fgsm = accuracy(target, evasion.fgsm(target, test.x, test.y, 0.1), test.y)
    pgd = accuracy(target, evasion.pgd(target, test.x, test.y, 0.1), test.y)
    assert pgd <= fgsm


def test_pgd_is_repeatable_and_leaves_the_module_mode(
    digits: tuple[TorchClassifier, EvalData],
) -> None:
    target, test = digits
    target.module.train()
    try:
        first = evasion.pgd(target, test.x[:20], test.y[:20], 0.1, steps=5, seed=3)
        again = evasion.pgd(target, test.x[:20], test.y[:20], 0.1, steps=5, seed=3)
        assert target.module.training
    finally:
        target.module.eval()
    np.testing.assert_array_equal(first, again)


def test_pgd_works_on_tabular_features(cancer: tuple[Any, EvalData]) -> None:
    _, test = cancer
    train, _ = load_bundled("breast_cancer").split(0.7, seed=0)
    target = fit(mlp(30, 2), train, epochs=10, seed=0)
    adv = evasion.pgd(target, test.x, test.y, 0.2)
    assert np.abs(adv - test.x).max() <= 0.2 + 1e-5
    assert accuracy(target, adv, test.y) < accuracy(target, test.x, test.y) - 0.3


def test_evaluate_evasion_draws_the_curve(digits: tuple[TorchClassifier, EvalData]) -> None:
    target, test = digits
    result = evasion.evaluate_evasion(target, test, [0.05, 0.2], max_samples=100)
    assert result.attack == "PGD-Linf"
    assert result.epsilons == (0.0, 0.05, 0.1, 0.2)  # 0 and the verdict's budget added
    assert result.samples == 100
    assert result.accuracy[0] > 0.85
    assert result.accuracy[-1] < result.accuracy[1] < result.accuracy[0]
    assert 0.2 < result.success_rate <= 1.0
    assert result.to_dict()["clean_accuracy"] == round(result.accuracy[0], 4)
    png = evasion.curve_png(result)
    assert png.startswith(b"\x89PNG")


def test_white_box_attacks_need_gradients(cancer: tuple[Any, EvalData]) -> None:
    model, test = cancer
    with pytest.raises(UsageError, match="gradients"):
        evasion.evaluate_evasion(SklearnClassifier(model, 2), test, attack="pgd")
    with pytest.raises(UsageError, match="norm"):
        evasion.evaluate_evasion(SklearnClassifier(model, 2), test, norm="1")


def test_black_box_square_attack_on_logistic_regression(cancer: tuple[Any, EvalData]) -> None:
    model, test = cancer
    result = evasion.evaluate_evasion(SklearnClassifier(model, 2), test, [0.2], max_samples=60)
    assert result.attack == "Square-Linf"
    assert result.accuracy[0] > 0.85
    assert result.accuracy[-1] < result.accuracy[0] - 0.3


@pytest.mark.parametrize("wrap", ["sklearn", "function"])
def test_label_only_target_gets_hop_skip_jump(cancer: tuple[Any, EvalData], wrap: str) -> None:
    model, test = cancer

    class LabelsOnly:  # an estimator without predict_proba
        def predict(self, x: Any) -> Any:
            return model.predict(x)

    if wrap == "sklearn":
        target: Any = SklearnClassifier(LabelsOnly(), 2)
    else:
        target = FunctionClassifier(lambda x: model.predict(x.reshape(len(x), -1)), 2)
    result = evasion.evaluate_evasion(target, test, [0.2, 0.5], max_samples=30)
    assert result.attack == "HopSkipJump-Linf"
    assert result.accuracy[0] > 0.85
    assert result.accuracy[-1] < result.accuracy[0] - 0.3
    if wrap == "function":
        assert result.queries is not None and result.queries > 30


def _result(accuracy_at_01: float) -> evasion.EvasionResult:
    return evasion.EvasionResult(
        attack="PGD-Linf",
        norm="inf",
        epsilons=(0.0, 0.05, 0.1, 0.2),
        accuracy=(0.97, 0.8, accuracy_at_01, 0.0),
        epsilon=0.1,
        success_rate=0.9,
        samples=500,
        seconds=1.0,
    )


def test_findings_follow_the_policy_threshold() -> None:
    asset = Asset.from_path(__import__("pathlib").Path("model.safetensors"))
    (finding,) = _result(0.04).findings(Policy(), asset)
    assert finding.rule == "GA-ROB-001"
    assert "0.97 clean -> 0.04 under PGD-Linf eps=0.1 (500 samples)" in finding.evidence
    assert _result(0.6).findings(Policy(), asset) == []
    strict = Policy().model_copy(
        update={
            "robustness": Policy().robustness.model_copy(update={"min_adversarial_accuracy": 0.7})
        }
    )
    assert len(_result(0.6).findings(strict, asset)) == 1


def test_findings_interpolate_between_measured_budgets() -> None:
    result = _result(0.5)
    assert result.accuracy_at(0.15) == pytest.approx(0.25)
    asset = Asset.from_path(__import__("pathlib").Path("m.onnx"))
    wide = Policy().model_copy(
        update={"robustness": Policy().robustness.model_copy(update={"epsilon": 0.15})}
    )
    assert len(result.findings(wide, asset)) == 1
    beyond = Policy().model_copy(
        update={"robustness": Policy().robustness.model_copy(update={"epsilon": 0.5})}
    )
    with pytest.raises(UsageError, match="does not reach"):
        result.findings(beyond, asset)
