"""Hardening with differential privacy: train with DP-SGD through Opacus and compare the
result with the same recipe trained without privacy.

Both models are built by `module_factory`, trained with Adam and cross-entropy for the same
epochs, batch size and learning rate; the private one clips each example's gradient to
`max_grad_norm` and adds Gaussian noise calibrated by Opacus's RDP accountant so that the
whole run spends at most `target_epsilon` at `delta` (Poisson-sampled batches). The report
gives the spent (epsilon, delta), the clean test accuracy of both, and the
membership-inference AUC of both (loss and confidence attacks, members drawn from the
training set, non-members from the test set).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from garrison.assets import Asset
from garrison.errors import MissingExtraError, UsageError
from garrison.findings import Finding
from garrison.policy import Policy
from garrison.robustness.data import EvalData
from garrison.robustness.models import fit
from garrison.robustness.privacy import PrivacyResult, membership_inference
from garrison.robustness.target import TorchClassifier, accuracy, import_torch

ModuleFactory = Callable[[], Any]
AUDIT_ATTACKS = ("loss", "confidence")


@dataclass(frozen=True, slots=True)
class DPResult:
    epsilon: float  # spent, per the accountant, at `delta`
    delta: float
    target_epsilon: float
    noise_multiplier: float
    max_grad_norm: float
    epochs: int
    batch_size: int
    lr: float
    accuracy_before: float  # clean test accuracy of the non-private model
    accuracy_after: float  # and of the private one
    privacy_before: PrivacyResult
    privacy_after: PrivacyResult
    n_classes: int
    seconds: float
    module: Any = field(repr=False, compare=False)  # the private model, a plain nn.Module
    state_dict: dict[str, Any] = field(repr=False, compare=False)  # its weights, no "_module."

    @property
    def classifier(self) -> TorchClassifier:
        """The private model, ready for further tests."""
        return TorchClassifier(self.module, self.n_classes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "epsilon": round(self.epsilon, 4),
            "delta": self.delta,
            "target_epsilon": self.target_epsilon,
            "noise_multiplier": round(self.noise_multiplier, 4),
            "max_grad_norm": self.max_grad_norm,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "accountant": "rdp",
            "before": _side(self.accuracy_before, self.privacy_before),
            "after": _side(self.accuracy_after, self.privacy_after),
            "seconds": round(self.seconds, 3),
        }

    def findings(self, policy: Policy, asset: Asset) -> list[Finding]:
        """Membership findings that remain on the private model."""
        return self.privacy_after.findings(policy, asset)


def dp_training(
    module_factory: ModuleFactory,
    train: EvalData,
    test: EvalData,
    target_epsilon: float = 3.0,
    delta: float | None = None,
    epochs: int = 20,
    max_grad_norm: float = 1.0,
    batch_size: int = 128,
    lr: float = 1e-2,
    seed: int = 0,
    audit_samples: int = 1000,
) -> DPResult:
    """Train `module_factory()` with DP-SGD and, for comparison, without; audit both.

    `delta` defaults to min(1e-5, 1 / n ** 1.1) for n training records: well below 1 / n,
    so that the guarantee does not allow leaking a whole record.
    """
    _check_arguments(train, test, target_epsilon, delta, epochs, max_grad_norm, batch_size)
    started = time.perf_counter()
    _check_module(module_factory())
    delta = default_delta(len(train.y)) if delta is None else delta
    baseline = fit(module_factory(), train, epochs, batch_size, lr, seed=seed)
    module, epsilon, noise = _train_private(
        module_factory, train, target_epsilon, delta, epochs, max_grad_norm, batch_size, lr, seed
    )
    private = TorchClassifier(module, train.n_classes)
    return DPResult(
        epsilon=epsilon,
        delta=delta,
        target_epsilon=target_epsilon,
        noise_multiplier=noise,
        max_grad_norm=max_grad_norm,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        accuracy_before=accuracy(baseline, test.x, test.y),
        accuracy_after=accuracy(private, test.x, test.y),
        privacy_before=_audit(baseline, train, test, seed, audit_samples),
        privacy_after=_audit(private, train, test, seed, audit_samples),
        n_classes=train.n_classes,
        seconds=time.perf_counter() - started,
        module=module,
        state_dict=module.state_dict(),
    )


def default_delta(n_records: int) -> float:
    bound: float = max(n_records, 1) ** -1.1
    return min(1e-5, bound)


def import_opacus() -> Any:
    try:
        import opacus
        from opacus.validators import ModuleValidator  # noqa: F401
    except ImportError:
        raise MissingExtraError("opacus", "robustness") from None
    return opacus


def _train_private(
    module_factory: ModuleFactory,
    train: EvalData,
    target_epsilon: float,
    delta: float,
    epochs: int,
    max_grad_norm: float,
    batch_size: int,
    lr: float,
    seed: int,
) -> tuple[Any, float, float]:
    """DP-SGD with Adam; returns a fresh module holding the private weights, the spent
    epsilon and the noise multiplier."""
    opacus = import_opacus()
    torch = import_torch()
    torch.manual_seed(seed)  # Opacus draws its noise from torch's global generator
    module = module_factory()
    dataset = torch.utils.data.TensorDataset(
        torch.as_tensor(np.asarray(train.x, np.float32)),
        torch.as_tensor(np.asarray(train.y, np.int64)),
    )
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, generator=torch.Generator().manual_seed(seed)
    )
    optimiser = torch.optim.Adam(module.parameters(), lr=lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # secure-RNG and hook notices, not the user's concern
        engine = opacus.PrivacyEngine(accountant="rdp")
        try:
            wrapped, optimiser, loader = engine.make_private_with_epsilon(
                module=module,
                optimizer=optimiser,
                data_loader=loader,
                target_epsilon=target_epsilon,
                target_delta=delta,
                epochs=epochs,
                max_grad_norm=max_grad_norm,
            )
        except ValueError as exc:  # Opacus finds no noise level that reaches the budget
            raise UsageError(
                f"epsilon {target_epsilon:g} cannot be reached in {epochs} epochs on "
                f"{len(train.x)} records ({exc}); raise --target-epsilon or lower --epochs"
            ) from None
        _run_epochs(torch, wrapped, optimiser, loader, epochs)
    weights = {
        k.removeprefix("_module."): v.detach().clone() for k, v in wrapped.state_dict().items()
    }
    clean = module_factory()
    clean.load_state_dict(weights)
    clean.eval()
    return clean, float(engine.get_epsilon(delta)), float(optimiser.noise_multiplier)


def _check_module(module: Any) -> None:
    """Refuse, before any training, layers Opacus cannot give per-example gradients for."""
    opacus = import_opacus()
    errors = opacus.validators.ModuleValidator.validate(module, strict=False)
    if errors:
        raise UsageError(f"Opacus cannot train this model privately: {errors[0]}")


def _run_epochs(torch: Any, module: Any, optimiser: Any, loader: Any, epochs: int) -> None:
    loss_fn = torch.nn.CrossEntropyLoss()
    module.train()
    for _ in range(epochs):
        for xb, yb in loader:
            if len(yb) == 0:  # Poisson sampling can draw an empty batch
                continue
            optimiser.zero_grad()
            loss_fn(module(xb), yb).backward()
            optimiser.step()
    module.eval()


def _audit(
    target: TorchClassifier, train: EvalData, test: EvalData, seed: int, samples: int
) -> PrivacyResult:
    return membership_inference(
        target, train, test, attacks=AUDIT_ATTACKS, seed=seed, max_samples=samples
    )


def _side(test_accuracy: float, privacy: PrivacyResult) -> dict[str, Any]:
    return {
        "test_accuracy": round(test_accuracy, 4),
        "membership_auc": round(privacy.best_auc, 4),
        "privacy": privacy.to_dict(),
    }


def _check_arguments(
    train: EvalData,
    test: EvalData,
    target_epsilon: float,
    delta: float | None,
    epochs: int,
    max_grad_norm: float,
    batch_size: int,
) -> None:
    if len(train.y) < 2 or len(test.y) == 0:
        raise UsageError("DP training needs at least 2 training records and a test set")
    if target_epsilon <= 0:
        raise UsageError("the target epsilon must be positive")
    if delta is not None and not 0 < delta < 1:
        raise UsageError("delta must lie strictly between 0 and 1")
    if epochs < 1 or batch_size < 1 or max_grad_norm <= 0:
        raise UsageError("epochs, batch size and max gradient norm must be positive")
