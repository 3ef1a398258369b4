"""Jupyter notebooks: their code cells go through the same AST checks as Python files."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from garrison.assets import Asset
from garrison.findings import Location
from garrison.posture.observations import NOTEBOOK, DiscoveredAsset, Observations
from garrison.posture.python_ast import TRIGGER, LineMap, analyse_python

_MAGIC = re.compile(r"^(\s*)[%!]")


def notebook_code(data: Any) -> tuple[str, list[tuple[int, int]]]:
    """The code cells joined into one module, and where each cell starts in it.

    IPython magics and shell lines become `pass` so the rest of the cell still parses;
    cells with a cell magic (%%bash...) are left out whole.
    """
    cells = data.get("cells") if isinstance(data, dict) else None
    lines: list[str] = []
    starts: list[tuple[int, int]] = []
    for index, cell in enumerate(cells if isinstance(cells, list) else []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        text = (
            "".join(s for s in source if isinstance(s, str))
            if isinstance(source, list)
            else source
            if isinstance(source, str)
            else ""  # never str() a structure: it may be nested deep enough to overflow
        )
        if text.lstrip().startswith("%%"):
            continue
        starts.append((len(lines) + 1, index))
        for line in text.splitlines():
            magic = _MAGIC.match(line)
            lines.append(f"{magic.group(1)}pass" if magic else line)
    return "\n".join(lines) + "\n", starts


def analyse_notebook(text: str, path: Path, asset: Asset) -> Observations:
    """Observations of a notebook: the notebook itself and what its code cells do."""
    out = Observations()
    out.assets.append(
        DiscoveredAsset(NOTEBOOK, "jupyter", asset, Location(path=str(path)), "notebook")
    )
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json allows
        return out
    code, starts = notebook_code(data)
    if TRIGGER.search(code):
        # A cell in another kernel's language, or broken code: keys are still searched.
        with contextlib.suppress(SyntaxError, ValueError, RecursionError):
            out.extend(analyse_python(code, path, asset, LineMap(str(path), starts)))
    return out


def cell_locator(text: str, path: str) -> Callable[[str, int], Location]:
    """Where a string found in a notebook's raw JSON sits: `cell N` (or `cell N output`)
    and its line in that cell, as other notebook findings say; else the raw JSON line."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    cells = data.get("cells") if isinstance(data, dict) else None
    texts: list[tuple[str, str]] = []  # (member, text)
    for index, cell in enumerate(cells if isinstance(cells, list) else []):
        if not isinstance(cell, dict):
            continue
        texts.append((f"cell {index}", _joined(cell.get("source"))))
        for output in cell.get("outputs") or []:
            if isinstance(output, dict):
                data_text = output.get("data")
                plain = data_text.get("text/plain") if isinstance(data_text, dict) else None
                texts.append((f"cell {index} output", _joined(output.get("text")) + _joined(plain)))

    def locate(found: str, raw_line: int) -> Location:
        for member, body in texts:
            at = body.find(found)
            if at >= 0:
                return Location(path=path, member=member, line=body.count("\n", 0, at) + 1)
        return Location(path=path, line=raw_line)

    return locate


def _joined(source: object) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return ""
