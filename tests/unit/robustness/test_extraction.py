"""Extraction simulation: a surrogate copies a scikit-learn model from its answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from garrison.assets import Asset
from garrison.errors import UsageError
from garrison.policy import Policy, RobustnessPolicy
from garrison.robustness.data import EvalData, load_bundled
from garrison.robustness.extraction import curve_png, extraction_curve
from garrison.robustness.rules import EXTRACTION
from garrison.robustness.target import FunctionClassifier, SklearnClassifier

BUDGETS = (20, 50, 100, 200, 400)


@pytest.fixture(scope="module")
def split() -> tuple[SklearnClassifier, EvalData, EvalData]:
    from sklearn.linear_model import LogisticRegression

    data = load_bundled("digits", images=False)
    train, rest = data.split(0.5, seed=0)
    pool, test = rest.split(0.6, seed=0)
    model = LogisticRegression(max_iter=2000).fit(train.x, train.y)
    return SklearnClassifier(model, data.n_classes), pool, test


def test_fidelity_rises_with_budget_and_reaches_ninety_percent(split) -> None:
    target, pool, test = split
    result = extraction_curve(target, pool, test, budgets=BUDGETS)
    fidelities = [p.fidelity for p in result.points]
    assert fidelities[-1] > fidelities[0] + 0.1
    assert fidelities[-1] >= 0.9
    assert [p.queries for p in result.points] == list(BUDGETS)
    assert result.queries == 400
    assert 0.9 < result.target_accuracy <= 1.0
    assert all(0.0 <= p.surrogate_accuracy <= 1.0 for p in result.points)


def test_budget_at_is_the_first_budget_reaching_the_fidelity(split) -> None:
    target, pool, test = split
    result = extraction_curve(target, pool, test, budgets=BUDGETS)
    first = next(p.queries for p in result.points if p.fidelity >= 0.9)
    assert result.budget_at(0.9) == first
    assert result.budget_at() == first  # the default is fidelity_target, 0.9
    assert result.budget_at(1.01) is None
    assert result.to_dict()["queries_to_target"] == first


def test_queries_to_the_target_are_counted(split) -> None:
    target, pool, test = split
    attacker = FunctionClassifier(target.predict_proba, target.n_classes)
    result = extraction_curve(attacker, pool, test, budgets=(50, 100))
    # Nested budgets: 100 attacker queries, plus the held-out inputs fidelity is measured on.
    assert attacker.queries == 100 + len(test.x)
    assert result.queries == 100


def test_random_queries_stop_at_the_pool_and_synthetic_ones_go_beyond(split) -> None:
    target, pool, test = split
    small = pool.subset(np.arange(60))
    random = extraction_curve(target, small, test, budgets=(50, 200))
    assert [p.queries for p in random.points] == [50, 60]
    synthetic = extraction_curve(target, small, test, budgets=(50, 200), query_strategy="synthetic")
    assert [p.queries for p in synthetic.points] == [50, 200]
    assert synthetic.points[-1].fidelity > 0.5


def test_label_only_target_trains_on_labels(split) -> None:
    target, pool, test = split
    labels = FunctionClassifier(lambda x: target.predict_proba(x).argmax(axis=1), 10)
    result = extraction_curve(labels, pool, test, budgets=(100, 400))
    assert not result.used_scores
    assert result.points[-1].fidelity >= 0.85


def test_finding_when_fidelity_is_reached_under_the_query_minimum(split) -> None:
    target, pool, test = split
    result = extraction_curve(target, pool, test, budgets=BUDGETS)
    asset = Asset.from_path(Path("model.onnx"))
    findings = result.findings(Policy(), asset)  # 90 % within 10,000 queries
    assert [f.rule for f in findings] == [EXTRACTION.id]
    assert f"after {result.budget_at(0.9)} queries" in findings[0].evidence

    strict_budget = Policy(
        robustness=RobustnessPolicy(min_extraction_queries=result.budget_at(0.9))
    )
    assert result.findings(strict_budget, asset) == []
    unreachable = Policy(robustness=RobustnessPolicy(extraction_fidelity=1.0))
    assert result.best_fidelity < 1.0
    assert result.findings(unreachable, asset) == []


def test_curve_png_and_json(split) -> None:
    target, pool, test = split
    result = extraction_curve(target, pool, test, budgets=(20, 100))
    assert curve_png(result).startswith(b"\x89PNG\r\n\x1a\n")
    as_dict = result.to_dict()
    assert [p["budget"] for p in as_dict["points"]] == [20, 100]
    assert as_dict["query_strategy"] == "random"


@pytest.mark.parametrize(
    "options",
    [
        {"surrogate": "forest"},
        {"query_strategy": "jacobian"},
        {"budgets": (1, 10)},
        {"budgets": ()},
    ],
)
def test_bad_options_are_usage_errors(split, options) -> None:
    target, pool, test = split
    with pytest.raises(UsageError):
        extraction_curve(target, pool, test, **options)
