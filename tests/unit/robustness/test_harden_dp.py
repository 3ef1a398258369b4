"""DP-SGD hardening through Opacus: the budget is kept and the model still works."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("opacus")

from garrison.errors import MissingExtraError, UsageError  # noqa: E402
from garrison.robustness.data import EvalData, load_bundled  # noqa: E402
from garrison.robustness.harden_dp import DPResult, default_delta, dp_training  # noqa: E402
from garrison.robustness.models import small_cnn  # noqa: E402
from garrison.robustness.target import TorchClassifier, accuracy  # noqa: E402


@pytest.fixture(scope="module")
def digits() -> tuple[EvalData, EvalData]:
    train, test = load_bundled("digits").split(0.5, seed=0)
    return train, test


@pytest.fixture(scope="module")
def hardened(digits: tuple[EvalData, EvalData]) -> DPResult:
    train, test = digits
    return dp_training(
        lambda: small_cnn(10), train, test, target_epsilon=3.0, epochs=6, batch_size=64, lr=1e-2
    )


def test_budget_is_kept_and_the_model_learns(hardened: DPResult) -> None:
    assert 0 < hardened.epsilon <= 3.0
    assert hardened.delta == pytest.approx(1e-5)
    assert hardened.noise_multiplier > 0.5
    assert hardened.accuracy_after > 0.5  # ten classes: chance is 0.1
    assert hardened.accuracy_before >= hardened.accuracy_after - 0.05
    assert hardened.privacy_after.best_auc < 0.6


def test_state_dict_loads_into_a_fresh_model(
    hardened: DPResult, digits: tuple[EvalData, EvalData]
) -> None:
    _, test = digits
    assert not any(key.startswith("_module.") for key in hardened.state_dict)
    fresh = small_cnn(10)
    fresh.load_state_dict(hardened.state_dict, strict=True)
    reloaded = TorchClassifier(fresh, 10)
    assert accuracy(reloaded, test.x, test.y) == pytest.approx(hardened.accuracy_after)
    assert np.allclose(
        reloaded.predict_proba(test.x[:20]),
        hardened.classifier.predict_proba(test.x[:20]),
        atol=1e-6,
    )


def test_to_dict_reports_before_and_after(hardened: DPResult) -> None:
    out = json.loads(json.dumps(hardened.to_dict()))
    assert out["epsilon"] <= out["target_epsilon"] == 3.0
    for side in ("before", "after"):
        assert set(out[side]) == {"test_accuracy", "membership_auc", "privacy"}
        assert set(out[side]["privacy"]["attacks"]) == {"loss", "confidence"}


def test_default_delta_is_below_one_over_n() -> None:
    assert default_delta(1000) == 1e-5
    assert default_delta(10**6) == pytest.approx(1e-6**1.1)
    assert default_delta(10**6) < 1e-6


def test_missing_opacus_is_a_missing_extra(
    monkeypatch: pytest.MonkeyPatch, digits: tuple[EvalData, EvalData]
) -> None:
    monkeypatch.setitem(sys.modules, "opacus", None)
    train, test = digits
    with pytest.raises(MissingExtraError, match="opacus"):
        dp_training(lambda: small_cnn(10), train, test)


def test_unsupported_layers_are_refused_before_training(
    digits: tuple[EvalData, EvalData],
) -> None:
    train, test = digits

    def with_batch_norm() -> torch.nn.Module:
        nn = torch.nn
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.BatchNorm1d(32), nn.Linear(32, 10))

    with pytest.raises(UsageError, match="Opacus cannot train"):
        dp_training(with_batch_norm, train, test)
    with pytest.raises(UsageError, match="epsilon must be positive"):
        dp_training(lambda: small_cnn(10), train, test, target_epsilon=0)
