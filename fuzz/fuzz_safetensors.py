"""atheris fuzz target for the safetensors header and layout scanner."""

from __future__ import annotations

import contextlib
import io
import struct
import sys
import tempfile
from pathlib import Path

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports():
    from garrison.errors import GarrisonError
    from garrison.policy import Policy
    from garrison.supplychain.context import ScanContext
    from garrison.supplychain.safetensors_scan import scan_safetensors

_POLICY = Policy.model_validate({"limits": {"max_header_bytes": 1 << 20}})
_PATH = Path(tempfile.gettempdir()) / "garrison-fuzz.safetensors"


def _with_length(data: bytes) -> bytes:
    # A header length that fits the input, so the JSON and layout checks get exercised.
    split = data[0] if data else 0
    return struct.pack("<Q", min(split, max(len(data) - 1, 0))) + data[1:]


def _as_header(data: bytes) -> bytes:
    # The fuzzer rarely invents '{' plus a matching length: supply both, keep a data tail.
    cut = len(data) * 3 // 4
    header = b'{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' + data[:cut]
    return struct.pack("<Q", len(header)) + header + data[cut:]


def TestOneInput(data: bytes) -> None:
    for candidate in (data, _with_length(data), _as_header(data)):
        ctx = ScanContext.for_file(_PATH, _POLICY)
        with contextlib.suppress(GarrisonError):
            scan_safetensors(io.BytesIO(candidate), ctx)


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
