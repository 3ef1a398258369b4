"""atheris fuzz target for the pickle scanner (VM, policy, joblib emulation, legacy torch).

It also checks the C first pass against the Python machine: whenever the C walk completes a
program, the Python machine must complete the same one with the same imports.
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from pathlib import Path

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports():
    from garrison.errors import GarrisonError
    from garrison.policy import Policy
    from garrison.supplychain import pickle_fast
    from garrison.supplychain.context import ScanContext
    from garrison.supplychain.pickle_scan import scan_pickle
    from garrison.supplychain.pickle_vm import VMLimits, analyse, looks_like_pickle

_POLICY = Policy.model_validate({"limits": {"max_opcodes": 100_000, "max_nested_bytes": 1 << 20}})
_PATH = Path(tempfile.gettempdir()) / "garrison-fuzz.pkl"


def TestOneInput(data: bytes) -> None:
    looks_like_pickle(data[:4096])
    ctx = ScanContext.for_file(_PATH, _POLICY)
    with contextlib.suppress(GarrisonError):
        scan_pickle(io.BytesIO(data), ctx)
    walked = pickle_fast.one_clean_walk(data, 1000)
    if walked is not None:
        program = analyse(io.BytesIO(data), 0, VMLimits(len(data), 1000, _free))
        imports = [(g.module, g.name) for g in program.globals]
        assert program.complete and program.error is None and imports == walked[1], data


def _free(_: int) -> None:
    return None


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
