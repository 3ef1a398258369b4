"""Run fickling's safety analysis over files; executed by the fickling venv's Python.

fickling has no directory mode and its CLI cannot open zip checkpoints, so this drives its
public API the way its README does: `StackedPickle.load` + `check_safety` for pickles (as
`fickling --check-safety` does) and `PyTorchModelWrapper(...).pickled` for PyTorch zips.
Prints one JSON line per file: {"path", "severity" | null, "error"}.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from typing import Any


def analyse(path: str) -> dict[str, Any]:
    from fickling import fickle  # type: ignore[import-not-found, unused-ignore]
    from fickling.analysis import check_safety  # type: ignore[import-not-found, unused-ignore]

    try:
        if zipfile.is_zipfile(path):
            from fickling.pytorch import (  # type: ignore[import-not-found, unused-ignore]
                PyTorchModelWrapper,
            )

            programs = [PyTorchModelWrapper(path, force=True).pickled]
        else:
            with open(path, "rb") as handle:
                programs = list(fickle.StackedPickle.load(handle, fail_on_decode_error=False))
        worst = max((check_safety(p).severity for p in programs), default=None)
    except Exception as exc:  # any failure is this tool's error verdict for the file
        return {"path": path, "severity": None, "error": f"{type(exc).__name__}: {exc}"[:200]}
    return {"path": path, "severity": worst.name if worst else None, "error": ""}


def files_under(target: str) -> list[str]:
    if not os.path.isdir(target):
        return [target]
    found: list[str] = []
    for base, _, names in os.walk(target):
        found.extend(os.path.join(base, name) for name in sorted(names))
    return found


def main(argv: list[str]) -> int:
    for target in argv:
        for path in files_under(target):
            print(json.dumps(analyse(path)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
