"""atheris target: the 7z scanner on arbitrary bytes (only GarrisonError allowed)."""

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
    from garrison.supplychain.sevenzip_scan import scan_7z

# Small limits keep each run fast; they are what a hostile file meets anyway.
POLICY = Policy.model_validate(
    {"limits": {"max_decompressed_bytes": 4 << 20, "max_archive_members": 500}}
)
MAGIC = b"7z\xbc\xaf\x27\x1c"


def TestOneInput(data: bytes) -> None:
    # Most random inputs fail the signature check; keep the magic so py7zr gets to parse.
    if not data.startswith(MAGIC):
        data = MAGIC + data
    ctx = ScanContext.for_file(Path("fuzz.7z"), POLICY)
    with contextlib.suppress(GarrisonError):
        scan_7z(io.BufferedReader(io.BytesIO(data)), ctx)
    if any(f.rule == "GA-SCAN-004" for f in ctx.findings):
        raise AssertionError([f.evidence for f in ctx.findings if f.rule == "GA-SCAN-004"])


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
