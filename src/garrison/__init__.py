"""Garrison: security for machine-learning systems, from training data to runtime."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Asset",
    "Finding",
    "GarrisonError",
    "Location",
    "Policy",
    "Report",
    "Severity",
    "__version__",
    "load_policy",
    "scan_path",
]

if TYPE_CHECKING:
    from garrison.assets import Asset
    from garrison.errors import GarrisonError
    from garrison.findings import Finding, Location, Severity
    from garrison.policy import Policy, load_policy
    from garrison.report.model import Report
    from garrison.supplychain import scan_path

_LAZY = {
    "Asset": "garrison.assets",
    "Finding": "garrison.findings",
    "Location": "garrison.findings",
    "Severity": "garrison.findings",
    "GarrisonError": "garrison.errors",
    "Policy": "garrison.policy",
    "load_policy": "garrison.policy",
    "Report": "garrison.report.model",
    "scan_path": "garrison.supplychain",
}


def __getattr__(name: str) -> Any:
    # Keeps `import garrison` cheap: pydantic and the scanners load on first use.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'garrison' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
