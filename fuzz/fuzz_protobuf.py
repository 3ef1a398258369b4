"""Fuzz the protobuf wire reader, the protobuf sniffer and the ONNX / SavedModel scanners."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from garrison.errors import GarrisonError
    from garrison.policy import Policy
    from garrison.supplychain.context import ScanContext
    from garrison.supplychain.onnx_scan import scan_onnx
    from garrison.supplychain.protobuf_sniff import sniff_protobuf
    from garrison.supplychain.protobuf_wire import LEN, Source, iter_fields
    from garrison.supplychain.savedmodel_scan import scan_savedmodel

_POLICY = Policy()
_PATH = Path("/nonexistent/fuzz/model.onnx")


def _walk(src: Source, start: int, end: int, depth: int) -> None:
    for field in iter_fields(src, start, end, depth):
        if field.wire_type == LEN and field.value:
            with contextlib.suppress(GarrisonError):  # not every LEN field is a message
                _walk(src, field.start, field.end, depth + 1)


def TestOneInput(data: bytes) -> None:
    sniff_protobuf(data[:4096], "model.bin")
    for scan in (scan_onnx, scan_savedmodel):
        ctx = ScanContext.for_file(_PATH, _POLICY)
        with contextlib.suppress(GarrisonError):
            scan(io.BytesIO(data), ctx)
    with contextlib.suppress(GarrisonError):
        _walk(Source(data), 0, len(data), 0)


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
