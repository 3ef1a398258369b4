"""Label issues: flipped labels are found, user probabilities are used, limits hold."""

from __future__ import annotations

import json

import numpy as np
import pytest

from garrison.assets import Asset
from garrison.data import labels as labels_module
from garrison.data.labels import find_label_issues
from garrison.errors import UsageError
from garrison.policy import DataPolicy, Policy


def _blobs(
    n: int = 300, flips: int = 20, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centres = np.array([[0.0, 0.0, 0.0, 0.0], [4.0, 0.0, 0.0, 0.0], [0.0, 4.0, 0.0, 0.0]])
    x = centres[y] + rng.normal(size=(n, 4))
    flipped = np.sort(rng.choice(n, flips, replace=False))
    y = y.copy()
    y[flipped] = (y[flipped] + rng.integers(1, 3, flips)) % 3
    return x, y, flipped


def test_flipped_labels_are_found() -> None:
    x, y, flipped = _blobs()
    result = find_label_issues(x, y)
    found = np.intersect1d(result.issue_rows, flipped)
    assert len(found) / len(flipped) >= 0.8
    assert len(found) / len(result.issue_rows) >= 0.8
    assert result.label_quality.shape == (len(y),)
    assert result.pred_probs.shape == (len(y), 3)
    assert "logistic" in result.model
    json.dumps(result.to_dict())


def test_clean_labels_give_few_issues() -> None:
    x, y, _ = _blobs(flips=0)
    result = find_label_issues(x, y)
    assert len(result.issue_rows) <= 0.03 * len(y)


def test_string_labels_and_original_values_in_evidence(tmp_path: object) -> None:
    x, y, flipped = _blobs()
    names = np.array(["cat", "dog", "fox"])[y]
    result = find_label_issues(x, names)
    assert np.intersect1d(result.issue_rows, flipped).size >= 0.8 * len(flipped)
    findings = result.findings(Asset(uri="file:///d.csv", kind="dataset"), "d.csv", Policy())
    assert findings and any("'dog'" in f.evidence or "'cat'" in f.evidence for f in findings)


def test_user_pred_probs_are_used_without_fitting(monkeypatch: pytest.MonkeyPatch) -> None:
    x, y, _ = _blobs(flips=0)

    def no_fit(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a model was fitted although pred_probs were given")

    monkeypatch.setattr(labels_module, "out_of_fold_probs", no_fit)
    probs = np.eye(3)[y] * 0.9 + 0.1 / 3
    wrong = np.array([5, 50, 150])
    probs[wrong] = np.eye(3)[(y[wrong] + 1) % 3] * 0.9 + 0.1 / 3
    result = find_label_issues(x, y, pred_probs=probs)
    assert result.model == "user pred_probs"
    assert set(wrong) <= set(result.issue_rows.tolist())
    assert result.label_quality[5] < 0.1


def test_findings_are_capped_with_a_summary() -> None:
    x, y, _ = _blobs(flips=30)
    result = find_label_issues(x, y)
    policy = Policy(data=DataPolicy(max_rows_per_finding_kind=5))
    asset = Asset(uri="file:///d.csv", kind="dataset")
    findings = [f for f in result.findings(asset, "d.csv", policy) if f.rule == "GA-DATA-020"]
    assert len(findings) == 6
    assert all(f.location.row is not None for f in findings[:5])
    assert findings[5].location.row is None and "more rows" in findings[5].evidence
    qualities = [result.label_quality[f.location.row] for f in findings[:5]]
    assert qualities == sorted(qualities)  # worst rows listed first


def test_class_outliers_are_reported() -> None:
    x, y, _ = _blobs(flips=0)
    y = y.copy()
    y[7] = 2 if y[7] != 2 else 1  # a row deep inside another class
    x[7] = [4.0, 0.0, 0.0, 0.0] if y[7] == 2 else [0.0, 4.0, 0.0, 0.0]
    result = find_label_issues(x, y)
    assert 7 in result.class_outlier_rows
    asset = Asset(uri="file:///d.csv", kind="dataset")
    rules = {f.rule for f in result.findings(asset, "d.csv", Policy())}
    assert "GA-DATA-021" in rules


def test_sampling_caps_the_rows_analysed() -> None:
    x, y, _ = _blobs(n=3000, flips=0)
    result = find_label_issues(x, y, max_rows=1000)
    assert result.analysed_rows == 1000 and result.rows == 3000
    assert np.isnan(result.label_quality).sum() == 2000


def test_missing_feature_values_are_filled() -> None:
    x, y, flipped = _blobs()
    x[::10, 1] = np.nan
    result = find_label_issues(x, y)
    assert np.intersect1d(result.issue_rows, flipped).size >= 0.7 * len(flipped)


def test_degenerate_inputs_give_empty_results() -> None:
    x, y, _ = _blobs(flips=0)
    one_class = find_label_issues(x, np.zeros(len(y), dtype=np.int64))
    assert one_class.issue_rows.size == 0 and "two classes" in one_class.note
    tiny = find_label_issues(x[:4], y[:4])
    assert tiny.issue_rows.size == 0 and tiny.note
    json.dumps(tiny.to_dict())


def test_a_class_with_one_row_is_left_out_not_fatal() -> None:
    x, y, flipped = _blobs()
    y = y.copy()
    y[0] = 9
    result = find_label_issues(x, y)
    assert "left out" in result.note and np.isnan(result.label_quality[0])
    assert np.intersect1d(result.issue_rows, flipped).size >= 0.7 * len(flipped)
    assert result.pred_probs.shape == (len(y) - 1, 4)


def test_an_id_column_as_labels_is_not_analysed() -> None:
    x = np.random.default_rng(0).normal(size=(2000, 3))
    result = find_label_issues(x, np.arange(2000))
    assert result.issue_rows.size == 0 and "classes" in result.note


@pytest.mark.parametrize(
    ("features", "labels", "probs", "message"),
    [
        (np.zeros((10, 2)), np.full(10, np.nan), None, "missing values"),
        (np.zeros((10, 2)), np.zeros(9), None, "one per row"),
        (np.zeros((2, 2, 2)), np.zeros(2), None, "2-D"),
        (np.zeros((12, 2)), np.arange(12) % 2, np.ones((12, 3)), "pred_probs must be shaped"),
    ],
)
def test_bad_inputs_raise_usage_errors(
    features: np.ndarray, labels: np.ndarray, probs: np.ndarray | None, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        find_label_issues(features, labels, pred_probs=probs)
