"""benchmarks/provenance.py --quick runs end to end and writes figures that make sense."""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "provenance.py"

pytestmark = pytest.mark.skipif(
    shutil.which("sha256sum") is None, reason="the benchmark compares against sha256sum"
)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("provenance")
    out = tmp / "provenance.json"
    cmd = [sys.executable, str(SCRIPT), "--quick", "--repeats", "2"]
    run = subprocess.run(
        [*cmd, "--output", str(out), "--work", str(tmp / "work")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return out, json.loads(out.read_text(encoding="utf-8"))


def test_hashing_figures(quick_run: tuple[Path, dict[str, Any]]) -> None:
    results = quick_run[1]
    assert {"machine", "meta", "hash_2gb", "directory_1000", "claims"} <= set(results)
    assert results["meta"]["quick"] is True
    hashed = results["hash_2gb"]
    assert hashed["bytes"] == 64 << 20
    assert hashed["digests_match"] is True
    for name in ("sha256sum", "garrison"):
        row = hashed["tools"][name]
        assert "error" not in row
        assert len(row["runs"]) == 2
        assert row["seconds"] > 0
        assert row["mb_per_s"] == pytest.approx(hashed["bytes"] / 1e6 / row["seconds"], rel=0.01)
    ours = hashed["tools"]["garrison"]
    assert hashed["ratio"] == pytest.approx(
        hashed["tools"]["sha256sum"]["seconds"] / ours["seconds"], rel=0.01
    )
    assert 0 < ours["in_process_seconds"] <= ours["seconds"]
    # Streaming: hashing a 64 MB file must not hold the file in memory.
    assert 0 < ours["baseline_rss_mb"] <= ours["peak_rss_mb"]
    assert ours["rss_over_baseline_mb"] < 16


def test_directory_figures(quick_run: tuple[Path, dict[str, Any]]) -> None:
    data = quick_run[1]["directory_1000"]
    assert data["files"] == 100
    assert data["bytes"] > 2 << 20  # two files of 1 MiB and 98 of 1-64 KiB
    tools = data["tools"]
    for name in ("garrison ed25519", "garrison ecdsa-p256"):
        for verb in ("sign", "verify"):
            row = tools[name][verb]
            assert "error" not in row, row
            assert row["seconds"] > 0 and row["peak_rss_mb"] > 0
    assert tools["sha256sum"]["hash"]["seconds"] > 0
    if "model-signing ecdsa-p256" in tools:  # the reference library, when installed
        assert "error" not in tools["model-signing ecdsa-p256"]["verify"]
        assert data["interop"] == {
            "model_signing_verifies_garrison": True,
            "garrison_verifies_model_signing": True,
        }


def test_tables_from_json(quick_run: tuple[Path, dict[str, Any]]) -> None:
    out = quick_run[0]
    cmd = [sys.executable, str(SCRIPT), "--tables", "--output", str(out)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)
    assert "| garrison ed25519 |" in run.stdout
    assert "Garrison / sha256sum throughput" in run.stdout
    assert "hash digests match" in run.stdout
