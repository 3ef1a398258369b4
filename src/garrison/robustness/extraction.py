"""Model extraction simulation: train a surrogate on the target's answers and measure how
closely it copies the target as the query budget grows.

The attacker queries a pool of inputs it owns (labels unused), trains a surrogate on the
answers, and fidelity is the surrogate's agreement with the target on held-out inputs. The
budget at which fidelity crosses the policy threshold tells the gateway's extraction monitor
which per-key query volumes are dangerous.

Surrogates (scikit-learn): "logreg" (multinomial logistic regression), "mlp" (one hidden layer
of 128), "boosting" (histogram gradient boosting); "auto" takes logistic regression below
1,000 queries, where a linear model generalises best from few points, and the MLP from there.
With scores and `use_scores`, each query becomes one row per class weighted by the target's
probability (its top three classes, those under 1 % dropped): cross-entropy against the soft
labels, at most three times the rows.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from garrison.assets import Asset
from garrison.errors import UsageError
from garrison.findings import Finding, Location
from garrison.policy import Policy
from garrison.robustness.data import EvalData
from garrison.robustness.rules import EXTRACTION
from garrison.robustness.target import Array, Classifier, predict

SURROGATES = ("auto", "logreg", "mlp", "boosting")
STRATEGIES = ("random", "synthetic")
DEFAULT_BUDGETS = (50, 100, 200, 500, 1000, 2000, 5000)
AUTO_MLP_FROM = 1000  # queries from which "auto" trains an MLP instead of a linear model
MIN_SCORE = 0.01  # soft-label classes below this probability are dropped
TOP_CLASSES = 3  # soft labels keep at most this many classes per query, to bound the rows


@dataclass(frozen=True, slots=True)
class ExtractionPoint:
    budget: int  # queries asked for
    queries: int  # queries actually made (fewer when a random pool runs out)
    fidelity: float  # agreement of surrogate and target on held-out inputs
    surrogate_accuracy: float  # surrogate's accuracy on the true held-out labels
    surrogate: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "budget": self.budget,
            "queries": self.queries,
            "fidelity": round(self.fidelity, 4),
            "surrogate_accuracy": round(self.surrogate_accuracy, 4),
            "surrogate": self.surrogate,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, slots=True)
class ExtractionResult:
    points: tuple[ExtractionPoint, ...]
    target_accuracy: float  # the target's own accuracy on the held-out inputs
    fidelity_target: float
    query_strategy: str
    used_scores: bool
    pool_size: int
    test_size: int
    seconds: float

    @property
    def queries(self) -> int:
        """Total queries the attacker made (budgets are nested: each extends the last)."""
        return max((p.queries for p in self.points), default=0)

    @property
    def best_fidelity(self) -> float:
        return max((p.fidelity for p in self.points), default=0.0)

    def budget_at(self, fidelity: float | None = None) -> int | None:
        """Queries made when fidelity first reached `fidelity` (default: fidelity_target)."""
        wanted = self.fidelity_target if fidelity is None else fidelity
        for point in self.points:
            if point.fidelity >= wanted:
                return point.queries
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "points": [p.to_dict() for p in self.points],
            "target_accuracy": round(self.target_accuracy, 4),
            "fidelity_target": self.fidelity_target,
            "queries_to_target": self.budget_at(),
            "best_fidelity": round(self.best_fidelity, 4),
            "queries": self.queries,
            "query_strategy": self.query_strategy,
            "used_scores": self.used_scores,
            "pool_size": self.pool_size,
            "test_size": self.test_size,
            "seconds": round(self.seconds, 3),
        }

    def findings(self, policy: Policy, asset: Asset) -> list[Finding]:
        limits = policy.robustness
        for point in self.points:
            if point.queries >= limits.min_extraction_queries:
                break
            if point.fidelity >= limits.extraction_fidelity:
                evidence = (
                    f"surrogate agrees with the target on {point.fidelity:.0%} of held-out "
                    f"inputs after {point.queries} queries (policy: at least "
                    f"{limits.min_extraction_queries} queries for "
                    f"{limits.extraction_fidelity:.0%})"
                )
                return [EXTRACTION.finding(asset, Location(path=asset.path), evidence)]
        return []


def extraction_curve(
    target: Classifier,
    pool: EvalData,
    test: EvalData,
    budgets: Sequence[int] = DEFAULT_BUDGETS,
    surrogate: str = "auto",
    query_strategy: str = "random",
    use_scores: bool = True,
    fidelity_target: float = 0.9,
    seed: int = 0,
) -> ExtractionResult:
    """Fidelity of a surrogate trained on the target's answers, at each query budget.

    Budgets are nested: the attacker's queries for a larger budget extend those of the
    smaller one. With "random" the pool is queried in random order and a budget beyond the
    pool stops at its size; "synthetic" stretches the pool with mixes of two pool inputs
    plus a little Gaussian noise.
    """
    _check_arguments(pool, test, budgets, surrogate, query_strategy)
    started = time.perf_counter()
    ordered = sorted({int(b) for b in budgets})
    queries = _query_inputs(pool.x, ordered[-1], query_strategy, target.clip, seed)
    test_labels = predict(target, test.x)
    answers: list[Array] = []
    points: list[ExtractionPoint] = []
    for budget in ordered:
        tick = time.perf_counter()
        asked = sum(len(a) for a in answers)
        wanted = min(budget, len(queries))
        if points and wanted == asked:  # the pool ran out: nothing new to learn from
            points.append(replace(points[-1], budget=budget, seconds=0.0))
            continue
        answers.append(np.asarray(target.predict_proba(queries[asked:wanted]), np.float32))
        scores = np.concatenate(answers)
        soft = use_scores and not target.label_only
        name = _surrogate_name(surrogate, wanted)
        model = _fit_surrogate(name, _flat(queries[:wanted]), scores, soft, seed)
        guessed = model.predict(_flat(test.x))
        points.append(
            ExtractionPoint(
                budget=budget,
                queries=wanted,
                fidelity=float((guessed == test_labels).mean()),
                surrogate_accuracy=float((guessed == test.y).mean()),
                surrogate=name,
                seconds=time.perf_counter() - tick,
            )
        )
    return ExtractionResult(
        points=tuple(points),
        target_accuracy=float((test_labels == test.y).mean()),
        fidelity_target=fidelity_target,
        query_strategy=query_strategy,
        used_scores=use_scores and not target.label_only,
        pool_size=len(pool.x),
        test_size=len(test.x),
        seconds=time.perf_counter() - started,
    )


def curve_png(result: ExtractionResult) -> bytes:
    """Fidelity and surrogate accuracy against queries made (log x), as PNG bytes."""
    from garrison.robustness.plots import line_chart

    xs = [p.queries for p in result.points]
    return line_chart(
        {
            "fidelity (agreement with target)": (xs, [p.fidelity for p in result.points]),
            "surrogate accuracy": (xs, [p.surrogate_accuracy for p in result.points]),
            f"target {result.fidelity_target:.0%}": (
                [min(xs), max(xs)],
                [result.fidelity_target] * 2,
            ),
        },
        "Model extraction",
        "queries to the target",
        "fraction of held-out inputs",
        log_x=True,
    )


def _check_arguments(
    pool: EvalData, test: EvalData, budgets: Sequence[int], surrogate: str, strategy: str
) -> None:
    if surrogate not in SURROGATES:
        raise UsageError(f"unknown surrogate {surrogate!r}; use one of {', '.join(SURROGATES)}")
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown query strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    if not budgets or min(budgets) < 2:
        raise UsageError("query budgets must be at least 2")
    if len(pool.x) < 2 or len(test.x) == 0:
        raise UsageError("extraction needs a query pool of 2 or more inputs and a test set")


def _query_inputs(
    pool: Array, total: int, strategy: str, clip: tuple[float, float], seed: int
) -> Array:
    rng = np.random.default_rng(seed)
    ordered = np.asarray(pool, np.float32)[rng.permutation(len(pool))]
    if strategy == "random" or total <= len(ordered):
        return ordered[:total]
    extra = total - len(ordered)
    first = ordered[rng.integers(0, len(ordered), extra)]
    second = ordered[rng.integers(0, len(ordered), extra)]
    mix = rng.uniform(0.0, 1.0, (extra,) + (1,) * (ordered.ndim - 1)).astype(np.float32)
    noise = rng.normal(0.0, 0.05 * (clip[1] - clip[0]), first.shape).astype(np.float32)
    synthetic = np.clip(mix * first + (1 - mix) * second + noise, clip[0], clip[1])
    return np.concatenate([ordered, synthetic.astype(np.float32)])


def _flat(x: Array) -> Array:
    return np.asarray(x, np.float32).reshape(len(x), -1)


def _surrogate_name(surrogate: str, queries: int) -> str:
    if surrogate != "auto":
        return surrogate
    return "mlp" if queries >= AUTO_MLP_FROM else "logreg"


def _fit_surrogate(name: str, x: Array, scores: Array, soft: bool, seed: int) -> Any:
    if soft:
        kth = -np.sort(-scores, axis=1)[:, min(TOP_CLASSES, scores.shape[1]) - 1 : TOP_CLASSES]
        rows, classes = np.nonzero((scores >= MIN_SCORE) & (scores >= kth))
        inputs, labels, weights = x[rows], classes, scores[rows, classes]
    else:
        inputs, labels, weights = x, scores.argmax(axis=1), None
    if len(np.unique(labels)) < 2:  # every answer the same class: the copy is a constant
        return _Constant(int(labels[0]))
    model = _new_surrogate(name, seed)
    model.fit(inputs, labels, sample_weight=weights)
    return model


def _new_surrogate(name: str, seed: int) -> Any:
    if name == "logreg":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=10.0, max_iter=1000)
    if name == "mlp":
        from sklearn.neural_network import MLPClassifier

        return MLPClassifier((128,), max_iter=300, early_stopping=False, random_state=seed)
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=200, random_state=seed)


@dataclass(frozen=True, slots=True)
class _Constant:
    label: int

    def predict(self, x: Array) -> Array:
        return np.full(len(x), self.label, np.int64)
