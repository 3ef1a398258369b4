"""The supply-chain checks registered in the `garrison.checks` entry-point group."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from pathlib import Path

from garrison.assets import Asset
from garrison.findings import Finding
from garrison.registry import RunContext
from garrison.supplychain.context import Budget, ScanContext
from garrison.supplychain.dispatch import scan_stream
from garrison.supplychain.rules import LIMIT_REACHED, UNREADABLE

log = logging.getLogger(__name__)

SMALL_FILE_BYTES = 64 * 1024


class ModelFileCheck:
    """Static analysis of one file of any model format, by its bytes."""

    id = "supplychain.model-file"
    area = "supplychain"

    def applies_to(self, asset: Asset) -> bool:
        return asset.kind == "file" and asset.path is not None

    def run(self, asset: Asset, run: RunContext) -> Iterable[Finding]:
        assert asset.path is not None
        path = Path(asset.path)
        ctx = ScanContext.for_file(path, run.policy, debug=run.debug, asset=asset)
        try:
            size = path.stat().st_size
            if size > run.policy.limits.max_file_bytes:
                ctx.add(
                    LIMIT_REACHED, f"file is {size} bytes; limit {run.policy.limits.max_file_bytes}"
                )
                ctx.record("unknown", "skipped", size, "over max_file_bytes")
            else:
                with path.open("rb") as stream:
                    if size <= SMALL_FILE_BYTES:  # one read; the format checks then seek in memory
                        scan_stream(io.BytesIO(stream.read()), ctx, path.name, size)
                    else:
                        scan_stream(stream, ctx, path.name, size)
        except OSError as exc:
            ctx.record("unknown", "error", None, exc.strerror or str(exc))
            ctx.add(UNREADABLE, f"{exc.strerror or exc}")
        run.items.extend(ctx.items)
        return ctx.findings


class ModelDirectoryCheck:
    """Directory-level red flags: custom code that needs trust_remote_code, code beside weights."""

    id = "supplychain.model-directory"
    area = "supplychain"

    def applies_to(self, asset: Asset) -> bool:
        return asset.kind == "directory" and asset.path is not None

    def run(self, asset: Asset, run: RunContext) -> Iterable[Finding]:
        from garrison.supplychain.hf_dir import scan_directory

        assert asset.path is not None
        path = Path(asset.path)
        ctx = ScanContext(
            policy=run.policy,
            asset=asset,
            path=path,
            budget=Budget(run.policy.limits),
            debug=run.debug,
        )
        scan_directory(path, ctx)
        run.items.extend(ctx.items)
        return ctx.findings
