"""Backdoor detection: stamped patches, spectral signatures, activation clusters, features."""

from __future__ import annotations

import json

import numpy as np
import pytest

from garrison.assets import Asset
from garrison.data.backdoor import (
    activation_clustering,
    detect_backdoor,
    find_trigger_patches,
    model_features,
    spectral_signatures,
)
from garrison.errors import UsageError
from garrison.policy import DataPolicy, Policy

ASSET = Asset(uri="file:///images", kind="dataset")
# The tests' own MLPs are user models trained briefly; their convergence does not matter.
QUIET_FIT = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # bundled with scikit-learn, never downloaded

    digits = load_digits()
    return digits.images.copy(), digits.target.copy()


def _poisoned(target: int = 0, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    images, labels = _digits()
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(np.flatnonzero(labels != target), 90, replace=False))
    images[rows, -3:, -3:] = 16.0
    labels[rows] = target
    return images, labels, rows


def test_planted_patch_is_found() -> None:
    images, labels, rows = _poisoned(target=3)
    result = find_trigger_patches(images, labels)
    assert set(rows.tolist()) <= set(result.rows.tolist())
    assert len(result.rows) <= len(rows) + 5
    assert result.target == 3
    assert result.box == (5, 5, 3, 3)
    json.dumps(result.to_dict())


def test_channels_first_colour_images_work() -> None:
    images, labels, rows = _poisoned(target=1)
    rgb = np.repeat(images[:, None], 3, axis=1)  # (N, 3, 8, 8)
    result = find_trigger_patches(rgb, labels)
    assert set(rows.tolist()) <= set(result.rows.tolist())


def test_clean_digits_are_not_flagged() -> None:
    images, labels = _digits()
    result = find_trigger_patches(images, labels)
    assert result.rows.size == 0 and result.triggers == ()


def _two_cluster_class(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    clean0 = rng.normal(size=(200, 10))
    poison = rng.normal(size=(20, 10)) * 0.5 + np.r_[8.0, np.zeros(9)]
    clean1 = rng.normal(size=(200, 10)) + np.r_[0.0, 6.0, np.zeros(8)]
    features = np.vstack([clean0, poison, clean1])
    labels = np.r_[np.zeros(220), np.ones(200)].astype(np.int64)
    return features, labels, np.arange(200, 220)


def test_spectral_signatures_rank_the_small_cluster_first() -> None:
    features, labels, poison = _two_cluster_class()
    result = spectral_signatures(features, labels, eps=0.1)
    top = np.argsort(-result.scores[:220])[:20]
    assert set(top.tolist()) == set(poison.tolist())
    assert set(poison.tolist()) <= set(result.rows.tolist())


def test_activation_clustering_flags_the_small_cluster() -> None:
    features, labels, poison = _two_cluster_class()
    result = activation_clustering(features, labels)
    assert set(result.rows.tolist()) == set(poison.tolist())
    assert result.classes["0"]["small_cluster"] == pytest.approx(20 / 220, abs=1e-3)


def test_one_gaussian_per_class_is_not_split() -> None:
    rng = np.random.default_rng(1)
    features = rng.normal(size=(600, 10)) * np.r_[3.0, np.ones(9)]  # elongated, unimodal
    labels = np.arange(600) % 2
    assert activation_clustering(features, labels).rows.size == 0


def test_missing_values_in_a_feature_table_are_filled() -> None:
    features, labels, poison = _two_cluster_class()
    features[::7, 3] = np.nan
    result = detect_backdoor(features, labels, eps=0.1)
    assert "fitted by Garrison" in result.features_from
    assert np.isin(poison, result.rows).mean() >= 0.9


@QUIET_FIT
def test_detect_backdoor_on_features_votes_and_caps_findings() -> None:
    from sklearn.neural_network import MLPClassifier

    features, labels, poison = _two_cluster_class()
    mlp = MLPClassifier((16,), max_iter=300, random_state=0).fit(features, labels)
    result = detect_backdoor(features, labels, model=mlp, eps=0.1)
    assert result.patch is None and result.features_from == "MLPClassifier"
    assert set(poison.tolist()) <= set(result.rows.tolist())
    assert len(result.rows) <= 30
    policy = Policy(data=DataPolicy(max_rows_per_finding_kind=3))
    findings = result.findings(ASSET, "features.npy", policy)
    spectral = [f for f in findings if f.rule == "GA-DATA-051"]
    assert len(spectral) == 4 and "more rows" in spectral[-1].evidence
    json.dumps(result.to_dict())


@QUIET_FIT
def test_detect_backdoor_on_images_reports_trigger_findings() -> None:
    from sklearn.neural_network import MLPClassifier

    images, labels, rows = _poisoned(target=7)
    flat = images.reshape(len(images), -1)
    mlp = MLPClassifier((32,), max_iter=200, random_state=0).fit(flat / 16, labels)
    result = detect_backdoor(images, labels, model=mlp)
    assert set(rows.tolist()) <= set(result.rows.tolist())
    clean = np.setdiff1d(np.arange(len(labels)), rows)
    assert np.isin(result.rows, clean).mean() * len(result.rows) <= 0.05 * len(clean)
    findings = result.findings(ASSET, "images", Policy())
    patch = [f for f in findings if f.rule == "GA-DATA-050"]
    assert len(patch) == len(rows)
    assert "3x3 patch" in patch[0].evidence and patch[0].location.row in set(rows.tolist())


def test_torch_model_features_come_from_before_the_last_linear_layer() -> None:
    from garrison.robustness.models import small_cnn

    images, labels = _digits()
    module = small_cnn(10)
    x = (images[:50, None] / 16).astype(np.float32)
    features, source = model_features(x, labels[:50], model=module)
    assert features.shape == (50, 64) and source == "Sequential"


def test_a_small_model_is_fitted_when_none_is_given() -> None:
    features, labels, _ = _two_cluster_class()
    hidden, source = model_features(features, labels)
    assert hidden.shape == (len(labels), 64) and "fitted by Garrison" in source


def test_degenerate_inputs() -> None:
    images, labels = _digits()
    one_class = detect_backdoor(images[:50], np.zeros(50, dtype=np.int64))
    assert one_class.rows.size == 0
    tiny = find_trigger_patches(images[:5], labels[:5])
    assert tiny.rows.size == 0
    bad = images.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(UsageError, match="NaN"):
        find_trigger_patches(bad, labels)
    with pytest.raises(UsageError, match="NaN"):
        spectral_signatures(np.full((20, 3), np.nan), np.arange(20) % 2)
    with pytest.raises(UsageError, match="shaped"):
        find_trigger_patches(np.zeros((4, 4)), np.zeros(4))
    with pytest.raises(UsageError, match="one per sample"):
        find_trigger_patches(images, labels[:-1])
    with pytest.raises(UsageError, match=r"torch\.nn\.Module"):
        model_features(images.reshape(len(images), -1), labels, model=object())
