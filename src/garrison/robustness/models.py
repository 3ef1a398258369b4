"""Small PyTorch models and one training loop, for tests, benchmarks and hardening.

They train in seconds on CPU from scikit-learn's bundled data; nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from garrison.robustness.data import EvalData
from garrison.robustness.target import Array, TorchClassifier, import_torch

# An optional hook that turns a clean batch into the batch to train on (adversarial training).
BatchHook = Callable[[Any, Any], Any]


def small_cnn(n_classes: int = 10, channels: int = 1, side: int = 8) -> Any:
    """Two conv layers and a linear head; about 20k parameters for 8x8 digits."""
    torch = import_torch()
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(channels, 16, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * (side // 2) * (side // 2), 64),
        nn.ReLU(),
        nn.Linear(64, n_classes),
    )


def mlp(n_features: int, n_classes: int, hidden: int = 128, depth: int = 2) -> Any:
    torch = import_torch()
    nn = torch.nn
    layers: list[Any] = [nn.Flatten()]
    width = n_features
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    layers.append(nn.Linear(width, n_classes))
    return nn.Sequential(*layers)


def fit(
    module: Any,
    data: EvalData,
    epochs: int = 30,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    batch_hook: BatchHook | None = None,
) -> TorchClassifier:
    """Train `module` with Adam and cross-entropy; returns it wrapped as a classifier."""
    torch = import_torch()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x = torch.as_tensor(np.asarray(data.x, np.float32))
    y = torch.as_tensor(np.asarray(data.y, np.int64))
    optimiser = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(epochs):
        module.train()
        order = rng.permutation(len(y))
        for start in range(0, len(order), batch_size):
            idx = torch.as_tensor(order[start : start + batch_size])
            xb, yb = x[idx], y[idx]
            if batch_hook is not None:
                module.eval()
                xb = batch_hook(xb, yb)
                module.train()
            optimiser.zero_grad()
            loss = loss_fn(module(xb), yb)
            loss.backward()
            optimiser.step()
    module.eval()
    return TorchClassifier(module, data.n_classes)


def per_example_loss(target: TorchClassifier, x: Array, y: Array) -> Array:
    """Cross-entropy of each example: the signal of loss-based membership inference."""
    torch = import_torch()
    target.module.eval()
    with torch.no_grad():
        logits = target.logits(torch.as_tensor(np.asarray(x, np.float32)))
        losses = torch.nn.functional.cross_entropy(
            logits, torch.as_tensor(np.asarray(y, np.int64)), reduction="none"
        )
    out: Array = losses.numpy()
    return out
