"""Evasion attacks and the robustness curve: accuracy of a model against the attack budget.

White-box FGSM and PGD (L-inf and L2) are torch-native and batched; targets without
gradients get ART's black-box attacks (`garrison.robustness.blackbox`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from garrison.assets import Asset
from garrison.errors import UsageError
from garrison.findings import Finding, Location
from garrison.policy import Policy
from garrison.robustness.data import EvalData
from garrison.robustness.rules import EVASION
from garrison.robustness.target import (
    Array,
    Classifier,
    TorchClassifier,
    import_torch,
    predict,
)

log = logging.getLogger(__name__)

NORMS = ("inf", "2")
ATTACKS = ("auto", "pgd", "fgsm", "square", "hopskipjump")
DEFAULT_EPSILONS = {
    "inf": (0.0, 0.02, 0.05, 0.1, 0.2, 0.3),
    "2": (0.0, 0.25, 0.5, 1.0, 1.5, 2.0),
}
_TINY = 1e-12


def fgsm(target: TorchClassifier, x: Array, y: Array, eps: float, norm: str = "inf") -> Array:
    """One gradient step of size `eps` (sign of the gradient for L-inf, its direction for L2)."""
    return pgd(target, x, y, eps, norm, steps=1, step_size=eps, random_start=False)


def pgd(
    target: TorchClassifier,
    x: Array,
    y: Array,
    eps: float,
    norm: str = "inf",
    steps: int = 40,
    step_size: float | None = None,
    random_start: bool = True,
    batch_size: int = 256,
    seed: int = 0,
) -> Array:
    """Projected gradient descent on the cross-entropy, untargeted; returns the last iterate,
    inside the `eps` ball around `x` and within `target.clip`."""
    torch = import_torch()
    _check_attack(norm, eps, steps)
    step = 2.5 * eps / steps if step_size is None else step_size
    generator = torch.Generator().manual_seed(seed)
    parts = []
    was_training = target.module.training
    target.module.eval()
    try:
        for start in range(0, len(x), batch_size):
            xb = torch.as_tensor(np.asarray(x[start : start + batch_size], np.float32))
            yb = torch.as_tensor(np.asarray(y[start : start + batch_size], np.int64))
            adv = pgd_tensor(target, xb, yb, eps, norm, steps, step, random_start, generator)
            parts.append(adv.numpy())
    finally:
        target.module.train(was_training)
    return np.concatenate(parts) if parts else np.asarray(x, np.float32).copy()


def pgd_tensor(
    target: TorchClassifier,
    x: Any,
    y: Any,
    eps: float,
    norm: str,
    steps: int,
    step_size: float,
    random_start: bool,
    generator: Any,
) -> Any:
    """PGD on one batch of tensors; the module's mode is left to the caller."""
    torch = import_torch()
    lo, hi = target.clip
    with torch.no_grad():
        adv = x.clone()
        if random_start and eps > 0:
            adv = _project(adv + _random_in_ball(x, eps, norm, generator), x, eps, norm, lo, hi)
    for _ in range(steps if eps > 0 else 0):
        adv.requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(target.logits(adv), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, adv)
        with torch.no_grad():
            adv = _project(adv.detach() + step_size * _direction(grad, norm), x, eps, norm, lo, hi)
    return adv.detach()


def _direction(grad: Any, norm: str) -> Any:
    if norm == "inf":
        return grad.sign()
    flat = grad.flatten(1).norm(dim=1).clamp_min(_TINY)
    return grad / flat.view(-1, *([1] * (grad.dim() - 1)))


def _project(adv: Any, x: Any, eps: float, norm: str, lo: float, hi: float) -> Any:
    delta = adv - x
    if norm == "inf":
        delta = delta.clamp(-eps, eps)
    else:
        size = delta.flatten(1).norm(dim=1).clamp_min(_TINY)
        factor = (eps / size).clamp(max=1.0)
        delta = delta * factor.view(-1, *([1] * (delta.dim() - 1)))
    return (x + delta).clamp(lo, hi)


