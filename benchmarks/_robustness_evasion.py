"""Evasion benchmark: Garrison's PGD and FGSM against ART's on the same digits CNN, then
PGD adversarial training before and after. Called by the model-testing benchmark script.

`run(quick)` returns JSON-ready numbers and timings; it asserts nothing, the caller checks
the claims. Quick mode uses fewer samples and epochs and finishes in well under 30 s.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import numpy as np

EPS = 0.1  # L-inf, inputs in [0, 1]
PGD_STEPS = 40
PGD_STEP_SIZE = 2.5 * EPS / PGD_STEPS
SEED = 0


def run(quick: bool, standardised: bool = False) -> dict[str, Any]:
    """The digits CNN on inputs scaled to [0, 1]; `standardised` puts a per-pixel z-score
    (what scikit-learn's StandardScaler does) in front of the same CNN."""
    import torch

    threads = torch.get_num_threads()
    # A 20k-parameter CNN runs fastest on one thread, and both tools get the same.
    torch.set_num_threads(1)
    try:
        return _run(quick, standardised)
    finally:
        torch.set_num_threads(threads)


def standardised_cnn(x: Any) -> Any:
    """small_cnn behind a per-pixel z-score fitted on `x`; zero-variance pixels keep scale 1.

    Inputs and epsilon stay in [0, 1] units: the z-score is part of the model, so near-constant
    border pixels (std of a few hundredths) turn a 0.1 change into several standard deviations.
    """
    import torch

    from garrison.robustness.models import small_cnn

    class Standardise(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            data = torch.as_tensor(np.asarray(x, np.float32))
            std = data.std(0, unbiased=False)
            self.register_buffer("mean", data.mean(0))
            self.register_buffer("scale", torch.where(std > 0, std, torch.ones_like(std)))

        def forward(self, v: Any) -> Any:
            return (v - self.mean) / self.scale

    return torch.nn.Sequential(Standardise(), small_cnn(10))


def _run(quick: bool, standardised: bool) -> dict[str, Any]:
    import torch

    from garrison.robustness.data import load_bundled
    from garrison.robustness.models import fit, small_cnn
    from garrison.robustness.target import accuracy

    torch.manual_seed(SEED)
    train, test = load_bundled("digits").split(0.7, seed=SEED)
    epochs = 10 if quick else 30
    started = time.perf_counter()
    module = standardised_cnn(train.x) if standardised else small_cnn(10)
    target = fit(module, train, epochs=epochs, seed=SEED)
    train_seconds = time.perf_counter() - started
    samples = 200 if quick else len(test.y)
    x, y = test.x[:samples], test.y[:samples]
    clean = accuracy(target, x, y)
    return {
        "dataset": "sklearn:digits (1x8x8, scaled to [0, 1]), 70/30 stratified split",
        "model": "per-pixel z-score + garrison small_cnn" if standardised else "garrison small_cnn",
        "quick": quick,
        "train_epochs": epochs,
        "train_seconds": round(train_seconds, 3),
        "samples": samples,
        "eps": EPS,
        "clean_accuracy": round(clean, 4),
        "pgd": _compare(target, x, y, "pgd"),
        "fgsm": _compare(target, x, y, "fgsm"),
        "pgd_curve": _curve(target, test, samples),
        "adversarial_training": _harden(target.module, train, test, quick),
    }


def _compare(target: Any, x: Any, y: Any, attack: str) -> dict[str, Any]:
    """The same attack with the same settings, Garrison and ART, timed back to back."""
    from garrison.robustness import evasion

    def garrison_attack() -> Any:
        if attack == "fgsm":
            return evasion.fgsm(target, x, y, EPS)
        return evasion.pgd(
            target, x, y, EPS, steps=PGD_STEPS, step_size=PGD_STEP_SIZE, random_start=True
        )

    art_attack = _art_attack(target, attack)
    out = {
        "settings": _settings(attack),
        "garrison": _measure(target, x, y, garrison_attack),
        "art": _measure(target, x, y, lambda: art_attack.generate(x, y=y)),
    }
    out["success_gap_points"] = round(
        100 * abs(out["garrison"]["success_rate"] - out["art"]["success_rate"]), 2
    )
    out["speedup"] = round(out["art"]["seconds"] / max(out["garrison"]["seconds"], 1e-9), 2)
    return out


def _curve(target: Any, test: Any, samples: int) -> dict[str, Any]:
    """Garrison's robustness curve on the same model: where accuracy actually collapses."""
    from garrison.robustness.evasion import evaluate_evasion

    result = evaluate_evasion(
        target, test, [0.05, 0.1, 0.15, 0.2, 0.3], max_samples=samples, seed=SEED, epsilon=EPS
    )
    return result.to_dict()


def _settings(attack: str) -> dict[str, Any]:
    if attack == "fgsm":
        return {"norm": "inf", "eps": EPS}
    return {
        "norm": "inf",
        "eps": EPS,
        "eps_step": PGD_STEP_SIZE,
        "max_iter": PGD_STEPS,
        "num_random_init": 1,
        "batch_size": 256,
    }


def _art_attack(target: Any, attack: str) -> Any:
    import torch
    from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescent
    from art.estimators.classification import PyTorchClassifier

    classifier = PyTorchClassifier(
        model=target.module,
        loss=torch.nn.CrossEntropyLoss(),
        input_shape=(1, 8, 8),
        nb_classes=10,
        clip_values=(0.0, 1.0),
        device_type="cpu",
    )
    if attack == "fgsm":
        return FastGradientMethod(classifier, norm=np.inf, eps=EPS, batch_size=256)
    return ProjectedGradientDescent(
        classifier,
        norm=np.inf,
        eps=EPS,
        eps_step=PGD_STEP_SIZE,
        max_iter=PGD_STEPS,
        num_random_init=1,
        batch_size=256,
        verbose=False,
    )


def _measure(target: Any, x: Any, y: Any, attack: Callable[[], Any]) -> dict[str, Any]:
    from garrison.robustness.target import predict

    clean = predict(target, x) == y
    np.random.seed(SEED)  # ART's random start draws from numpy's global generator
    started = time.perf_counter()
    adv = np.asarray(attack(), np.float32)
    seconds = time.perf_counter() - started
    attacked = predict(target, adv) == y
    return {
        "accuracy": round(float(attacked.mean()), 4),
        "success_rate": round(float((clean & ~attacked).sum() / max(int(clean.sum()), 1)), 4),
        "max_linf": round(float(np.abs(adv - x).max()), 6),
        "seconds": round(seconds, 3),
    }


def _harden(module: Any, train: Any, test: Any, quick: bool) -> dict[str, Any]:
    from garrison.robustness.harden_adversarial import adversarial_training

    settings: dict[str, Any] = {
        "eps": EPS,
        "epochs": 4 if quick else 30,
        "steps": 5 if quick else 10,
    }
    result = adversarial_training(
        copy.deepcopy(module),
        train,
        test,
        max_samples=200 if quick else 500,
        pretrained=True,
        seed=SEED,
        **settings,
    )
    return result.to_dict()
