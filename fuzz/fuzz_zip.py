"""atheris target: the zip reader and scanner on arbitrary bytes (only GarrisonError allowed)."""

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
    from garrison.supplychain.zip_scan import read_directory, read_local_header, scan_zip

# Small limits keep each run fast; they are what a hostile file meets anyway.
POLICY = Policy.model_validate(
    {"limits": {"max_decompressed_bytes": 4 << 20, "max_archive_members": 500}}
)


def TestOneInput(data: bytes) -> None:
    stream = io.BytesIO(data)
    try:
        directory = read_directory(stream, len(data), 500, 1 << 20)
        for entry in directory.entries:
            read_local_header(stream, entry, directory.cd_start)
    except GarrisonError:
        pass
    ctx = ScanContext.for_file(Path("fuzz.zip"), POLICY)
    with contextlib.suppress(GarrisonError):
        scan_zip(io.BytesIO(data), ctx)
    if any(f.rule == "GA-SCAN-004" for f in ctx.findings):
        raise AssertionError([f.evidence for f in ctx.findings if f.rule == "GA-SCAN-004"])


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
