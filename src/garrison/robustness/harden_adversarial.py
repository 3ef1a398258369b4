"""PGD adversarial training (Madry et al., 2018): retrain a PyTorch model on attacked batches
and measure clean and PGD accuracy before and after."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from garrison.errors import MissingExtraError, UsageError
from garrison.robustness.data import EvalData
from garrison.robustness.evasion import evaluate_evasion, pgd_tensor
from garrison.robustness.models import fit
from garrison.robustness.target import TorchClassifier, accuracy, import_torch


@dataclass(frozen=True)
class HardenResult:
    eps: float
    epochs: int
    steps: int
    mix: float
    samples: int  # test examples the accuracies are measured on
    before_clean: float
    before_adversarial: float  # PGD-Linf accuracy at `eps`
    after_clean: float
    after_adversarial: float
    seconds: float
    trained_baseline: bool  # the module came untrained and was first trained normally
    module: Any = field(repr=False, compare=False)  # the trained torch module

    def to_dict(self) -> dict[str, Any]:
        return {
            "eps": self.eps,
            "epochs": self.epochs,
            "steps": self.steps,
            "mix": self.mix,
            "samples": self.samples,
            "before": {
                "clean": round(self.before_clean, 4),
                "adversarial": round(self.before_adversarial, 4),
            },
            "after": {
                "clean": round(self.after_clean, 4),
                "adversarial": round(self.after_adversarial, 4),
            },
            "gain": round(self.after_adversarial - self.before_adversarial, 4),
            "trained_baseline": self.trained_baseline,
            "seconds": round(self.seconds, 3),
        }


def adversarial_training(
    module: Any,
    train: EvalData,
    test: EvalData,
    eps: float = 0.1,
    epochs: int = 30,
    steps: int = 10,
    mix: float = 0.5,
    seed: int = 0,
    lr: float = 1e-3,
    max_samples: int = 500,
    train_eps: float | None = None,
    pretrained: bool | None = None,
) -> HardenResult:
    """Train `module` (in place) on batches where a `mix` fraction of the examples is replaced
    by L-inf PGD examples. Training uses `train_eps` (default 1.25 x `eps`: the margin makes
    the model robust at `eps` itself), ramped up over the first third of the epochs so early
    training does not collapse to a constant guess. Accuracy is measured at `eps` on `test`.

    A module that is not `pretrained` is first trained normally for `epochs`: that model is
    the undefended baseline of the "before" numbers. None decides by its clean accuracy."""
    torch = import_torch()
    if not 0 < mix <= 1:
        raise UsageError(f"mix must be in (0, 1], not {mix}")
    if eps <= 0 or epochs < 1 or steps < 1:
        raise UsageError("adversarial training needs eps > 0, epochs >= 1 and steps >= 1")
    started = time.perf_counter()
    target = TorchClassifier(module, test.n_classes)
    if pretrained is None:
        pretrained = _looks_trained(target, test)
    if not pretrained:
        fit(module, train, epochs=epochs, lr=lr, seed=seed)
    before = evaluate_evasion(target, test, [eps], max_samples=max_samples, seed=seed, epsilon=eps)
    batch_size = 64
    budget_max = 1.25 * eps if train_eps is None else train_eps
    batches = math.ceil(len(train.y) / batch_size)
    ramp = max(1, epochs // 3) * batches
    generator = torch.Generator().manual_seed(seed)
    calls = [0]

    def attack_batch(xb: Any, yb: Any) -> Any:
        budget = budget_max * min(1.0, (calls[0] + 1) / ramp)
        calls[0] += 1
        count = max(1, round(mix * len(yb)))
        adv = pgd_tensor(
            target,
            xb[:count],
            yb[:count],
            budget,
            "inf",
            steps,
            2.5 * budget / steps,
            True,
            generator,
        )
        return torch.cat([adv, xb[count:]])

    fit(
        module,
        train,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        batch_hook=attack_batch,
    )
    after = evaluate_evasion(target, test, [eps], max_samples=max_samples, seed=seed, epsilon=eps)
    return HardenResult(
        eps=eps,
        epochs=epochs,
        steps=steps,
        mix=mix,
        samples=after.samples,
        before_clean=before.clean_accuracy,
        before_adversarial=before.accuracy_at(eps),
        after_clean=after.clean_accuracy,
        after_adversarial=after.accuracy_at(eps),
        seconds=time.perf_counter() - started,
        trained_baseline=not pretrained,
        module=module,
    )


def _looks_trained(target: TorchClassifier, test: EvalData) -> bool:
    """Better than always answering the most common class, with some margin."""
    majority = float(np.bincount(test.y, minlength=test.n_classes).max() / len(test.y))
    return accuracy(target, test.x, test.y) > majority + 0.05


def save_safetensors(module: Any, path: Path | str, arch: str | None = None) -> Path:
    """Write the module's weights (state dict only, no code) as a safetensors file; `arch`,
    the architecture that reads them back, goes into its metadata."""
    try:
        from safetensors.torch import save_file
    except ImportError:
        raise MissingExtraError("safetensors", "robustness") from None
    tensors = {
        name: value.detach().cpu().contiguous() for name, value in module.state_dict().items()
    }
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"format": "pt", "producer": "garrison", **({"arch": arch} if arch else {})}
    save_file(tensors, str(out), metadata=metadata)
    return out
