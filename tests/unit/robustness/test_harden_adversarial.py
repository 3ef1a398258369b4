"""PGD adversarial training on a tiny digits run, and safetensors output that scans clean."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from garrison.errors import UsageError  # noqa: E402
from garrison.policy import Policy  # noqa: E402
from garrison.robustness.data import EvalData, load_bundled  # noqa: E402
from garrison.robustness.harden_adversarial import (  # noqa: E402
    adversarial_training,
    save_safetensors,
)
from garrison.robustness.models import fit, mlp, small_cnn  # noqa: E402


@pytest.fixture(scope="module")
def digits() -> tuple[Any, EvalData, EvalData]:
    train, test = load_bundled("digits").split(0.7, seed=0)
    module = fit(small_cnn(10), train, epochs=8, seed=0).module
    return module, train, test.subset(np.arange(150))


def test_adversarial_training_raises_robust_accuracy(
    digits: tuple[Any, EvalData, EvalData],
) -> None:
    module, train, test = digits
    result = adversarial_training(
        copy.deepcopy(module), train, test, eps=0.1, epochs=3, steps=3, max_samples=150
    )
    assert not result.trained_baseline
    assert result.before_clean > 0.85
    assert result.after_adversarial > result.before_adversarial + 0.1
    assert result.after_clean > 0.85
    numbers = result.to_dict()
    assert numbers["gain"] == pytest.approx(
        result.after_adversarial - result.before_adversarial, abs=1e-3
    )
    assert numbers["before"]["clean"] == round(result.before_clean, 4)


def test_an_untrained_module_is_trained_first_as_the_baseline() -> None:
    train, test = load_bundled("iris").split(0.7, seed=0)
    result = adversarial_training(mlp(4, 3, hidden=32), train, test, eps=0.05, epochs=80, steps=2)
    assert result.trained_baseline
    assert result.before_clean > 0.6  # the normally trained baseline, not chance


def test_bad_settings_are_usage_errors(digits: tuple[Any, EvalData, EvalData]) -> None:
    module, train, test = digits
    with pytest.raises(UsageError, match="mix"):
        adversarial_training(module, train, test, mix=0.0)
    with pytest.raises(UsageError, match="eps"):
        adversarial_training(module, train, test, eps=0.0)


def test_safetensors_round_trip_scans_clean(
    digits: tuple[Any, EvalData, EvalData], tmp_path: Path
) -> None:
    from safetensors.torch import load_file

    from garrison.findings import Severity
    from garrison.supplychain import scan_path

    module, _, test = digits
    path = save_safetensors(module, tmp_path / "out" / "hardened.safetensors")
    loaded = load_file(str(path))
    state = module.state_dict()
    assert set(loaded) == set(state)
    for name, tensor in state.items():
        assert torch.equal(loaded[name], tensor)
    fresh = small_cnn(10)
    fresh.load_state_dict(loaded)
    fresh.eval()
    with torch.no_grad():
        x = torch.as_tensor(test.x[:10])
        assert torch.equal(fresh(x).argmax(1), module(x).argmax(1))
    policy = Policy().model_copy(update={"require_approved": False})
    report = scan_path([path], policy)
    assert [f for f in report.findings if f.severity >= Severity.LOW] == []
