"""Posture: AI asset discovery (shadow AI) and configuration checks (`garrison discover`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["DiscoveredAsset", "Discovery", "PosturePolicy", "discover"]

if TYPE_CHECKING:
    from garrison.posture.config import PosturePolicy
    from garrison.posture.discovery import Discovery, discover
    from garrison.posture.observations import DiscoveredAsset

_LAZY = {
    "DiscoveredAsset": "garrison.posture.observations",
    "Discovery": "garrison.posture.discovery",
    "PosturePolicy": "garrison.posture.config",
    "discover": "garrison.posture.discovery",
}


def __getattr__(name: str) -> Any:
    # The policy imports garrison.posture.config; keep the package itself free to import.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'garrison.posture' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
