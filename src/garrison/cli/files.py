"""Where commands write: checked before the work starts, and failures told as the user's."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from garrison.errors import UsageError


def check_output(path: Path | None, option: str = "--output") -> None:
    """Refuse an output file that cannot be written, before a long scan or run is wasted."""
    if path is None or str(path) == "-":
        return
    if path.is_dir():
        raise UsageError(f"{option} {path} is a directory; give a file name")
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"output directory does not exist: {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write into {parent}: permission denied")


def write_output(path: Path | None, text: str) -> bool:
    """Write `text` to `path`, or to stdout when it is None or "-"; True when a file was written."""
    if not text.endswith("\n"):
        text += "\n"
    if path is None or str(path) == "-":
        sys.stdout.write(text)
        return False
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    return True
