"""Every atheris fuzz target runs a short session without a crash or hang."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FUZZ_DIR = Path(__file__).resolve().parents[2] / "fuzz"
TARGETS = sorted(FUZZ_DIR.glob("fuzz_*.py"))

pytest.importorskip("atheris")


def test_there_is_a_target_per_untrusted_parser() -> None:
    names = {t.stem for t in TARGETS}
    for parser in (
        "pickle", "zip", "npy", "safetensors", "gguf", "bundle", "guard", "posture", "sse",
        "json_bounds",
    ):  # fmt: skip
        assert f"fuzz_{parser}" in names


@pytest.mark.parametrize("target", TARGETS, ids=lambda p: p.stem)
def test_fuzz_target_survives_a_short_run(target: Path, tmp_path: Path) -> None:
    runs = os.environ.get("GARRISON_FUZZ_RUNS", "4000")
    proc = subprocess.run(
        [
            sys.executable,
            str(target),
            f"-runs={runs}",
            "-max_total_time=40",
            "-timeout=10",
            f"-artifact_prefix={tmp_path}/",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
