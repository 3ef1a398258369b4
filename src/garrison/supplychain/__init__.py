"""Supply chain: static scanning of model files, archives and model directories."""

from __future__ import annotations

from garrison.supplychain.scan import scan_path

__all__ = ["scan_path"]
