"""Black-box evasion through ART: Square (needs scores) and HopSkipJump (labels only).

The target is only ever queried for predictions, so these work on scikit-learn, ONNX and
remote models alike. Default budgets are small: seconds on about a hundred examples.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from garrison.errors import MissingExtraError, UsageError
from garrison.robustness.target import Array, Classifier

log = logging.getLogger(__name__)

# ART's Square attack works on (C, H, W) images and draws square tiles that must be
# smaller than the side, so other inputs are laid out on a padded square of at least this.
_MIN_SIDE = 5


@dataclass(frozen=True, slots=True)
class _Layout:
    """How the target's inputs map onto the image ART attacks."""

    shape: tuple[int, ...]  # one input as the target takes it
    image: tuple[int, int, int]  # one input as ART sees it

    @classmethod
    def for_inputs(cls, x: Array) -> _Layout:
        shape = tuple(int(d) for d in x.shape[1:])
        if len(shape) == 3 and min(shape[1:]) >= _MIN_SIDE:
            return cls(shape, (shape[0], shape[1], shape[2]))
        side = max(_MIN_SIDE, math.ceil(math.sqrt(int(np.prod(shape)))))
        return cls(shape, (1, side, side))

    def to_image(self, x: Array) -> Array:
        flat = np.asarray(x, np.float32).reshape(len(x), -1)
        size = int(np.prod(self.image))
        padded = np.zeros((len(x), size), np.float32)
        padded[:, : flat.shape[1]] = flat
        return padded.reshape(len(x), *self.image)

    def from_image(self, image: Array) -> Array:
        size = int(np.prod(self.shape))
        flat = np.asarray(image, np.float32).reshape(len(image), -1)[:, :size]
        return flat.reshape(len(image), *self.shape)


def square_attack(
    target: Classifier,
    x: Array,
    y: Array,
    eps: float,
    norm: str = "inf",
    max_queries: int = 300,
    p_init: float = 0.3,
    seed: int = 0,
) -> Array:
    """Score-based random search within the `eps` ball (Andriushchenko et al., 2020)."""
    if target.label_only:
        raise UsageError("the Square attack needs scores; this target returns labels only")
    if eps <= 0:
        return np.asarray(x, np.float32).copy()
    attacks = _import_art()
    layout = _Layout.for_inputs(x)
    attack = attacks.SquareAttack(
        _art_classifier(target, layout),
        norm=_art_norm(norm),
        eps=eps,
        max_iter=max_queries,
        p_init=p_init,
        nb_restarts=1,
        batch_size=256,
        verbose=False,
    )
    with _seeded(seed):
        adv = attack.generate(layout.to_image(x), y=np.asarray(y, np.int64))
    return layout.from_image(adv)


def hop_skip_jump(
    target: Classifier,
    x: Array,
    y: Array,
    norm: str = "2",
    max_iter: int = 10,
    max_eval: int = 500,
    init_eval: int = 50,
    seed: int = 0,
) -> Array:
    """Label-only boundary search (Chen et al., 2020): finds, for each example, a small
    change that flips the label. Examples it cannot flip come back unchanged."""
    attacks = _import_art()
    layout = _Layout.for_inputs(x)
    attack = attacks.HopSkipJump(
        _art_classifier(target, layout),
        batch_size=256,
        targeted=False,
        norm=_art_norm(norm),
        max_iter=max_iter,
        max_eval=max_eval,
        init_eval=init_eval,
        verbose=False,
    )
    with _seeded(seed):
        adv = attack.generate(layout.to_image(x), y=np.asarray(y, np.int64))
    return layout.from_image(adv)


def _art_classifier(target: Classifier, layout: _Layout) -> Any:
    try:
        # The "neural network" flavour only declares the interface Square asks for;
        # it still just calls predict_fn.
        from art.estimators.classification import BlackBoxClassifierNeuralNetwork
    except ImportError:
        raise MissingExtraError("adversarial-robustness-toolbox", "robustness") from None

    def predict_fn(images: Array) -> Array:
        scores: Array = np.asarray(target.predict_proba(layout.from_image(images)), np.float32)
        return scores

    return BlackBoxClassifierNeuralNetwork(
        predict_fn,
        input_shape=layout.image,
        nb_classes=target.n_classes,
        channels_first=True,
        clip_values=target.clip,
    )


def _import_art() -> Any:
    try:
        import art.attacks.evasion as attacks
    except ImportError:
        raise MissingExtraError("adversarial-robustness-toolbox", "robustness") from None
    return attacks


def _art_norm(norm: str) -> Any:
    if norm not in ("inf", "2"):
        raise UsageError(f"unknown norm {norm!r}; use inf or 2")
    return np.inf if norm == "inf" else 2


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """ART draws from numpy's global generator; seed it for repeatable runs, then restore."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)
