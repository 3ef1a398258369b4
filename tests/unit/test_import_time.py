"""Importing Garrison, or listing its rules, loads no heavy library."""

import subprocess
import sys

import pytest

HEAVY = ("torch", "numpy", "sklearn", "onnx", "h5py", "keras")


@pytest.mark.parametrize(
    ("statement", "forbidden"),
    [
        ("import garrison", (*HEAVY, "pydantic", "rich", "sqlalchemy", "alembic")),
        ("from garrison.rules import all_rules; all_rules()", HEAVY),
    ],
)
def test_import_loads_no_heavy_modules(statement: str, forbidden: tuple[str, ...]) -> None:
    code = f"import sys; {statement}; print(','.join(m for m in {forbidden!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
