"""Targets under test: one small interface over PyTorch, scikit-learn, ONNX and black boxes.

Every attack talks to a `Classifier`; white-box attacks additionally need `TorchClassifier`
for gradients. Inputs are float32 arrays shaped like the model expects, values within
`clip` (usually [0, 1]).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from garrison.errors import MissingExtraError, UsageError

if TYPE_CHECKING:
    import torch

Array = np.ndarray[Any, Any]


@runtime_checkable
class Classifier(Protocol):
    n_classes: int
    clip: tuple[float, float]
    label_only: bool

    def predict_proba(self, x: Array) -> Array:
        """(N, C) class probabilities (one-hot rows for label-only targets)."""
        ...


def predict(target: Classifier, x: Array) -> Array:
    labels: Array = np.asarray(target.predict_proba(x)).argmax(axis=1)
    return labels


def accuracy(target: Classifier, x: Array, y: Array) -> float:
    return float((predict(target, x) == y).mean()) if len(y) else 0.0


def import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise MissingExtraError("torch", "torch") from None
    return torch


@dataclass
class TorchClassifier:
    """A PyTorch module returning logits; gradients are available to white-box attacks."""

    module: torch.nn.Module
    n_classes: int
    clip: tuple[float, float] = (0.0, 1.0)
    batch_size: int = 512
    label_only: bool = field(default=False, init=False)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.module(x)
        return out

    def predict_proba(self, x: Array) -> Array:
        torch = import_torch()
        self.module.eval()
        parts = []
        with torch.no_grad():
            for start in range(0, len(x), self.batch_size):
                batch = torch.as_tensor(np.asarray(x[start : start + self.batch_size], np.float32))
                parts.append(torch.softmax(self.logits(batch), dim=1).numpy())
        return np.concatenate(parts) if parts else np.zeros((0, self.n_classes), np.float32)


@dataclass
class SklearnClassifier:
    """A fitted scikit-learn estimator with predict_proba (or predict, as label-only)."""

    estimator: Any
    n_classes: int
    clip: tuple[float, float] = (0.0, 1.0)
    label_only: bool = False

    def __post_init__(self) -> None:
        if not hasattr(self.estimator, "predict"):
            from garrison.errors import UsageError

            kind = type(self.estimator).__name__
            raise UsageError(f"the file holds a {kind}, not an estimator with predict()")
        if not hasattr(self.estimator, "predict_proba"):
            self.label_only = True

    def predict_proba(self, x: Array) -> Array:
        flat = np.asarray(x, np.float32).reshape(len(x), -1)
        if self.label_only:
            return _one_hot(np.asarray(self.estimator.predict(flat)), self.n_classes)
        proba = np.asarray(self.estimator.predict_proba(flat), np.float32)
        return _expand(proba, self.estimator, self.n_classes)


@dataclass
class OnnxClassifier:
    """An ONNX model through onnxruntime; the output named `probabilities` (or the last
    float output) is taken as scores and softmaxed when it is not a distribution."""

    path: str
    n_classes: int
    clip: tuple[float, float] = (0.0, 1.0)
    input_shape: tuple[int, ...] | None = None
    label_only: bool = False
    _session: Any = field(default=None, init=False, repr=False)

    def predict_proba(self, x: Array) -> Array:
        session = self._load()
        name = session.get_inputs()[0].name
        batch = np.asarray(x, np.float32)
        if self.input_shape is not None:
            batch = batch.reshape((len(batch), *self.input_shape))
        outputs = session.run(None, {name: batch})
        scores = _pick_scores(outputs, self.n_classes)
        return scores

    def _load(self) -> Any:
        if self._session is None:
            try:
                import onnxruntime
            except ImportError:
                raise MissingExtraError("onnxruntime", "onnx") from None
            try:
                self._session = onnxruntime.InferenceSession(
                    self.path, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:  # onnxruntime raises its own types for a bad model
                reason = str(exc).splitlines()[0][:200]
                raise UsageError(f"{self.path}: onnxruntime cannot load it ({reason})") from None
        return self._session


@dataclass
class FunctionClassifier:
    """A black box: any callable from a batch of inputs to scores (N, C) or labels (N,)."""

    function: Callable[[Array], Any]
    n_classes: int
    clip: tuple[float, float] = (0.0, 1.0)
    label_only: bool = False
    queries: int = field(default=0, init=False)

    def predict_proba(self, x: Array) -> Array:
        self.queries += len(x)
        out = np.asarray(self.function(np.asarray(x, np.float32)))
        if out.ndim == 1:
            self.label_only = True
            return _one_hot(out.astype(int), self.n_classes)
        if out.shape != (len(x), self.n_classes):
            raise UsageError(
                f"the target returned shape {out.shape}, expected ({len(x)}, {self.n_classes})"
            )
        return out.astype(np.float32)


def _one_hot(labels: Array, n_classes: int) -> Array:
    out = np.zeros((len(labels), n_classes), np.float32)
    out[np.arange(len(labels)), labels.astype(int)] = 1.0
    return out


def _expand(proba: Array, estimator: Any, n_classes: int) -> Array:
    """Estimators fitted on a subset of classes return fewer columns; put them in place."""
    classes = getattr(estimator, "classes_", None)
    if proba.shape[1] == n_classes or classes is None:
        return proba
    out = np.zeros((len(proba), n_classes), np.float32)
    out[:, np.asarray(classes, int)] = proba
    return out


def _pick_scores(outputs: list[Any], n_classes: int) -> Array:
    for out in outputs:
        if isinstance(out, list) and out and isinstance(out[0], dict):  # skl2onnx zipmap
            return np.array(
                [[row.get(c, 0.0) for c in range(n_classes)] for row in out], np.float32
            )
    floats = [np.asarray(o) for o in outputs if np.asarray(o).dtype.kind == "f"]
    if not floats:
        labels = np.asarray(outputs[0]).astype(int).reshape(-1)
        return _one_hot(labels, n_classes)
    scores = floats[-1].reshape(len(floats[-1]), -1).astype(np.float32)
    if np.all(scores >= 0) and np.allclose(scores.sum(axis=1), 1.0, atol=1e-3):
        return scores
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    softmax: Array = (shifted / shifted.sum(axis=1, keepdims=True)).astype(np.float32)
    return softmax
