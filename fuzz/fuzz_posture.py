"""atheris target: `garrison discover`'s analysis of one file of arbitrary bytes.

The first byte picks the file name (and so the analyser); the file is read from disk by
analyse_file exactly as discovery reads it. Nothing may raise.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris  # type: ignore[import-untyped]

# Only our own code: instrumenting sqlalchemy, pydantic... would cost a long startup.
with atheris.instrument_imports(include=["garrison"]):
    from garrison.posture.analyse import analyse_file

NAMES = (
    "app.py", "nb.ipynb", "index.ts", "main.go", "App.java", "run.sh", "Dockerfile",
    "compose.yaml", "main.tf", "policy.json", "requirements.txt", "package.json",
    "pyproject.toml", "go.mod", "notes.txt", "noext",
)  # fmt: skip
# Keeps what each analyser sees bounded, as discovery's max_text_bytes does.
MAX_TEXT_BYTES = 64 << 10
STATUSES = {"scanned", "partial", "unscanned", "skipped"}
_DIR = Path(tempfile.mkdtemp(prefix="garrison-fuzz-posture-"))


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    path = _DIR / NAMES[data[0] % len(NAMES)]
    path.write_bytes(data[1:])
    result = analyse_file(str(path), len(data) - 1, MAX_TEXT_BYTES)
    if result.item is not None and result.item.status not in STATUSES:
        raise AssertionError(result.item)


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
