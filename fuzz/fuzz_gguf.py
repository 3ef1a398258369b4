"""atheris fuzz target for the GGUF scanner and the chat-template analyser it feeds."""

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
    from garrison.supplychain.gguf_scan import scan_gguf
    from garrison.supplychain.jinja_template import analyse_template

_POLICY = Policy.model_validate({"limits": {"max_header_bytes": 1 << 20}})
_PATH = Path(tempfile.gettempdir()) / "garrison-fuzz.gguf"


def _with_header(data: bytes) -> bytes:
    # Most inputs should get past the magic and counts to exercise the metadata parser.
    counts = struct.pack("<IQQ", 3, data[0] % 4 if data else 0, data[1] % 8 if len(data) > 1 else 1)
    return b"GGUF" + counts + data[2:]


def TestOneInput(data: bytes) -> None:
    for candidate in (data, _with_header(data)):
        ctx = ScanContext.for_file(_PATH, _POLICY)
        with contextlib.suppress(GarrisonError):
            scan_gguf(io.BytesIO(candidate), ctx)
    analyse_template(data.decode("utf-8", "replace"))


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
