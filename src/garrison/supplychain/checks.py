"""The supply-chain checks registered in the `garrison.checks` entry-point group."""

from __future__ import annotations

import io
import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from garrison.assets import Asset
from garrison.findings import Finding
from garrison.registry import RunContext
from garrison.supplychain.context import Budget, ScanContext
from garrison.supplychain.dispatch import scan_stream
from garrison.supplychain.rules import LIMIT_REACHED, UNREADABLE, UNSCANNED

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
            info = os.stat(asset.path)
            size = info.st_size
            special = _special_kind(info.st_mode)
            if special:
                # Opening a FIFO waits for a writer, and a device never ends; what either
                # yields is made when it is read, so a loader could get anything.
                ctx.record("unknown", "unscanned", None, f"not a regular file ({special})")
                ctx.add(
                    UNSCANNED,
                    f"{special}: not a regular file, so its content exists only when read",
                    severity=run.policy.unscanned_severity,
                )
            elif size > run.policy.limits.max_file_bytes:
                ctx.add(
                    LIMIT_REACHED, f"file is {size} bytes; limit {run.policy.limits.max_file_bytes}"
                )
                ctx.record("unknown", "skipped", size, "over max_file_bytes")
            else:
                _scan_file(asset.path, ctx, path.name, size)
        except OSError as exc:
            ctx.record("unknown", "error", None, exc.strerror or str(exc))
            ctx.add(UNREADABLE, f"{exc.strerror or exc}")
        run.items.extend(ctx.items)
        return ctx.findings


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return ""


def _scan_file(path: str, ctx: ScanContext, name: str, size: int) -> None:
    with open(path, "rb", buffering=0) as raw:
        if size <= SMALL_FILE_BYTES:
            # One read, then the format checks seek in memory; a file that grew since its
            # stat is scanned from disk instead.
            data = raw.read(size + 1)
            if data is not None and len(data) <= size:
                scan_stream(io.BytesIO(data), ctx, name, len(data))
                return
            raw.seek(0)
        with io.BufferedReader(raw) as stream:
            scan_stream(stream, ctx, name, size)


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
