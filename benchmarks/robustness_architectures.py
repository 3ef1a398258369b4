"""Is PGD at eps = 0.1 under 10% on load_digits a property of the attack or of the model?

    .venv/bin/python benchmarks/robustness_architectures.py

Trains five ordinary, undefended CNNs on the bundled 8x8 digits (inputs in [0, 1], the same
70/30 split as benchmarks/robustness.py) and attacks each with Garrison's PGD (L-inf, 40 steps,
as in the main benchmark) and with a stronger check: a sample counts as robust only if it also
survives a margin (Carlini-Wagner style) loss PGD, 100 steps, in each of 5 random restarts. Writes
benchmarks/results/robustness_architectures.json. No claims are checked; it is a study.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "robustness_architectures.json"
EPS = 0.1
SEED = 0


def _models(train_x: Any) -> dict[str, tuple[Callable[[], Any], int]]:
    import torch
    from _robustness_evasion import standardised_cnn

    from garrison.robustness.models import small_cnn

    nn = torch.nn

    def lenet() -> Any:  # the Keras MNIST example's shape, for 8x8 inputs
        return nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 16, 128), nn.ReLU(),
            nn.Linear(128, 10),
        )  # fmt: skip

    def tiny() -> Any:
        return nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(8 * 16, 10),
        )  # fmt: skip

    return {
        "garrison small_cnn, 30 epochs": (lambda: small_cnn(10), 30),
        "garrison small_cnn, 100 epochs": (lambda: small_cnn(10), 100),
        "LeNet-style 32-64-128, 30 epochs": (lenet, 30),
        "tiny 8-channel, 30 epochs": (tiny, 30),
        # the same small CNN behind StandardScaler's per-pixel z-score (inputs still [0, 1])
        "per-pixel z-score + garrison small_cnn, 30 epochs": (
            lambda: standardised_cnn(train_x),
            30,
        ),
    }


def _margin_pgd(module: Any, x: Any, y: Any, steps: int = 100, restarts: int = 5) -> Any:
    """Which samples survive a margin-loss PGD with restarts (every restart must fail)."""
    import torch

    xs, ys = torch.tensor(x), torch.tensor(y)
    robust = torch.ones(len(xs), dtype=torch.bool)
    generator = torch.Generator().manual_seed(SEED)
    module.eval()
    for _ in range(restarts):
        adv = (xs + (torch.rand(xs.shape, generator=generator) * 2 - 1) * EPS).clamp(0, 1)
        for step in range(steps):
            adv.requires_grad_(True)
            logits = module(adv)
            true = logits.gather(1, ys[:, None])[:, 0]
            other = logits.clone()
            other[torch.arange(len(ys)), ys] = -1e9
            loss = (other.max(1).values - true).sum()
            (grad,) = torch.autograd.grad(loss, adv)
            size = 2.5 * EPS / steps * (1.0 if step < steps // 2 else 0.3)
            adv = (adv.detach() + size * grad.sign()).clamp(xs - EPS, xs + EPS).clamp(0, 1)
        with torch.no_grad():
            robust &= module(adv).argmax(1) == ys
    return robust.numpy()


def main() -> None:
    import torch

    from garrison.robustness import evasion
    from garrison.robustness.data import load_bundled
    from garrison.robustness.models import fit
    from garrison.robustness.target import accuracy, predict

    torch.set_num_threads(1)
    train, test = load_bundled("digits").split(0.7, seed=SEED)
    rows = []
    for name, (make, epochs) in _models(train.x).items():
        torch.manual_seed(SEED)
        started = time.perf_counter()
        target = fit(make(), train, epochs=epochs, seed=SEED)
        adv = evasion.pgd(target, test.x, test.y, EPS, steps=40, step_size=2.5 * EPS / 40)
        survives_pgd = predict(target, adv) == test.y
        survives_both = survives_pgd & _margin_pgd(target.module, test.x, test.y)
        row = {
            "model": name,
            "clean_accuracy": round(accuracy(target, test.x, test.y), 4),
            "pgd40_accuracy": round(float(survives_pgd.mean()), 4),
            # a sample counts only if it survives PGD-40 and all five margin restarts
            "worst_case_accuracy": round(float(survives_both.mean()), 4),
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(row, flush=True)
        rows.append(row)
    out = {
        "command": ".venv/bin/python benchmarks/robustness_architectures.py",
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "eps": EPS,
        "samples": len(test.y),
        "models": rows,
    }
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