def _random_in_ball(x: Any, eps: float, norm: str, generator: Any) -> Any:
    torch = import_torch()
    if norm == "inf":
        return (torch.rand(x.shape, generator=generator) * 2 - 1) * eps
    noise = torch.randn(x.shape, generator=generator)
    size = noise.flatten(1).norm(dim=1).clamp_min(_TINY)
    dims = x[0].numel()
    radius = eps * torch.rand(len(x), generator=generator) ** (1.0 / dims)
    return noise * (radius / size).view(-1, *([1] * (x.dim() - 1)))


def _check_attack(norm: str, eps: float, steps: int) -> None:
    if norm not in NORMS:
        raise UsageError(f"unknown norm {norm!r}; use inf or 2")
    if eps < 0:
        raise UsageError(f"epsilon must be at least 0, not {eps}")
    if steps < 1:
        raise UsageError(f"PGD needs at least one step, not {steps}")


@dataclass(frozen=True, slots=True)
class EvasionResult:
    """Accuracy under attack for each budget; `epsilons[0]` is 0, so `accuracy[0]` is clean."""

    attack: str  # e.g. "PGD-Linf"
    norm: str
    epsilons: tuple[float, ...]
    accuracy: tuple[float, ...]
    epsilon: float  # the budget the verdict is judged at (L2 results; L-inf uses the policy)
    success_rate: float  # correct predictions flipped by the attack at `epsilon`
    samples: int
    seconds: float
    queries: int | None = None  # model queries spent by a black-box attack

    @property
    def clean_accuracy(self) -> float:
        return self.accuracy[0]

    def accuracy_at(self, eps: float) -> float:
        """Accuracy at `eps`, interpolated between measured budgets when not measured."""
        xs = np.asarray(self.epsilons)
        if not xs.min() - 1e-9 <= eps <= xs.max() + 1e-9:
            raise UsageError(
                f"the robustness curve spans eps {xs.min():g}..{xs.max():g}; it does not reach "
                f"{eps:g}: add it to the epsilons"
            )
        return float(np.interp(eps, xs, np.asarray(self.accuracy)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "attack": self.attack,
            "norm": self.norm,
            "epsilons": list(self.epsilons),
            "accuracy": [round(a, 4) for a in self.accuracy],
            "clean_accuracy": round(self.clean_accuracy, 4),
            "epsilon": self.epsilon,
            "success_rate": round(self.success_rate, 4),
            "samples": self.samples,
            "seconds": round(self.seconds, 3),
            "queries": self.queries,
        }

    def findings(self, policy: Policy, asset: Asset) -> list[Finding]:
        limits = policy.robustness
        eps = limits.epsilon if self.norm == "inf" else self.epsilon
        attacked = self.accuracy_at(eps)
        if attacked >= limits.min_adversarial_accuracy:
            return []
        evidence = (
            f"accuracy {self.clean_accuracy:.2f} clean -> {attacked:.2f} under {self.attack} "
            f"eps={eps:g} ({self.samples} samples); the policy asks for at least "
            f"{limits.min_adversarial_accuracy:.2f}"
        )
        return [EVASION.finding(asset, Location(path=asset.path), evidence)]


def evaluate_evasion(
    target: Classifier,
    data: EvalData,
    epsilons: list[float] | tuple[float, ...] | None = None,
    norm: str = "inf",
    attack: str = "auto",
    max_samples: int = 500,
    seed: int = 0,
    epsilon: float = 0.1,
) -> EvasionResult:
    """Attack `target` at each budget in `epsilons` (0 and `epsilon` are always included)
    on up to `max_samples` examples of `data`. `attack` "auto" uses PGD when gradients are
    available, else Square (scores) or HopSkipJump (labels only)."""
    if norm not in NORMS:
        raise UsageError(f"unknown norm {norm!r}; use inf or 2")
    if attack not in ATTACKS:
        raise UsageError(f"unknown attack {attack!r}; use one of {', '.join(ATTACKS)}")
    budgets = sorted({0.0, float(epsilon), *(epsilons or DEFAULT_EPSILONS[norm])})
    if budgets[0] < 0:
        raise UsageError("epsilons must be at least 0")
    x, y = _sample(data, max_samples, seed)
    started = time.perf_counter()
    queries_before = getattr(target, "queries", None)
    # The first answers tell a black box that returns labels only from one with scores.
    clean = predict(target, x) == y
    kind = _choose(target, attack)
    if kind == "hopskipjump":
        correct = _minimal_curve(target, x, y, clean, budgets, norm)
    else:
        correct = [clean] + [
            predict(target, _attack(kind, target, x, y, eps, norm, seed)) == y
            for eps in budgets[1:]
        ]
    seconds = time.perf_counter() - started
    at = correct[budgets.index(float(epsilon))]
    flipped = float((clean & ~at).sum() / max(int(clean.sum()), 1))
    queries_after = getattr(target, "queries", None)
    queries = None
    if isinstance(queries_before, int) and isinstance(queries_after, int):
        queries = queries_after - queries_before
    name = {"pgd": "PGD", "fgsm": "FGSM", "square": "Square", "hopskipjump": "HopSkipJump"}[kind]
    return EvasionResult(
        attack=f"{name}-L{norm}",
        norm=norm,
        epsilons=tuple(budgets),
        accuracy=tuple(float(c.mean()) if len(c) else 0.0 for c in correct),
        epsilon=float(epsilon),
        success_rate=flipped,
        samples=len(y),
        seconds=seconds,
        queries=queries,
    )


def _choose(target: Classifier, attack: str) -> str:
    white_box = isinstance(target, TorchClassifier)
    if attack in ("pgd", "fgsm") and not white_box:
        raise UsageError(f"{attack} needs gradients: give a PyTorch model, or use attack auto")
    if attack == "square" and target.label_only:
        raise UsageError("the Square attack needs scores; this target returns labels only")
    if attack != "auto":
        return attack
    if white_box:
        return "pgd"
    return "hopskipjump" if target.label_only else "square"


def _sample(data: EvalData, max_samples: int, seed: int) -> tuple[Array, Array]:
    if len(data.y) == 0:
        raise UsageError(f"{data.name or 'the data'}: no examples to attack")
    if max_samples < 1:
        raise UsageError("max_samples must be at least 1")
    if len(data.y) <= max_samples:
        return np.asarray(data.x, np.float32), np.asarray(data.y, np.int64)
    index = np.sort(np.random.default_rng(seed).choice(len(data.y), max_samples, replace=False))
    return np.asarray(data.x[index], np.float32), np.asarray(data.y[index], np.int64)


def _attack(
    kind: str, target: Classifier, x: Array, y: Array, eps: float, norm: str, seed: int
) -> Array:
    from garrison.robustness import blackbox

    if kind == "pgd" and isinstance(target, TorchClassifier):
        return pgd(target, x, y, eps, norm, seed=seed)
    if kind == "fgsm" and isinstance(target, TorchClassifier):
        return fgsm(target, x, y, eps, norm)
    return blackbox.square_attack(target, x, y, eps, norm=norm, seed=seed)


def _minimal_curve(
    target: Classifier, x: Array, y: Array, clean: Array, budgets: list[float], norm: str
) -> list[Array]:
    """HopSkipJump looks for the smallest flipping change, so one run gives the whole curve:
    an example stays correct at eps when no adversarial example within eps was found."""
    from garrison.robustness import blackbox

    adv = blackbox.hop_skip_jump(target, x, y, norm=norm)
    flipped = predict(target, adv) != y
    order = np.inf if norm == "inf" else 2
    distance = np.linalg.norm((adv - x).reshape(len(x), -1), ord=order, axis=1)
    return [clean & ~(flipped & (distance <= eps + 1e-6)) for eps in budgets]


def curve_png(result: EvasionResult) -> bytes:
    """The robustness curve: accuracy against the attack budget."""
    from garrison.robustness.plots import line_chart

    return line_chart(
        {result.attack: (result.epsilons, result.accuracy)},
        f"Robustness curve ({result.attack}, {result.samples} samples)",
        f"epsilon (L{result.norm})",
        "accuracy",
    )
