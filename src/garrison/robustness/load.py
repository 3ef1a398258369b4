"""Load a model under test the safe way: scan it first, then read weights, never pickles
unless the user explicitly allows it for a file whose scan is clean."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from garrison.errors import MissingExtraError, UsageError
from garrison.findings import Finding, Location, Severity
from garrison.policy import Policy
from garrison.robustness.rules import REFUSED
from garrison.robustness.target import (
    Classifier,
    OnnxClassifier,
    SklearnClassifier,
    TorchClassifier,
    import_torch,
)

BUILTIN_ARCHS = ("garrison:small_cnn", "garrison:mlp")
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")


class ModelRefused(UsageError):
    """The model's scan has findings at or above high; it was not loaded."""

    def __init__(self, path: Path, findings: list[Finding]) -> None:
        worst = max(f.severity for f in findings)
        super().__init__(
            f"{path}: refused before loading: {len(findings)} scan finding(s), worst {worst.value}"
        )
        self.findings = findings


def refusal_findings(path: Path, policy: Policy) -> list[Finding]:
    """The scan findings at or above high, plus the REFUSED finding, or [] when clean."""
    from garrison.assets import Asset
    from garrison.supplychain import scan_path

    report = scan_path([path], policy.model_copy(update={"require_approved": False}))
    serious = [f for f in report.findings if f.severity >= Severity.HIGH]
    if not serious:
        return []
    refused = REFUSED.finding(
        Asset.from_path(path),
        Location(path=str(path)),
        f"{len(serious)} finding(s) at or above high",
    )
    return [refused, *serious]


def load_target(
    path: Path,
    n_classes: int,
    policy: Policy,
    arch: str | None = None,
    n_features: int | None = None,
    allow_pickle: bool = False,
    input_shape: tuple[int, ...] | None = None,
) -> Classifier:
    """Scan `path`, then load it by format. Raises ModelRefused when the scan is not clean."""
    if not path.is_file():
        raise UsageError(f"no such model file: {path}")
    findings = refusal_findings(path, policy)
    if findings:
        raise ModelRefused(path, findings)
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return OnnxClassifier(str(path), n_classes, input_shape=input_shape)
    if suffix in PICKLE_SUFFIXES:
        if not allow_pickle:
            raise UsageError(
                f"{path} is a pickle: loading it runs code even when its scan is clean. Convert "
                "it to ONNX (skl2onnx), or pass --allow-pickle if you trust where it came from"
            )
        import joblib

        return SklearnClassifier(joblib.load(path), n_classes)
    if suffix in (".safetensors", ".pt", ".pth", ".bin"):
        if arch is None:
            raise UsageError(
                f"{path} holds weights only; name the architecture with --arch "
                f"({', '.join(BUILTIN_ARCHS)}, or module:function returning an nn.Module)"
            )
        module = build_module(arch, n_classes, n_features)
        try:
            module.load_state_dict(_state_dict(path))
        except RuntimeError as exc:  # missing, extra or mis-shaped tensors for this --arch
            reason = " ".join(str(exc).split())[:240]
            raise UsageError(f"{path} does not fit --arch {arch}: {reason}") from None
        module.eval()
        return TorchClassifier(module, n_classes)
    raise UsageError(f"{path}: use an .onnx, .safetensors or .pt (weights) model file")


def build_module(arch: str, n_classes: int, n_features: int | None = None) -> Any:
    """A fresh module from a built-in architecture or the user's own `module:function`."""
    from garrison.robustness import models

    if arch == "garrison:small_cnn":
        return models.small_cnn(n_classes)
    if arch == "garrison:mlp":
        if n_features is None:
            raise UsageError("garrison:mlp needs the number of input features (from the data)")
        return models.mlp(n_features, n_classes)
    factory = _import_factory(arch)
    try:
        return factory(n_classes)
    except TypeError:
        return factory()


def _import_factory(arch: str) -> Callable[..., Any]:
    module_name, _, attr = arch.partition(":")
    if not module_name or not attr:
        raise UsageError(f"--arch must be module:function or one of {', '.join(BUILTIN_ARCHS)}")
    try:
        # The user's own code, named on their command line: trusted like any import.
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"cannot import {arch}: {exc}") from None
    if not callable(factory):
        raise UsageError(f"{arch} is not callable")
    result: Callable[..., Any] = factory
    return result


def _state_dict(path: Path) -> Any:
    torch = import_torch()
    if path.suffix.lower() == ".safetensors":
        try:
            from safetensors.torch import load_file
        except ImportError:
            raise MissingExtraError("safetensors", "robustness") from None
        try:
            return load_file(str(path))
        except Exception as exc:  # SafetensorError and friends: a corrupt or truncated file
            raise UsageError(f"{path}: not a readable safetensors file ({exc})") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # weights_only refuses anything but tensors, in many ways
        raise UsageError(f"{path}: not a plain state dict ({type(exc).__name__})") from None
    if not isinstance(state, dict):
        raise UsageError(f"{path}: expected a state dict of tensors")
    return state
