"""Membership-inference audits: can an attacker tell the model's training records from
records it never saw?

Three attacks, each turning the target's answer on a record into a membership score:

- "loss": minus the cross-entropy of the true class, from predict_proba (members are fitted
  better, so their loss is lower);
- "confidence": the highest class probability;
- "shadow": offline LiRA (Carlini et al., 2022). Shadow models, built by `shadow_factory` with
  the target's recipe, each train on a random half of `shadow_data`, so every audited record
  is OUT of every shadow. For each record the logit-scaled confidence of its true class,
  log(p_y / (1 - p_y)), is computed on every shadow; the score is how many standard
  deviations the target's value lies above the shadows' mean for that record. The deviation
  is pooled over all records, as the paper advises with few shadows. Per-record calibration
  is what lets it separate records that are merely easy from records that were memorised.

Each attack is scored by ROC AUC and by the true-positive rate at 0.1 % and 1 % false
positives, read off the ROC by linear interpolation. With fewer non-members than 1 / FPR the
rate cannot be resolved and is reported as 0.0 with the resolution beside it. Against a
label-only target the loss and confidence attacks reduce to "was the record classified
correctly".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from garrison.assets import Asset
from garrison.errors import UsageError
from garrison.findings import Finding, Location
from garrison.policy import Policy
from garrison.robustness.data import EvalData
from garrison.robustness.rules import MEMBERSHIP
from garrison.robustness.target import Array, Classifier, accuracy

ATTACKS = ("loss", "confidence", "shadow")
LOW_FPRS = (0.001, 0.01)
TINY = 1e-40  # probabilities are clipped here before logs; float32 softmax underflows near it

ShadowFactory = Callable[[EvalData], Classifier]


@dataclass(frozen=True, slots=True)
class AttackResult:
    name: str
    auc: float
    tpr_at_0_1_fpr: float  # true-positive rate at 0.1 % false positives (0.0 if unresolved)
    tpr_at_1_fpr: float  # at 1 %
    roc_fpr: tuple[float, ...]  # the ROC on a fixed grid of about 200 points, for plots
    roc_tpr: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "auc": round(self.auc, 4),
            "tpr_at_0.1%_fpr": round(self.tpr_at_0_1_fpr, 4),
            "tpr_at_1%_fpr": round(self.tpr_at_1_fpr, 4),
        }


@dataclass(frozen=True, slots=True)
class PrivacyResult:
    attacks: tuple[AttackResult, ...]
    train_accuracy: float  # target's accuracy on the audited members
    test_accuracy: float  # and on the audited non-members
    n_members: int
    n_non_members: int
    n_shadows: int  # shadow models trained (0 when the shadow attack did not run)
    skipped: tuple[str, ...]  # attacks asked for but not run, with the reason
    seconds: float

    @property
    def best(self) -> AttackResult:
        return max(self.attacks, key=lambda a: a.auc)

    @property
    def best_auc(self) -> float:
        return self.best.auc

    @property
    def accuracy_gap(self) -> float:
        return self.train_accuracy - self.test_accuracy

    @property
    def fpr_resolution(self) -> float:
        """The smallest false-positive rate the non-member sample can measure."""
        return 1.0 / self.n_non_members

    def attack(self, name: str) -> AttackResult:
        for attack in self.attacks:
            if attack.name == name:
                return attack
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        resolution = self.fpr_resolution
        return {
            "attacks": {a.name: a.to_dict() for a in self.attacks},
            "best_attack": self.best.name,
            "best_auc": round(self.best_auc, 4),
            "train_accuracy": round(self.train_accuracy, 4),
            "test_accuracy": round(self.test_accuracy, 4),
            "accuracy_gap": round(self.accuracy_gap, 4),
            "n_members": self.n_members,
            "n_non_members": self.n_non_members,
            "n_shadows": self.n_shadows,
            "fpr_resolution": resolution,
            "unresolved_fprs": [f for f in LOW_FPRS if f < resolution],
            "skipped": list(self.skipped),
            "seconds": round(self.seconds, 3),
        }

    def findings(self, policy: Policy, asset: Asset) -> list[Finding]:
        limit = policy.robustness.max_membership_auc
        best = self.best
        if best.auc <= limit:
            return []
        evidence = (
            f"{best.name} attack: ROC AUC {best.auc:.3f} (policy max {limit:.2f}), "
            f"TPR {best.tpr_at_0_1_fpr:.1%} at 0.1% FPR, {best.tpr_at_1_fpr:.1%} at 1% FPR; "
            f"accuracy {self.train_accuracy:.1%} on members vs {self.test_accuracy:.1%} on "
            f"non-members ({self.n_members} + {self.n_non_members} records)"
        )
        return [MEMBERSHIP.finding(asset, Location(path=asset.path), evidence)]


def membership_inference(
    target: Classifier,
    members: EvalData,
    non_members: EvalData,
    attacks: Sequence[str] = ATTACKS,
    shadow_data: EvalData | None = None,
    shadow_factory: ShadowFactory | None = None,
    n_shadows: int = 4,
    seed: int = 0,
    max_samples: int = 2000,
) -> PrivacyResult:
    """Run the membership-inference `attacks` on records known to be in the target's
    training set (`members`) and records known not to be (`non_members`).

    At most `max_samples` of each are drawn. The shadow attack needs `shadow_data` (records
    from the same distribution, in neither set) and `shadow_factory` (trains a model with the
    target's recipe); without them it is skipped and the reason recorded.
    """
    _check_arguments(members, non_members, attacks, n_shadows)
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    members = _sample(members, max_samples, rng)
    non_members = _sample(non_members, max_samples, rng)
    x = np.concatenate([members.x, non_members.x])
    y = np.concatenate([members.y, non_members.y])
    truth = np.concatenate([np.ones(len(members.y)), np.zeros(len(non_members.y))])
    proba = np.asarray(target.predict_proba(x), np.float64)
    results: list[AttackResult] = []
    skipped: list[str] = []
    shadows_run = 0
    for name in dict.fromkeys(attacks):
        if name == "loss":
            scores = np.log(np.clip(proba[np.arange(len(y)), y], TINY, 1.0))
        elif name == "confidence":
            scores = proba.max(axis=1)
        elif shadow_data is None or shadow_factory is None:
            skipped.append("shadow: needs shadow data and a shadow model factory")
            continue
        else:
            scores = _shadow_scores(proba, x, y, shadow_data, shadow_factory, n_shadows, seed)
            shadows_run = n_shadows
        results.append(score_attack(name, truth, scores))
    if not results:
        raise UsageError("no membership-inference attack could run: " + "; ".join(skipped))
    n_members = len(members.y)
    return PrivacyResult(
        attacks=tuple(results),
        train_accuracy=accuracy(target, members.x, members.y),
        test_accuracy=accuracy(target, non_members.x, non_members.y),
        n_members=n_members,
        n_non_members=len(non_members.y),
        n_shadows=shadows_run,
        skipped=tuple(skipped),
        seconds=time.perf_counter() - started,
    )


def score_attack(name: str, is_member: Array, scores: Array) -> AttackResult:
    """ROC AUC, low-FPR true-positive rates and a plotting grid for one attack's scores."""
    from sklearn.metrics import roc_auc_score, roc_curve

    scores = np.nan_to_num(np.asarray(scores, np.float64), nan=0.0, posinf=1e300, neginf=-1e300)
    fpr, tpr, _ = roc_curve(is_member, scores, drop_intermediate=False)
    n_non_members = int((np.asarray(is_member) == 0).sum())
    grid = np.unique(np.concatenate([np.geomspace(1e-4, 1.0, 100), np.linspace(0.0, 1.0, 101)]))
    return AttackResult(
        name=name,
        auc=float(roc_auc_score(is_member, scores)),
        tpr_at_0_1_fpr=tpr_at_fpr(fpr, tpr, LOW_FPRS[0], n_non_members),
        tpr_at_1_fpr=tpr_at_fpr(fpr, tpr, LOW_FPRS[1], n_non_members),
        roc_fpr=tuple(float(v) for v in grid),
        roc_tpr=tuple(float(v) for v in np.interp(grid, fpr, tpr)),
    )


def tpr_at_fpr(fpr: Array, tpr: Array, target: float, n_non_members: int) -> float:
    """The ROC's true-positive rate at false-positive rate `target` (the best at exactly
    `target`, else linear between the neighbouring thresholds); 0.0 when the non-member
    sample is too small to resolve `target`."""
    if n_non_members == 0 or target < 1.0 / n_non_members:
        return 0.0
    fpr, tpr = np.asarray(fpr, np.float64), np.asarray(tpr, np.float64)
    after = int(np.searchsorted(fpr, target, side="right"))  # first point beyond target
    if after == 0:
        return 0.0
    if after == len(fpr) or fpr[after - 1] == target:
        return float(tpr[after - 1])
    lo, hi = after - 1, after
    share = (target - fpr[lo]) / (fpr[hi] - fpr[lo])
    return float(tpr[lo] + share * (tpr[hi] - tpr[lo]))


def roc_png(result: PrivacyResult) -> bytes:
    """One ROC curve per attack, with the chance diagonal, as PNG bytes."""
    from garrison.robustness.plots import line_chart

    series: dict[str, tuple[Sequence[float], Sequence[float]]] = {
        f"{a.name} (AUC {a.auc:.3f})": (a.roc_fpr, a.roc_tpr) for a in result.attacks
    }
    return line_chart(
        series,
        "Membership inference",
        "false-positive rate (non-members called members)",
        "true-positive rate (members found)",
        diagonal=True,
    )


def _shadow_scores(
    target_proba: Array,
    x: Array,
    y: Array,
    shadow_data: EvalData,
    factory: ShadowFactory,
    n_shadows: int,
    seed: int,
) -> Array:
    """Offline LiRA: the target's logit-scaled true-class confidence, standardised against
    the same record's values on shadow models that never trained on it."""
    if len(shadow_data.y) < 4:
        raise UsageError("the shadow attack needs at least 4 shadow records")
    rng = np.random.default_rng(seed + 1)
    out = np.empty((n_shadows, len(y)))
    for k in range(n_shadows):
        half = rng.permutation(len(shadow_data.y))[: len(shadow_data.y) // 2]
        shadow = factory(shadow_data.subset(half))
        out[k] = _logit_confidence(np.asarray(shadow.predict_proba(x), np.float64), y)
    mean = out.mean(axis=0)
    spread = max(float(out.std(axis=0).mean()) if n_shadows > 1 else 1.0, 1e-6)
    scores: Array = (_logit_confidence(target_proba, y) - mean) / spread
    return scores


def _logit_confidence(proba: Array, y: Array) -> Array:
    """log(p_y / (1 - p_y)), with 1 - p_y summed from the other classes so that it does not
    round to zero when p_y is close to 1."""
    rows = np.arange(len(y))
    true = proba[rows, y]
    rest = proba.copy()
    rest[rows, y] = 0.0
    out: Array = np.log(np.clip(true, TINY, None)) - np.log(np.clip(rest.sum(axis=1), TINY, None))
    return out


def _sample(data: EvalData, limit: int, rng: np.random.Generator) -> EvalData:
    if len(data.y) <= limit:
        return data
    return data.subset(np.sort(rng.choice(len(data.y), limit, replace=False)))


def _check_arguments(
    members: EvalData, non_members: EvalData, attacks: Sequence[str], n_shadows: int
) -> None:
    unknown = [a for a in attacks if a not in ATTACKS]
    if unknown or not attacks:
        raise UsageError(
            f"unknown attack {unknown[0] if unknown else ''!r}; use {', '.join(ATTACKS)}"
        )
    if len(members.y) == 0 or len(non_members.y) == 0:
        raise UsageError("membership inference needs at least one member and one non-member")
    if n_shadows < 1:
        raise UsageError("the shadow attack needs at least one shadow model")
