"""atheris target: the .npy header parser and scanner on arbitrary bytes."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports():
    from garrison.errors import GarrisonError
    from garrison.policy import Policy
    from garrison.supplychain.context import ScanContext
    from garrison.supplychain.numpy_scan import has_objects, itemsize, read_header, scan_npy

POLICY = Policy.model_validate({})


def TestOneInput(data: bytes) -> None:
    try:
        header = read_header(io.BytesIO(data))
        has_objects(header.descr)
        itemsize(header.descr)
    except GarrisonError:
        pass
    ctx = ScanContext.for_file(Path("fuzz.npy"), POLICY)
    with contextlib.suppress(GarrisonError):
        scan_npy(io.BytesIO(data), ctx)


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
