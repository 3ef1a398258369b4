"""Model inversion (MI-Face style): recover a representative input of each class from a
differentiable image model, and score how much it resembles that class's training images.

For each class, gradient ascent on the input maximises the class logit, with total-variation
and L2 penalties that keep the image smooth and dim, clipped to the model's input range. The
reconstruction is compared with the mean image of every class by cosine similarity of the
deviations from the overall data mean: raw cosine between non-negative images is high for any
pair, while the centred one measures the class-specific shape. A class is "identifiable" when
its own mean is the best match.
"""

from __future__ import annotations

import io
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from garrison.assets import Asset
from garrison.errors import MissingExtraError, UsageError
from garrison.findings import Finding, Location
from garrison.policy import Policy
from garrison.robustness.data import EvalData
from garrison.robustness.rules import INVERSION
from garrison.robustness.target import Array, Classifier, TorchClassifier, import_torch

STARTS = ("grey", "mean")


@dataclass(frozen=True, slots=True)
class ClassInversion:
    label: int
    similarity: float  # to the mean image of this class
    best_other: int  # the other class whose mean is most similar
    other_similarity: float
    mean_other_similarity: float  # average over the other classes
    confidence: float  # the model's probability of `label` for the reconstruction

    @property
    def identifiable(self) -> bool:
        return self.similarity > self.other_similarity

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "similarity": round(self.similarity, 4),
            "best_other": self.best_other,
            "other_similarity": round(self.other_similarity, 4),
            "mean_other_similarity": round(self.mean_other_similarity, 4),
            "identifiable": self.identifiable,
            "confidence": round(self.confidence, 4),
        }


@dataclass(frozen=True, slots=True)
class InversionResult:
    classes: tuple[ClassInversion, ...]
    reconstructions: Array  # (K, *image_shape), one per class in `classes`
    class_means: Array  # (K, *image_shape), the mean data image of each class
    steps: int
    seconds: float

    @property
    def mean_similarity(self) -> float:
        return float(np.mean([c.similarity for c in self.classes])) if self.classes else 0.0

    @property
    def identifiable(self) -> int:
        return sum(c.identifiable for c in self.classes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "classes": [c.to_dict() for c in self.classes],
            "mean_similarity": round(self.mean_similarity, 4),
            "identifiable": self.identifiable,
            "steps": self.steps,
            "seconds": round(self.seconds, 3),
        }

    def findings(self, policy: Policy, asset: Asset) -> list[Finding]:
        limit = policy.robustness.max_inversion_similarity
        if self.mean_similarity <= limit:
            return []
        evidence = (
            f"reconstructions resemble their class's mean training image with similarity "
            f"{self.mean_similarity:.2f} on average (policy: at most {limit:.2f}); "
            f"{self.identifiable} of {len(self.classes)} classes identifiable"
        )
        return [INVERSION.finding(asset, Location(path=asset.path), evidence)]


def invert_classes(
    target: Classifier,
    data: EvalData,
    classes: Sequence[int] | None = None,
    steps: int = 200,
    lr: float = 0.1,
    tv_weight: float = 0.05,
    l2_weight: float = 0.2,
    start: str = "grey",
    seed: int = 0,
) -> InversionResult:
    """Reconstruct one input per class by gradient ascent on its logit, and score it."""
    if not isinstance(target, TorchClassifier):
        raise UsageError("inversion needs a differentiable PyTorch model")
    if start not in STARTS:
        raise UsageError(f"unknown start {start!r}; use one of {', '.join(STARTS)}")
    wanted = list(range(data.n_classes)) if classes is None else [int(c) for c in classes]
    present = set(np.unique(data.y).tolist())
    missing = [c for c in wanted if c not in present]
    if missing:
        raise UsageError(f"no data of class {missing[0]} to compare its reconstruction with")
    started = time.perf_counter()
    x = np.asarray(data.x, np.float32)
    means = np.stack([x[data.y == c].mean(axis=0) for c in range(data.n_classes) if c in present])
    labels = [c for c in range(data.n_classes) if c in present]
    initial = x.mean(axis=0) if start == "mean" else np.full(x.shape[1:], 0.5, np.float32)
    images, confidences = _ascend(target, initial, wanted, steps, lr, tv_weight, l2_weight, seed)
    scores = _similarities(images, means, x.mean(axis=0))
    results = tuple(
        _score(label, scores[i], labels, float(confidences[i])) for i, label in enumerate(wanted)
    )
    return InversionResult(
        classes=results,
        reconstructions=images,
        class_means=means[[labels.index(c) for c in wanted]],
        steps=steps,
        seconds=time.perf_counter() - started,
    )


