"""Route bytes to the scanner for their format, and turn scanner failures into findings."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import BinaryIO

from garrison.errors import LimitExceeded, MissingExtraError, ParseError
from garrison.supplychain import formats
from garrison.supplychain.context import ScanContext
from garrison.supplychain.rules import LIMIT_REACHED, MALFORMED, SCANNER_ERROR, UNSCANNED

log = logging.getLogger(__name__)

Handler = Callable[[BinaryIO, ScanContext], None]

# format -> "module:function"; imported on first use so start-up stays cheap.
HANDLERS: dict[str, str] = {
    "pickle": "garrison.supplychain.pickle_scan:scan_pickle",
    "zip": "garrison.supplychain.zip_scan:scan_zip",
    "tar": "garrison.supplychain.tar_scan:scan_tar",
    "7z": "garrison.supplychain.sevenzip_scan:scan_7z",
    "gzip": "garrison.supplychain.compression:scan_compressed",
    "bz2": "garrison.supplychain.compression:scan_compressed",
    "xz": "garrison.supplychain.compression:scan_compressed",
    "lzma": "garrison.supplychain.compression:scan_compressed",
    "zlib": "garrison.supplychain.compression:scan_compressed",
    "npy": "garrison.supplychain.numpy_scan:scan_npy",
    "safetensors": "garrison.supplychain.safetensors_scan:scan_safetensors",
    "gguf": "garrison.supplychain.gguf_scan:scan_gguf",
    "hdf5": "garrison.supplychain.keras_scan:scan_hdf5",
    "json": "garrison.supplychain.keras_scan:scan_json",
    "onnx": "garrison.supplychain.onnx_scan:scan_onnx",
    "savedmodel": "garrison.supplychain.savedmodel_scan:scan_savedmodel",
}


_LOADED: dict[str, Handler] = {}


def handler_for(fmt: str) -> Handler | None:
    handler = _LOADED.get(fmt)
    if handler is not None:
        return handler
    target = HANDLERS.get(fmt)
    if target is None:
        return None
    module, func = target.split(":")
    loaded: Handler = getattr(importlib.import_module(module), func)
    _LOADED[fmt] = loaded
    return loaded


def scan_stream(stream: BinaryIO, ctx: ScanContext, name: str = "", size: int | None = None) -> str:
    """Detect the format of `stream` and scan it; returns the format name."""
    fmt = formats.detect(stream, name, size)
    suffix = formats.model_suffix(name) if fmt in ("unknown", "text") else ""
    if suffix and not ctx.speculative:
        _unread_model(stream, ctx, fmt, suffix, size)
    else:
        run_handler(fmt, stream, ctx, size)
    if fmt != "zip" and size and formats.has_zip_tail(stream, size):
        # A zip directory at the end of another format: loaders that open zips by their
        # tail (torch.load, numpy.load) see a different file than the head suggests.
        run_handler("zip", stream, ctx, size)
    return fmt


def _unread_model(
    stream: BinaryIO, ctx: ScanContext, fmt: str, suffix: str, size: int | None
) -> None:
    """A file named like a model whose bytes match no format: unscanned, never passed."""
    stream.seek(0)
    if stream.read(len(formats.LFS_POINTER)) == formats.LFS_POINTER:
        title = "Git LFS pointer in place of a model file"
        detail = "the model was never fetched: run git lfs pull, then scan again"
    else:
        title = "Model file in a format Garrison does not read"
        detail = f"named {suffix} but its bytes match no format Garrison reads"
    stream.seek(0)
    ctx.record(fmt, "unscanned", size, detail)
    ctx.add(UNSCANNED, detail, severity=ctx.policy.unscanned_severity, title=title)


def run_handler(fmt: str, stream: BinaryIO, ctx: ScanContext, size: int | None = None) -> None:
    handler = handler_for(fmt)
    if handler is None:
        if fmt in formats.UNSCANNED:
            ctx.record(fmt, "unscanned", size)
            ctx.add(
                UNSCANNED,
                f"{formats.UNSCANNED[fmt]}: no scanner for this format",
                severity=ctx.policy.unscanned_severity,
            )
        else:
            ctx.record(fmt, "skipped", size)
        return
    try:
        stream.seek(0)
        handler(stream, ctx)
        ctx.record(fmt, "scanned", size)
    except MissingExtraError as exc:
        ctx.record(fmt, "unscanned", size, str(exc))
        ctx.add(UNSCANNED, f"{fmt}: {exc}", severity=ctx.policy.unscanned_severity)
    except LimitExceeded as exc:
        ctx.record(fmt, "partial", size, str(exc))
        ctx.add(LIMIT_REACHED, str(exc))
    except ParseError as exc:
        if ctx.speculative:
            ctx.record(fmt, "skipped", size, "not this format")
            return
        ctx.record(fmt, "error", size, str(exc))
        ctx.add(MALFORMED, f"{fmt}: {exc}")
    except RecursionError:
        ctx.record(fmt, "partial", size, "nesting too deep")
        ctx.add(LIMIT_REACHED, "structure nested too deeply to analyse")
    except Exception as exc:
        if ctx.debug:
            raise
        log.debug("scanner for %s failed on %s", fmt, ctx.display_name, exc_info=True)
        ctx.record(fmt, "error", size, type(exc).__name__)
        ctx.add(SCANNER_ERROR, f"{fmt} scanner failed: {type(exc).__name__}: {exc}")


def scan_nested_stream(
    stream: BinaryIO,
    ctx: ScanContext,
    member: str,
    size: int | None = None,
    speculative: bool = False,
) -> str | None:
    """Scan a member found inside another file (archive entry, embedded payload).

    The stream must be seekable. Returns the detected format, or None when the
    nesting limit stopped the scan (which is reported as a finding).
    """
    try:
        child = ctx.child(member, speculative=speculative)
    except LimitExceeded as exc:
        ctx.add(LIMIT_REACHED, f"{member}: {exc}")
        return None
    return scan_stream(stream, child, member, size)


def scan_nested_bytes(
    data: bytes, ctx: ScanContext, member: str, speculative: bool = False
) -> str | None:
    """Scan an in-memory payload (bytes handed to pickle.loads, a decompressed blob...)."""
    import io

    return scan_nested_stream(io.BytesIO(data), ctx, member, len(data), speculative)
