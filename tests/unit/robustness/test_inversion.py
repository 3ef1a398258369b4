"""Model inversion: reconstructions of a digits CNN look like their class."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from garrison.assets import Asset
from garrison.errors import UsageError
from garrison.policy import Policy, RobustnessPolicy
from garrison.robustness.data import EvalData, load_bundled
from garrison.robustness.inversion import grid_png, invert_classes
from garrison.robustness.models import fit, small_cnn
from garrison.robustness.rules import INVERSION
from garrison.robustness.target import SklearnClassifier, TorchClassifier


@pytest.fixture(scope="module")
def digits() -> tuple[TorchClassifier, EvalData]:
    import torch

    data = load_bundled("digits")
    train, _ = data.split(0.6, seed=0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # on a busy 2-core runner, two torch threads crawl
    try:
        return fit(small_cnn(10), train, epochs=5, batch_size=32), train
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def inverted(digits):
    target, train = digits
    return invert_classes(target, train, steps=100)


def test_reconstructions_stay_within_clip_and_have_the_image_shape(digits, inverted) -> None:
    target, _ = digits
    assert inverted.reconstructions.shape == (10, 1, 8, 8)
    assert inverted.class_means.shape == (10, 1, 8, 8)
    low, high = target.clip
    assert inverted.reconstructions.min() >= low
    assert inverted.reconstructions.max() <= high


def test_reconstructions_resemble_their_own_class(inverted) -> None:
    own = np.array([c.similarity for c in inverted.classes])
    others = np.array([c.mean_other_similarity for c in inverted.classes])
    assert (own > others).sum() >= 8
    assert inverted.identifiable >= 7
    assert inverted.mean_similarity > 0.2
    assert sum(c.confidence > 0.5 for c in inverted.classes) >= 8  # the model sees its class


def test_chosen_classes_only(digits) -> None:
    target, train = digits
    result = invert_classes(target, train, classes=[3, 7], steps=20)
    assert [c.label for c in result.classes] == [3, 7]
    assert len(result.reconstructions) == 2
    np.testing.assert_allclose(result.class_means[1], train.x[train.y == 7].mean(axis=0), atol=1e-6)


def test_finding_when_similarity_exceeds_the_policy(inverted) -> None:
    asset = Asset.from_path(Path("model.pt"))
    below = Policy(robustness=RobustnessPolicy(max_inversion_similarity=0.1))
    findings = inverted.findings(below, asset)
    assert [f.rule for f in findings] == [INVERSION.id]
    assert f"{inverted.mean_similarity:.2f}" in findings[0].evidence
    above = Policy(robustness=RobustnessPolicy(max_inversion_similarity=0.99))
    assert inverted.findings(above, asset) == []


def test_grid_png_and_json(inverted) -> None:
    assert grid_png(inverted).startswith(b"\x89PNG\r\n\x1a\n")
    as_dict = inverted.to_dict()
    assert len(as_dict["classes"]) == 10
    assert as_dict["identifiable"] == inverted.identifiable


def test_non_torch_target_is_refused(digits) -> None:
    from sklearn.linear_model import LogisticRegression

    _, train = digits
    flat = train.x.reshape(len(train.x), -1)
    model = LogisticRegression(max_iter=500).fit(flat, train.y)
    with pytest.raises(UsageError, match="differentiable PyTorch"):
        invert_classes(SklearnClassifier(model, 10), train)


def test_class_without_data_is_a_usage_error(digits) -> None:
    target, train = digits
    with pytest.raises(UsageError, match="class 9"):
        invert_classes(target, train.subset(np.flatnonzero(train.y < 9)), classes=[9], steps=5)