def _ascend(
    target: TorchClassifier,
    initial: Array,
    classes: list[int],
    steps: int,
    lr: float,
    tv_weight: float,
    l2_weight: float,
    seed: int,
) -> tuple[Array, Array]:
    """All classes at once: one batch row per class, each pushed toward its own logit."""
    torch = import_torch()
    torch.manual_seed(seed)
    low, high = target.clip
    batch = np.repeat(initial[None], len(classes), axis=0)
    image = torch.tensor(batch, requires_grad=True)
    wanted = torch.as_tensor(classes)
    optimiser = torch.optim.Adam([image], lr=lr)
    target.module.eval()
    for _ in range(steps):
        optimiser.zero_grad()
        logits = target.logits(image)
        chosen = logits.gather(1, wanted[:, None]).squeeze(1)
        loss = -chosen.sum() + tv_weight * _total_variation(image) + l2_weight * image.pow(2).sum()
        loss.backward()
        optimiser.step()
        with torch.no_grad():
            image.clamp_(low, high)
    with torch.no_grad():
        probs = torch.softmax(target.logits(image), dim=1).gather(1, wanted[:, None]).squeeze(1)
    return image.detach().numpy().astype(np.float32), probs.numpy()


def _total_variation(image: Any) -> Any:
    """Sum of absolute differences between neighbouring pixels along the last two axes."""
    if image.dim() < 3:
        return image.new_zeros(())
    down = (image[..., 1:, :] - image[..., :-1, :]).abs().sum()
    right = (image[..., :, 1:] - image[..., :, :-1]).abs().sum()
    return down + right


def _similarities(images: Array, means: Array, centre: Array) -> Array:
    """(K, M) cosine similarity of each reconstruction to each class mean, both centred."""
    a = (images - centre).reshape(len(images), -1)
    b = (means - centre).reshape(len(means), -1)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-8)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-8)
    out: Array = a @ b.T
    return out


def _score(label: int, row: Array, labels: list[int], confidence: float) -> ClassInversion:
    own = labels.index(label)
    others = [i for i in range(len(labels)) if i != own]
    best = max(others, key=lambda i: row[i]) if others else own
    return ClassInversion(
        label=label,
        similarity=float(row[own]),
        best_other=labels[best],
        other_similarity=float(row[best]) if others else 0.0,
        mean_other_similarity=float(np.mean(row[others])) if others else 0.0,
        confidence=confidence,
    )


def grid_png(result: InversionResult) -> bytes:
    """Two rows: each class's reconstruction above its mean training image. PNG bytes."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError("matplotlib", "robustness") from None
    count = max(len(result.classes), 1)
    fig, axes = plt.subplots(2, count, figsize=(1.2 * count + 1, 3), dpi=100, squeeze=False)
    try:
        for i, item in enumerate(result.classes):
            for row, (image, caption) in enumerate(
                (
                    (result.reconstructions[i], f"{item.label}: {item.similarity:.2f}"),
                    (result.class_means[i], "class mean"),
                )
            ):
                axes[row][i].imshow(_displayable(image), cmap="gray", vmin=0.0, vmax=1.0)
                axes[row][i].set_title(caption, fontsize=8)
                axes[row][i].axis("off")
        fig.suptitle("Model inversion: reconstruction (top) and class mean (bottom)", fontsize=9)
        buffer = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(fig)


def _displayable(image: Array) -> Array:
    """(C, H, W) to (H, W) or (H, W, 3), scaled to [0, 1] for imshow."""
    picture = np.asarray(image, np.float32)
    if picture.ndim == 3:
        picture = picture[0] if picture.shape[0] == 1 else np.moveaxis(picture[:3], 0, -1)
    elif picture.ndim == 1:
        side = int(np.ceil(np.sqrt(picture.size)))
        picture = np.pad(picture, (0, side * side - picture.size)).reshape(side, side)
    low, high = float(picture.min()), float(picture.max())
    scaled: Array = (picture - low) / (high - low) if high > low else picture * 0
    return scaled
