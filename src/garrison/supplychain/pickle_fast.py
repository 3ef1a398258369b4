"""The optional C first pass over pickles (`_walk.c`), and what its answers prove.

The C walk models a subset of the Python machine in `pickle_vm`: when it reaches STOP it
has handled every opcode the way the Python machine would, without an error or anomaly, and
returns every import. Any other answer means "run the Python machine", which stays the
reference. GARRISON_PURE_PYTHON=1 turns the C pass off.
"""

from __future__ import annotations

import os
from types import ModuleType

COMPLETE, BUDGET, TRUNCATED, ERROR, UNSUPPORTED = range(5)
MAX_BYTES = 1 << 20  # larger pickles go straight to the Python machine


def _load() -> ModuleType | None:
    if os.environ.get("GARRISON_PURE_PYTHON"):
        return None
    try:
        from garrison.supplychain import _walk
    except ImportError:  # no compiler at install time: the Python machine does everything
        return None
    return _walk


_NATIVE = _load()
AVAILABLE = _NATIVE is not None


def proves_pickle(head: bytes, budget: int) -> bool:
    """True when the sniff of `head` would accept it; False means "ask the Python sniff"."""
    if _NATIVE is None:
        return False
    status = _NATIVE.walk(head, 1000, budget, True)[0]
    return status in (COMPLETE, BUDGET)


def one_clean_walk(data: bytes, max_stack: int) -> tuple[int, list[tuple[str, str]]] | None:
    """(opcodes, imports) when `data` is exactly one pickle the C pass modelled throughout."""
    if _NATIVE is None or len(data) > MAX_BYTES:
        return None
    status, opcodes, end, imports = _NATIVE.walk(data, max_stack, -1, False)
    if status != COMPLETE or end != len(data):
        return None
    return opcodes, imports
